import { z } from "zod";
import { MATCH_TOOL_NAME } from "../../config/tool-names.js";
import { runFaceMatch } from "../../flows/face-match/match.js";
import { faceMatchResultSchema } from "../../flows/face-match/result.js";
import { diditRequestFields, faceMatchThresholdField, imagePairFields } from "./input-fields.js";
import { defineTool, paidToolDescription } from "./tool.js";

export { MATCH_TOOL_NAME };

export const matchInputSchema = z.strictObject({
  ...imagePairFields,
  face_match_score_decline_threshold: faceMatchThresholdField,
  ...diditRequestFields,
});
export type MatchInput = z.output<typeof matchInputSchema>;

export const matchTool = defineTool({
  name: MATCH_TOOL_NAME,
  title: "Match a selfie to a reference photo (Didit)",
  describe: paidToolDescription(
    "Compares the face in a selfie with the face in a reference photo (typically the portrait on an ID document) with Didit's Face Match API. " +
      "It uploads BOTH images to Didit (verification.didit.me), consumes one Didit credit per answered match, and the match is stored in Didit's Business Console unless save_api_request is false. " +
      "It does not check liveness: for a selfie-vs-ID verification use verify_selfie, which checks liveness first and only then matches. " +
      "Give each image as a path (user_image_path, ref_image_path; inside the allowed directories), base64 (user_image_base64, ref_image_base64) or an https URL (user_image_url, ref_image_url). " +
      "Approved only when the score is strictly above face_match_score_decline_threshold (default 30). Act on next_action: proceed, retake or review.",
  ),
  inputSchema: matchInputSchema,
  outputSchema: faceMatchResultSchema,
  view: true,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  createHandler: (context) => (input, call) => runFaceMatch(context, input, call),
});
