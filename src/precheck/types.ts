import { z } from "zod";

/** Shapes shared by the on-device pre-check engine and the precheck_face_image tool: the result contract, once. */

/**
 * Tags the pre-check can raise: the API's own where one fits, plus the local-only FACE_TOO_SMALL and
 * SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION.
 */
export const PRECHECK_TAGS = [
  "NO_FACE_DETECTED",
  "FACE_TOO_SMALL",
  "SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION",
  "MULTIPLE_FACES_DETECTED",
  "LOW_FACE_LUMINANCE",
  "HIGH_FACE_LUMINANCE",
  "LOW_FACE_QUALITY",
] as const;
export type PrecheckTag = (typeof PRECHECK_TAGS)[number];

export const ADVISORY = "Advisory only: only Didit's check (check_passive_liveness) decides liveness.";

export const localAnalysisSchema = z.object({
  engine: z
    .literal("local")
    .describe("Analysed on this machine; nothing was sent anywhere and no credit was used."),
  ready: z
    .boolean()
    .describe("True when nothing found locally stands in the way of submitting the photo to Didit."),
  next_action: z
    .enum(["proceed", "retake"])
    .describe(
      "proceed: submit the photo with check_passive_liveness; retake: relay user_message and ask for a new photo.",
    ),
  faces_detected: z.number().int(),
  bbox: z
    .tuple([z.number(), z.number(), z.number(), z.number()])
    .nullable()
    .describe("The largest face, [x1, y1, x2, y2] in pixels of the upright image turned by best_angle."),
  face_size_px: z.object({ width: z.number(), height: z.number() }).nullable(),
  face_confidence: z.number().nullable().describe("Face detector confidence 0-1."),
  face_luminance: z
    .number()
    .nullable()
    .describe(
      "Local estimate on Didit's face_luminance scale (it may differ from Didit's own value): mean luma of the face box, 0-100, about 50 is normal. Below 20 or above 85 gets a suggestion; below 12 or above 92 a retake.",
    ),
  face_quality: z
    .number()
    .nullable()
    .describe(
      "Local estimate on Didit's face_quality scale (it may differ from Didit's own value), 0-100: weighted geometric mean of quality_factors (sharpness 0.4, size, exposure, confidence 0.2 each). Below 40 gets a LOW_FACE_QUALITY suggestion; below 20 (heavy blur) a retake.",
    ),
  quality_factors: z
    .object({ sharpness: z.number(), size: z.number(), exposure: z.number(), confidence: z.number() })
    .nullable(),
  best_angle: z
    .union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)])
    .describe(
      "Clockwise degrees the upright photo was turned for analysis; 0 unless rotate_image found better.",
    ),
  rotate_image_advised: z
    .boolean()
    .describe(
      "The face lies sideways or upside down in the photo as sent (whether or not rotate_image was on): submit with rotate_image: true.",
    ),
  warnings: z.array(
    z.object({
      risk: z
        .enum(PRECHECK_TAGS)
        .describe(
          "Didit's tag where one fits; FACE_TOO_SMALL and SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION are local-only. explain_warning explains each.",
        ),
      short_description: z.string(),
      blocking: z
        .boolean()
        .describe(
          "true: this warning makes ready false (retake); false: a suggestion, the photo can be submitted as it is.",
        ),
    }),
  ),
  user_message: z
    .string()
    .describe(
      "What to tell the person, in plain words: what to do when ready is false, a tip when a warning is only a suggestion.",
    ),
  spoof_estimate: z
    .number()
    .nullable()
    .describe(
      `On-device anti-spoofing hint, 0-100, higher = more likely a live capture: the lowest of the faces at least a quarter of the largest's area (a screen held up beside a live face pulls it down); never a verdict and never a reason to reject. ${ADVISORY}`,
    ),
  faces: z
    .array(
      z.object({
        bbox: z
          .tuple([z.number(), z.number(), z.number(), z.number()])
          .describe("[x1, y1, x2, y2] in pixels of the upright image turned by best_angle."),
        confidence: z.number().describe("Face detector confidence 0-1."),
        relative_area: z.number().describe("This face's area over the largest face's, 0-1."),
        spoof_estimate: z
          .number()
          .nullable()
          .describe("This face's own on-device anti-spoofing hint, 0-100 (advisory, like spoof_estimate)."),
      }),
    )
    .describe("Every face found (up to 5), largest first; Didit scores only the first."),
  spoof_model: z.string().describe("The model behind spoof_estimate."),
  image_size: z.object({ width: z.number(), height: z.number() }),
  elapsed_ms: z.number().describe("Time spent analysing, in milliseconds."),
});
/** What the engine found, in the vocabulary of Didit's response where one exists. */
export type LocalAnalysis = z.output<typeof localAnalysisSchema>;
export type PrecheckWarning = LocalAnalysis["warnings"][number];
export type QualityFactors = NonNullable<LocalAnalysis["quality_factors"]>;
/** One detected face (up to 5, largest first). */
export type FaceEstimate = LocalAnalysis["faces"][number];
/** Clockwise rotation, in degrees, applied to the upright (EXIF-oriented) image before analysis. */
export type BestAngle = LocalAnalysis["best_angle"];

/** What precheck_face_image answers: the analysis with a one-sentence summary first. */
export const precheckResultSchema = z
  .object({ summary: z.string().describe(`One sentence for the agent. ${ADVISORY}`) })
  .extend(localAnalysisSchema.shape);
export type PrecheckOutput = z.output<typeof precheckResultSchema>;

export interface AnalyzeOptions {
  /** Search 0/90/180/270 degrees for the best upright orientation (like Didit's rotate_image). */
  rotate?: boolean | undefined;
  /** Stops the call before it starts when aborted while queued. */
  signal?: AbortSignal | undefined;
}
