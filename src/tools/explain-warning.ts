import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { findWarning, KNOWN_TAGS, normalizeTag } from "../warnings/catalog.js";
import { NEXT_ACTIONS, WARNING_SOURCES } from "../warnings/types.js";

export const EXPLAIN_TOOL_NAME = "explain_warning";

export const explainInputSchema = z.strictObject({
  tag: z
    .string()
    .min(1)
    .max(200)
    .describe(
      "A warning `risk` tag from a liveness or face-match result, e.g. LOW_LIVENESS_SCORE or LOW_FACE_MATCH_SIMILARITY. Case-insensitive; spaces and hyphens count as underscores.",
    ),
});
export type ExplainInput = z.output<typeof explainInputSchema>;

export const explainOutputSchema = z.object({
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
export type ExplainOutput = z.output<typeof explainOutputSchema>;

export const explainToolConfig = {
  title: "Explain a liveness warning",
  description:
    "Explains a Didit passive-liveness or face-match warning tag (the `risk` of a warning), including which results it applies to: what it means, its likely causes, the next action, how to guide the agent and what to tell the person. Works offline from a built-in catalog; unknown tags return known: false with the list of known tags.",
  inputSchema: explainInputSchema,
  outputSchema: explainOutputSchema,
  annotations: {
    title: "Explain a liveness warning",
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
};

export function explainWarning(rawTag: string): ExplainOutput {
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
    explanation: `${tag} is not one of the ${KNOWN_TAGS.length} tags Didit documents for passive liveness and face match; it may be new or from another Didit feature.`,
    likely_causes: ["A tag Didit added after this server was released.", "A typo in the tag."],
    next_action: "review",
    agent_guidance:
      "Check the spelling against known_tags. If the tag really came from a result, rely on its log_type: an error-level unknown tag means a human should review the case; otherwise read the result's status.",
    user_message: "We need a moment to check your photo; we will let you know if anything else is needed.",
    known_tags: [...KNOWN_TAGS],
  };
}

export function handleExplain(input: ExplainInput): CallToolResult {
  const result = explainWarning(input.tag);
  return {
    content: [{ type: "text", text: JSON.stringify(result) }],
    structuredContent: result as unknown as Record<string, unknown>,
  };
}
