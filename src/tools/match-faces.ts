import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { UploadState } from "../errors.js";
import { FACE_MATCH_STATUSES } from "../face-match/assess.js";
import { type FaceFlowDeps, runFaceMatch } from "../face-match/match.js";
import { progressReporter, type ToolExtra } from "./check-passive-liveness.js";
import { imageInputFieldsFor } from "./image-input.js";
import { jsonResult } from "./json-result.js";

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

const nullableNumber = z.number().nullable();

const warningSchema = z.object({
  risk: z.string().describe("The warning tag; branch on it (explain_warning explains it)."),
  log_type: z.string().describe("error (declines), warning or information."),
  short_description: z.string().describe("Didit's short text."),
  long_description: z.string().describe("Didit's long text."),
});

const imageResultSchema = (what: string) =>
  z
    .object({
      faces_detected: z.number().int().describe(`Faces Didit found in the ${what}.`),
      faces: z
        .array(
          z.object({
            bbox: z.array(z.number()).nullable().describe("[x1, y1, x2, y2] in pixels"),
            confidence: nullableNumber.describe("Detector confidence 0-1"),
          }),
        )
        .describe("Detected faces."),
      best_angle: nullableNumber.describe("Rotation in degrees (0/90/180/270) Didit used."),
    })
    .describe(`What Didit found in the ${what}.`);

export const matchOutputSchema = z.object({
  request_id: z.string().describe("Didit's id for this face match."),
  status: z
    .enum(FACE_MATCH_STATUSES)
    .describe("Didit's verdict: Approved only when the score is strictly above the threshold."),
  is_match: z.boolean().describe("True only when status is Approved."),
  score: nullableNumber.describe("Similarity 0-100; null when no face pair could be scored."),
  next_action: z
    .enum(["proceed", "retake", "review"])
    .describe(
      "proceed: same person; retake: a new photo of the image with no face (see summary); review: a human compares the photos.",
    ),
  summary: z.string().describe("One sentence you can relay to the person."),
  warnings: z.array(warningSchema).describe("Didit's warnings, as returned."),
  user_image: imageResultSchema("selfie (user_image)"),
  ref_image: imageResultSchema("reference (ref_image)"),
  vendor_data: z.string().nullable().describe("Your vendor_data, echoed."),
  metadata: z.unknown().optional().describe("Your metadata, echoed (absent when none)."),
  created_at: z.string().nullable().describe("When Didit made the match (ISO 8601)."),
  sandbox: z
    .boolean()
    .optional()
    .describe("Present and true only in sandbox mode: a mocked, offline result."),
});

export const matchToolConfig = {
  title: "Match a selfie to a reference photo (Didit)",
  description:
    "Compares the face in a selfie with the face in a reference photo (typically the portrait on an ID document) with Didit's Face Match API. " +
    "It uploads BOTH images to Didit (verification.didit.me), consumes one Didit credit per answered match, and the match is stored in Didit's Business Console unless save_api_request is false. " +
    "It does not check liveness: for a selfie-vs-ID verification use verify_selfie, which checks liveness first and only then matches. " +
    "Give each image as a path (user_image_path, ref_image_path; inside the allowed directories), base64 (user_image_base64, ref_image_base64) or an https URL (user_image_url, ref_image_url). " +
    "Approved only when the score is strictly above face_match_score_decline_threshold (default 30). Act on next_action: proceed, retake or review.",
  inputSchema: matchInputSchema,
  outputSchema: matchOutputSchema,
  annotations: {
    title: "Match a selfie to a reference photo (Didit)",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
};

export function createMatchHandler(deps: FaceFlowDeps) {
  return async (input: MatchInput, extra: ToolExtra, upload?: UploadState): Promise<CallToolResult> => {
    const result = await runFaceMatch(deps, input, {
      signal: extra.signal,
      onProgress: progressReporter(extra),
      upload,
    });
    return jsonResult(matchOutputSchema, result);
  };
}
