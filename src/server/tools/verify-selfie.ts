import { z } from "zod";
import { VERIFY_TOOL_NAME } from "../../config/tool-names.js";
import { createImagePrecheck } from "../../flows/face-match/precheck.js";
import { selfieVerificationSchema } from "../../flows/face-match/result.js";
import { runSelfieVerification } from "../../flows/face-match/verify.js";
import {
  diditRequestFields,
  faceMatchThresholdField,
  imagePairFields,
  livenessThresholdField,
} from "./input-fields.js";
import { defineTool, paidToolDescription } from "./tool.js";

export { VERIFY_TOOL_NAME };

export const verifyInputSchema = z.strictObject({
  ...imagePairFields,
  face_liveness_score_decline_threshold: livenessThresholdField,
  face_match_score_decline_threshold: faceMatchThresholdField,
  ...diditRequestFields,
  precheck: z
    .boolean()
    .optional()
    .describe(
      "First check both photos on this machine (faces, light, sharpness) and stop before any upload if either is not ready. Needs the optional on-device engine; without it the call is refused (not_configured) and nothing is uploaded. Default: false.",
    ),
});
export type VerifyInput = z.output<typeof verifyInputSchema>;

export const verifyTool = defineTool({
  name: VERIFY_TOOL_NAME,
  title: "Verify a selfie against an ID photo (Didit liveness + face match)",
  describe: paidToolDescription(
    "Didit's combined identity check in one call: a passive liveness check on the selfie, then, only if it is Approved and does not call for a reject or a retake, a face match of the selfie against the reference photo (typically the ID document's portrait). " +
      "It uploads the selfie to Didit for the liveness check and both images for the face match (verification.didit.me), and consumes one Didit credit per answered call: two for a full verification, one when the liveness check fails (or is Approved but says reject, e.g. an attack or blocklist tag) and the match is skipped. " +
      "Both are stored in Didit's Business Console unless save_api_request is false. " +
      "Give each image as a path (user_image_path, ref_image_path; inside the allowed directories), base64 (user_image_base64, ref_image_base64) or an https URL (user_image_url, ref_image_url). " +
      "identity_verified is true only when both are Approved and next_action is proceed; act on next_action (proceed, retake, review, reject) and relay the summary.",
  ),
  inputSchema: verifyInputSchema,
  outputSchema: selfieVerificationSchema,
  view: true,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  createHandler(context) {
    const deps = { ...context, precheck: createImagePrecheck(context.precheckEngine) };
    return (input, call) => runSelfieVerification(deps, input, call);
  },
});
