import { z } from "zod";
import { runFaceMatch } from "../face-match/match.js";
import { faceMatchResultSchema } from "../face-match/result.js";
import { imageInputFieldsFor } from "./image-input.js";
import { defineTool, paidToolDescription } from "./tool.js";

export const MATCH_TOOL_NAME = "match_faces";

/** The optional Didit fields match_faces and verify_selfie share, described once. */
export const faceMatchThresholdField = z
  .number()
  .min(0)
  .max(100)
  .optional()
  .describe(
    "Similarity score (0-100) at or below which Didit declines the match with LOW_FACE_MATCH_SIMILARITY; only a score strictly above it approves. Default on Didit's side: 30.",
  );

export const sharedFaceFields = {
  rotate_image: z
    .boolean()
    .optional()
    .describe(
      "Let Didit try 90-degree rotations of the images and use the best (best_angle). Default: false.",
    ),
  save_api_request: z
    .boolean()
    .optional()
    .describe(
      "Store the call(s) as sessions in Didit's Business Console. Default: true; false stores nothing and returns one-off request_ids.",
    ),
  vendor_data: z
    .string()
    .max(1024)
    .optional()
    .describe("Your identifier for the person (a UUID or email); echoed back. Default: none."),
  metadata: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "A JSON object (at most 64 KB serialized) stored with the call(s) and echoed back. Default: none.",
    ),
};

export const imagePairFields = {
  ...imageInputFieldsFor("user_", "selfie"),
  ...imageInputFieldsFor("ref_", "reference photo, typically the ID document's portrait,"),
};

export const matchInputSchema = z.strictObject({
  ...imagePairFields,
  face_match_score_decline_threshold: faceMatchThresholdField,
  ...sharedFaceFields,
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
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  createHandler: (context) => (input, call) => runFaceMatch(context, input, call),
});
