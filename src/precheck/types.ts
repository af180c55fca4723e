/** Shapes shared by the on-device pre-check engine and the precheck_face_image tool (types only: no runtime). */

/** Clockwise rotation, in degrees, applied to the upright (EXIF-oriented) image before analysis. */
export type BestAngle = 0 | 90 | 180 | 270;

/**
 * Tags the pre-check can raise: the API's own where one fits, plus the local-only FACE_TOO_SMALL and
 * SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION.
 */
export type PrecheckTag =
  | "NO_FACE_DETECTED"
  | "FACE_TOO_SMALL"
  | "SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION"
  | "MULTIPLE_FACES_DETECTED"
  | "LOW_FACE_LUMINANCE"
  | "HIGH_FACE_LUMINANCE"
  | "LOW_FACE_QUALITY";

export interface PrecheckWarning {
  risk: PrecheckTag;
  short_description: string;
  /** True: this warning makes `ready` false (retake). False: a suggestion; the photo can be submitted as it is. */
  blocking: boolean;
}

/** The four 0-100 factors face_quality is made of (see metrics.ts for the formulas). */
export interface QualityFactors {
  sharpness: number;
  size: number;
  exposure: number;
  confidence: number;
}

/** One detected face (up to 5, largest first). */
export interface FaceEstimate {
  /** [x1, y1, x2, y2] in pixels of the analysed frame (upright, rotated by best_angle). */
  bbox: [number, number, number, number];
  /** Detector confidence, 0-1. */
  confidence: number;
  /** This face's box area over the largest face's, 0-1 (1 for the largest). */
  relative_area: number;
  /** Advisory P(live) x 100 for this face; null without the anti-spoofing models. */
  spoof_estimate: number | null;
}

/** What the engine found, in the vocabulary of Didit's response where one exists. */
export interface LocalAnalysis {
  engine: "local";
  /** True when nothing found locally stands in the way of submitting the photo to Didit. */
  ready: boolean;
  next_action: "proceed" | "retake";
  faces_detected: number;
  /** The largest face, [x1, y1, x2, y2] in pixels of the analysed frame (upright, rotated by best_angle). */
  bbox: [number, number, number, number] | null;
  face_size_px: { width: number; height: number } | null;
  /** Detector confidence of the largest face, 0-1. */
  face_confidence: number | null;
  /** Local estimate on Didit's scale: mean luma of the face box, 0-100 (about 50 is normal). */
  face_luminance: number | null;
  /** Local estimate on Didit's scale, 0-100: weighted geometric mean of quality_factors. */
  face_quality: number | null;
  quality_factors: QualityFactors | null;
  best_angle: BestAngle;
  /**
   * The face is not upright in the photo as sent (sideways or upside down), whether or not rotate_image was on:
   * check_passive_liveness needs rotate_image: true.
   */
  rotate_image_advised: boolean;
  warnings: PrecheckWarning[];
  /** Plain words for the person in the photo. */
  user_message: string;
  /**
   * Advisory P(live) x 100 from the local anti-spoofing models; never a verdict. The lowest among the faces at least
   * a quarter of the largest's area (a screen held up beside a live face counts). Null without a face.
   */
  spoof_estimate: number | null;
  /** Every face found, largest first, each with its own spoof estimate. */
  faces: FaceEstimate[];
  spoof_model: string;
  /** The analysed frame's size in pixels (upright, rotated by best_angle). */
  image_size: { width: number; height: number };
  elapsed_ms: number;
}

export interface AnalyzeOptions {
  /** Search 0/90/180/270 degrees for the best upright orientation (like Didit's rotate_image). */
  rotate?: boolean | undefined;
  /** Stops the call before it starts when aborted while queued. */
  signal?: AbortSignal | undefined;
}
