import { z } from "zod";
import { EXPLAIN_TOOL_NAME } from "../../config/tool-names.js";
import { explainWarning, explanationSchema } from "../../warnings/explain.js";
import { defineTool } from "./tool.js";

export { EXPLAIN_TOOL_NAME };

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

export const explainTool = defineTool({
  name: EXPLAIN_TOOL_NAME,
  title: "Explain a liveness warning",
  describe: () =>
    "Explains a Didit passive-liveness or face-match warning tag (the `risk` of a warning), including which results it applies to: what it means, its likely causes, the next action, how to guide the agent and what to tell the person. Works offline from a built-in catalog; unknown tags return known: false with the list of known tags.",
  inputSchema: explainInputSchema,
  outputSchema: explanationSchema,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  createHandler: () => async (input) => explainWarning(input.tag),
});
