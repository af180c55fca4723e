import { z } from "zod";
import { CHECK_TOOL_NAME } from "../../config/tool-names.js";
import { runLivenessCheck } from "../../flows/liveness/check.js";
import { livenessResultSchema } from "../../flows/liveness/result.js";
import { diditRequestFields, imageInputFields, livenessThresholdField } from "./input-fields.js";
import { defineTool, paidToolDescription } from "./tool.js";

export { CHECK_TOOL_NAME };

export const checkInputSchema = z.strictObject({
  ...imageInputFields,
  face_liveness_score_decline_threshold: livenessThresholdField,
  ...diditRequestFields,
  include_face_attributes: z
    .boolean()
    .default(false)
    .describe("Return each detected face's estimated age and gender. Default: false (they are omitted)."),
});
export type CheckInput = z.output<typeof checkInputSchema>;

export const checkTool = defineTool({
  name: CHECK_TOOL_NAME,
  title: "Check passive face liveness (Didit)",
  describe: paidToolDescription(
    "Checks whether a single face photo shows a live person (not a printed photo, screen replay or mask) with Didit's Passive Liveness API. " +
      "It uploads the face image to Didit (verification.didit.me), consumes one Didit credit per answered check, and the check is stored in Didit's Business Console unless save_api_request is false. " +
      "Give the image as image_path (inside the allowed directories), image_base64, or image_url (an https link the server downloads first). " +
      "Act on next_action: proceed, retake (ask for a new photo; the summary says how), review (a human decides) or reject (do not retry). " +
      "Use explain_warning to understand a warning tag.",
  ),
  inputSchema: checkInputSchema,
  outputSchema: livenessResultSchema,
  view: true,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  createHandler: (context) => (input, call) => runLivenessCheck(context, input, call),
});
