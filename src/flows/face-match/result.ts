import { z } from "zod";
import { NEXT_ACTIONS } from "../../warnings/types.js";
import {
  detectedFaceSchema,
  diditWarningSchema,
  livenessResultSchema,
  metadataEchoSchema,
  nullableNumber,
  sandboxFlagSchema,
  vendorDataEchoSchema,
} from "../liveness/result.js";

// The face-match and selfie-verification result contracts, once: the tools list them as outputSchema and the flows
// build their z.output.

/** Newer docs: Approved/Declined; older skill text also lists In Review. Anything else is invalid_response. */
export const FACE_MATCH_STATUSES = ["Approved", "Declined", "In Review"] as const;
export type FaceMatchStatus = (typeof FACE_MATCH_STATUSES)[number];

const imageResultSchema = (what: string) =>
  z
    .object({
      faces_detected: z.number().int().describe(`Faces Didit found in the ${what}.`),
      faces: z.array(detectedFaceSchema).describe("Detected faces."),
      best_angle: nullableNumber.describe("Rotation in degrees (0/90/180/270) Didit used."),
    })
    .describe(`What Didit found in the ${what}.`);

export const faceMatchResultSchema = z.object({
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
  warnings: z.array(diditWarningSchema).describe("Didit's warnings, as returned."),
  user_image: imageResultSchema("selfie (user_image)"),
  ref_image: imageResultSchema("reference (ref_image)"),
  vendor_data: vendorDataEchoSchema,
  metadata: metadataEchoSchema,
  created_at: z.string().nullable().describe("When Didit made the match (ISO 8601)."),
  sandbox: sandboxFlagSchema,
});

const precheckSummarySchema = z.object({
  ready: z.boolean().describe("True when nothing found locally stands in the way of uploading it."),
  next_action: z.enum(["proceed", "retake"]).describe("proceed or retake."),
  faces_detected: z.number().int().describe("Faces found on this machine."),
  warnings: z.array(z.string()).describe("Local warning tags (explain_warning explains them)."),
  user_message: z.string().describe("Plain words for the person."),
});

export const selfieVerificationSchema = z.object({
  identity_verified: z
    .boolean()
    .describe(
      "True only when the liveness check and the face match were both Approved and next_action is proceed.",
    ),
  next_action: z
    .enum(NEXT_ACTIONS)
    .describe("The stricter of the two results' actions: reject > review > retake > proceed."),
  summary: z.string().describe("One sentence you can relay to the person."),
  liveness: livenessResultSchema
    .nullable()
    .describe(
      "The liveness result in full, as check_passive_liveness returns it; null only after a pre-check stop.",
    ),
  face_match: faceMatchResultSchema
    .nullable()
    .describe("The face-match result in full, as match_faces returns it; null when it was skipped."),
  face_match_skipped_reason: z
    .string()
    .nullable()
    .describe(
      "Why no face match was made (liveness not Approved or saying reject/retake, or the pre-check stopped); null when it ran.",
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

/** What match_faces answers. */
export type FaceMatchAssessment = z.output<typeof faceMatchResultSchema>;
export type FaceMatchImage = FaceMatchAssessment["user_image"];
/** What verify_selfie answers. */
export type SelfieVerification = z.output<typeof selfieVerificationSchema>;
export type PrecheckSummary = z.output<typeof precheckSummarySchema>;
