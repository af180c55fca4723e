import { z } from "zod";
import { DOCUMENTED_TAGS, findWarning, normalizeTag } from "./catalog.js";
import { NEXT_ACTIONS, WARNING_SOURCES } from "./types.js";

export const explanationSchema = z.object({
  tag: z.string().describe("The tag, normalized to upper snake case."),
  known: z.boolean().describe("False when the tag is not one Didit documents for these endpoints."),
  applies_to: z
    .array(z.enum(WARNING_SOURCES))
    .describe(
      "Which results can carry it: liveness (check_passive_liveness) and/or face_match (match_faces); empty when unknown.",
    ),
  severity: z
    .enum(["error", "warning", "information", "configurable", "unknown"])
    .describe("The log_type Didit uses for it; configurable: operators choose."),
  declines: z.boolean().nullable().describe("Whether this tag alone declines the check; null when unknown."),
  title: z.string().describe("A few words naming the warning."),
  explanation: z.string().describe("What the tag means."),
  likely_causes: z.array(z.string()).describe("Concrete reasons it tends to fire."),
  next_action: z
    .enum(NEXT_ACTIONS)
    .describe("proceed, retake, review or reject, as the check tools use them."),
  agent_guidance: z.string().describe("How an agent should act on it."),
  user_message: z.string().describe("What to tell the person, in plain words."),
  known_tags: z.array(z.string()).optional().describe("Every documented tag (only for an unknown tag)."),
});
/** What explain_warning answers, and what the warning resources hold. */
export type WarningExplanation = z.output<typeof explanationSchema>;

/** A tag explained from the catalog, or an answer saying it is unknown with the tags that are known. */
export function explainWarning(rawTag: string): WarningExplanation {
  const tag = normalizeTag(rawTag);
  const entry = findWarning(tag);
  if (entry) {
    const {
      applies_to,
      severity,
      declines,
      title,
      explanation,
      likely_causes,
      next_action,
      agent_guidance,
      user_message,
    } = entry;
    return {
      tag,
      known: true,
      applies_to: [...applies_to],
      severity,
      declines,
      title,
      explanation,
      likely_causes: [...likely_causes],
      next_action,
      agent_guidance,
      user_message,
    };
  }
  return {
    tag,
    known: false,
    applies_to: [],
    severity: "unknown",
    declines: null,
    title: "Unknown warning tag",
    explanation: `${tag} is not one of the ${DOCUMENTED_TAGS.length} tags Didit documents for passive liveness and face match; it may be new or from another Didit feature.`,
    likely_causes: ["A tag Didit added after this server was released.", "A typo in the tag."],
    next_action: "review",
    agent_guidance:
      "Check the spelling against known_tags. If the tag really came from a result, a human should review the case whatever its log_type: the check tools answer next_action review for any tag they do not know.",
    user_message: "We need a moment to check your photo; we will let you know if anything else is needed.",
    known_tags: [...DOCUMENTED_TAGS],
  };
}
