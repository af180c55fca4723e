import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { UploadState } from "../errors.js";
import { runSelfieVerification, type VerifyDeps } from "../face-match/verify.js";
import { NEXT_ACTIONS } from "../warnings/types.js";
import { checkOutputSchema, progressReporter, type ToolExtra } from "./check-passive-liveness.js";
import { jsonResult } from "./json-result.js";
import {
  faceMatchThresholdField,
  imagePairFields,
  matchOutputSchema,
  sharedFaceFields,
} from "./match-faces.js";

export const VERIFY_TOOL_NAME = "verify_selfie";

export const verifyInputSchema = z.strictObject({
  ...imagePairFields,
  face_liveness_score_decline_threshold: z
    .number()
    .min(0)
    .max(100)
    .optional()
    .describe(
      "Liveness score (0-100) at or below which Didit declines the selfie with LOW_LIVENESS_SCORE. Default on Didit's side: 30.",
    ),
  face_match_score_decline_threshold: faceMatchThresholdField,
  ...sharedFaceFields,
  precheck: z
    .boolean()
    .optional()
    .describe(
      "First check both photos on this machine (faces, light, sharpness) and stop before any upload if either is not ready. Needs the optional on-device engine; without it the call is refused (not_configured) and nothing is uploaded. Default: false.",
    ),
});
export type VerifyInput = z.output<typeof verifyInputSchema>;

const precheckSummarySchema = z.object({
  ready: z.boolean().describe("True when nothing found locally stands in the way of uploading it."),
  next_action: z.enum(["proceed", "retake"]).describe("proceed or retake."),
  faces_detected: z.number().int().describe("Faces found on this machine."),
  warnings: z.array(z.string()).describe("Local warning tags (explain_warning explains them)."),
  user_message: z.string().describe("Plain words for the person."),
});

export const verifyOutputSchema = z.object({
  identity_verified: z
    .boolean()
    .describe("True only when the liveness check and the face match were both Approved."),
  next_action: z
    .enum(NEXT_ACTIONS)
    .describe("The stricter of the two results' actions: reject > review > retake > proceed."),
  summary: z.string().describe("One sentence you can relay to the person."),
  liveness: checkOutputSchema
    .nullable()
    .describe(
      "The liveness result in full, as check_passive_liveness returns it; null only after a pre-check stop.",
    ),
  face_match: matchOutputSchema
    .nullable()
    .describe("The face-match result in full, as match_faces returns it; null when it was skipped."),
  face_match_skipped_reason: z
    .string()
    .nullable()
    .describe(
      "Why no face match was made (liveness not Approved, or the pre-check stopped); null when it ran.",
    ),
  credits_used: z
    .number()
    .int()
    .min(0)
    .max(2)
    .describe(
      "Didit credits this call spent: 2 for both checks, 1 when the match was skipped, 0 in sandbox mode or after a pre-check stop.",
    ),
  precheck: z
    .object({ selfie: precheckSummarySchema, reference: precheckSummarySchema })
    .optional()
    .describe("The on-device pre-check of both photos (only with precheck: true)."),
  sandbox: z.boolean().optional().describe("Present and true only in sandbox mode: mocked, offline results."),
});

export const verifyToolConfig = {
  title: "Verify a selfie against an ID photo (Didit liveness + face match)",
  description:
    "Didit's combined identity check in one call: a passive liveness check on the selfie, then, only if it is Approved, a face match of the selfie against the reference photo (typically the ID document's portrait). " +
    "It uploads the selfie to Didit for the liveness check and both images for the face match (verification.didit.me), and consumes one Didit credit per answered call: two for a full verification, one when the liveness check fails and the match is skipped. " +
    "Both are stored in Didit's Business Console unless save_api_request is false. " +
    "Give each image as a path (user_image_path, ref_image_path; inside the allowed directories), base64 (user_image_base64, ref_image_base64) or an https URL (user_image_url, ref_image_url). " +
    "identity_verified is true only when both are Approved; act on next_action (proceed, retake, review, reject) and relay the summary.",
  inputSchema: verifyInputSchema,
  outputSchema: verifyOutputSchema,
  annotations: {
    title: "Verify a selfie against an ID photo (Didit liveness + face match)",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
};

export function createVerifyHandler(deps: VerifyDeps) {
  return async (input: VerifyInput, extra: ToolExtra, upload?: UploadState): Promise<CallToolResult> => {
    const result = await runSelfieVerification(deps, input, {
      signal: extra.signal,
      onProgress: progressReporter(extra),
      upload,
    });
    return jsonResult(verifyOutputSchema, result);
  };
}
