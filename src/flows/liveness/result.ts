import { z } from "zod";
import { NEXT_ACTIONS } from "../../warnings/types.js";

/**
 * How much of a warning's `additional_data` (what a screening hit matched: blocklisted_session_id,
 * duplicated_session_id, ...) a result carries. Didit documents a handful of flat fields; an object within these
 * bounds is kept whole, anything bigger keeps only its top-level text, number, true/false and null fields, so the
 * session a reviewer needs survives and a deep or huge echo cannot break a paid result.
 */
export const ADDITIONAL_DATA_LIMITS = {
  /** Levels of objects and arrays, additional_data itself being level 1. */
  maxDepth: 4,
  /** Keys and array elements counted over the whole value. */
  maxEntries: 64,
  /** Characters of it as JSON. */
  maxJsonChars: 4096,
  /** When it breaks a bound: the top-level scalar fields kept, their longest key, and where a text is cut. */
  fallbackFields: 16,
  fallbackKeyChars: 64,
  fallbackTextChars: 200,
} as const;

const L = ADDITIONAL_DATA_LIMITS;

// The result contracts, once: each tool lists these schemas as its outputSchema, and the types the flows build are
// their z.output, so a field added on one side cannot be missing on the other.

/** A number that is null when Didit found no face (or pair) to measure: liveness and face-match results alike. */
export const nullableNumber = z.number().nullable();

/** What liveness and face-match results alike echo of the call, and their sandbox flag. */
export const vendorDataEchoSchema = z.string().nullable().describe("Your vendor_data, echoed.");
export const metadataEchoSchema = z
  .unknown()
  .optional()
  .describe(
    "Your metadata, echoed (absent when none, or when the echo breaks the bounds metadata is sent within).",
  );
export const sandboxFlagSchema = z
  .boolean()
  .optional()
  .describe("Present and true only in sandbox mode: a mocked, offline result.");

/** A warning exactly as Didit returns it, in liveness and face-match results alike. */
export const diditWarningSchema = z.object({
  risk: z.string().describe("The warning tag; branch on it (explain_warning explains it)."),
  log_type: z.string().describe("error (declines), warning or information."),
  short_description: z.string().describe("Didit's short text."),
  long_description: z.string().describe("Didit's long text."),
  feature: z
    .string()
    .nullable()
    .describe(
      "Which Didit feature raised it: LIVENESS or FACEMATCH; null when Didit did not say (older form).",
    ),
  additional_data: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(
      "What a screening hit matched, as Didit sent it: for a blocklist hit blocklisted_session_id and " +
        "blocklisted_session_number, for a duplicate duplicated_session_id: the session a reviewer looks up in the " +
        `Business Console. Kept whole up to ${L.maxDepth} levels, ${L.maxEntries} keys and elements and ` +
        `${L.maxJsonChars / 1024} KB as JSON; past that only its top-level text (cut at ${L.fallbackTextChars} ` +
        `characters), number, true/false and null fields, ${L.fallbackFields} at most. Null when none.`,
    ),
});
export type LivenessWarning = z.output<typeof diditWarningSchema>;

/** A face Didit found in an image. */
export const detectedFaceSchema = z.object({
  bbox: z.array(z.number()).nullable().describe("[x1, y1, x2, y2] in pixels"),
  confidence: nullableNumber.describe("Detector confidence 0-1"),
});
export type DetectedFace = z.output<typeof detectedFaceSchema>;

export const livenessResultSchema = z.object({
  request_id: z
    .string()
    .describe("Didit's id for this check (look it up in the Business Console when saved)."),
  status: z
    .enum(["Approved", "Declined"])
    .describe("Didit's verdict; Declined exactly when an error-level warning fired."),
  is_live: z.boolean().describe("True only when status is Approved."),
  next_action: z
    .enum(NEXT_ACTIONS)
    .describe(
      "proceed: continue; retake: ask for a new photo (see summary); review: hand to a human; reject: stop, do not retry.",
    ),
  summary: z.string().describe("One sentence you can relay to the person."),
  score: nullableNumber.describe("Liveness score 0-100, null when no face was found."),
  face_quality: nullableNumber.describe("Face image quality 0-100, null when no face was found."),
  face_luminance: nullableNumber.describe(
    "Face brightness 0-100 (about 50 is normal), null when no face was found.",
  ),
  warnings: z.array(diditWarningSchema).describe("Didit's warnings, as returned."),
  faces_detected: z.number().int().describe("Number of faces Didit found."),
  faces: z
    .array(
      detectedFaceSchema.extend({
        age: nullableNumber.optional().describe("Estimated age; only with include_face_attributes."),
        gender: z
          .string()
          .nullable()
          .optional()
          .describe("Estimated gender; only with include_face_attributes."),
      }),
    )
    .describe("Detected faces; with several, the largest was scored."),
  best_angle: nullableNumber.describe("Rotation in degrees (0/90/180/270) Didit used."),
  vendor_data: vendorDataEchoSchema,
  metadata: metadataEchoSchema,
  created_at: z.string().nullable().describe("When Didit made the check (ISO 8601)."),
  sandbox: sandboxFlagSchema,
});

/** What check_passive_liveness answers. */
export type LivenessAssessment = z.output<typeof livenessResultSchema>;
