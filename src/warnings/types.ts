/** What an agent should do next with a liveness result. Shared by the check, the catalog and the docs. */
export const NEXT_ACTIONS = ["proceed", "retake", "review", "reject"] as const;
export type NextAction = (typeof NEXT_ACTIONS)[number];

/** How a tag behaves on the standalone endpoint(s) it applies to (see the API contract). */
export type Severity = "error" | "warning" | "information" | "configurable";

/** The Didit calls a tag can come back from. */
export const WARNING_SOURCES = ["liveness", "face_match"] as const;
export type WarningSource = (typeof WARNING_SOURCES)[number];

export interface WarningEntry {
  /** The API's `risk` value, upper snake case. */
  tag: string;
  /** Which results can carry it: check_passive_liveness (liveness), match_faces (face_match), or both. */
  applies_to: readonly WarningSource[];
  /** The `log_type` Didit documents for this endpoint, or "configurable" where workflows decide. */
  severity: Severity;
  /** Whether this tag alone makes the standalone endpoint answer `Declined`. */
  declines: boolean;
  /** A few words, title case. */
  title: string;
  /** What the tag means, two or three sentences, for an agent. */
  explanation: string;
  /** Concrete reasons this tends to fire. */
  likely_causes: string[];
  /** What to do when this tag is present (used to derive the check's next_action). */
  next_action: NextAction;
  /** How an agent should act: what to tell the user, whether to retry, whether to involve a human. */
  agent_guidance: string;
  /** A sentence or two addressed to the end user (the person in the photo); plain words, no jargon. */
  user_message: string;
}
