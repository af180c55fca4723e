/*
 * Luminance, quality and the warnings derived from them: pure functions, no engine needed.
 *
 * Formulas (all on the largest face's tight box, the bounds of its 468-point mesh):
 *   face_luminance = mean over the box of Rec.601 luma (0.299 R + 0.587 G + 0.114 B), scaled 0-255 -> 0-100.
 *   sharpness      = variance of the 4-neighbour Laplacian of the box resized to 128 x 128 gray (libvips
 *                    area filter), mapped log-linearly: LAPLACIAN_SOFT -> 0, LAPLACIAN_SHARP -> 100.
 *   size           = shorter side of the box in original pixels: SIZE_ZERO_PX -> 0, SIZE_FULL_PX -> 100, linear.
 *   exposure       = 100 inside [EXPOSURE_OK_LOW, EXPOSURE_OK_HIGH] luminance, falling linearly to 0 at
 *                    EXPOSURE_ZERO_LOW / EXPOSURE_ZERO_HIGH.
 *   confidence     = 100 x detector confidence.
 *   face_quality   = 100 x prod((factor / 100) ^ weight), each factor floored at 1: a weighted geometric mean,
 *                    so one bad factor (a blurred face) drags the whole score down, as it drags the check.
 *                    Weights: sharpness 0.4, size 0.2, exposure 0.2, confidence 0.2.
 *
 * Thresholds, calibrated on the fixtures in test/fixtures (values measured with this engine):
 *   LOW_FACE_LUMINANCE   luminance < 25      syn_dark 7.4; normal captures 42-64 (T1 49.6, F2 64.2,
 *                                            astronaut 62.7, camera_gray 42.7). 25 is half of Didit's normal.
 *   HIGH_FACE_LUMINANCE  luminance > 85      syn_bright 90.8 (washed out: 1.25x + 70); syn_overexposed has no
 *                                            detectable face at all. Fair skin in good light stays under ~75.
 *   LOW_FACE_QUALITY     quality < 50        syn_blur 11.1, syn_dark 7.4, syn_camera_gray 38.3, syn_bright 48.9;
 *                                            usable faces 65.9-97.8 (T1 96.2, F2 97.8, astronaut 73.7).
 *   FACE_TOO_SMALL       shorter side < 80 px (original pixels): syn_small_face 70, syn_sim_screen_recapture 65,
 *                                            syn_sim_print 73, syn_camera_gray 56; astronaut 93, T1 179.
 *   MULTIPLE_FACES_DETECTED  more than one face; not ready when the second face's area is at least half the
 *                        largest's (Didit scores the largest face: two similar faces make that a coin toss).
 *   Anchors: LAPLACIAN 20/400 (blur ~0, dark ~5, astronaut ~270, T1 ~460 on the 128 px patch); SIZE 40/200 px;
 *   EXPOSURE flat 35-70, zero at 5 and 95.
 *
 * Faces the face mesh cannot confirm (engine.ts): the detector alone also fires on a cat's head (0.72) or a cup
 * (0.53), so an unconfirmed detection counts only when the mesh had no chance to confirm it, and then always
 * with a warning that blocks `ready`: the whole image is blurred (Laplacian variance of the image shrunk to
 * 256 px < GLOBAL_BLUR_LAPLACIAN = 60: syn_blur 12; sharp photos 215-5200) -> LOW_FACE_QUALITY, or the face is
 * under FACE_MIN_SIDE_PX -> FACE_TOO_SMALL.
 */
import type { Box, RgbImage } from "./image.js";
import type { PrecheckTag, PrecheckWarning, QualityFactors } from "./types.js";

export const LUMINANCE_LOW = 25;
export const LUMINANCE_HIGH = 85;
export const QUALITY_LOW = 50;
export const FACE_MIN_SIDE_PX = 80;
export const SECOND_FACE_AREA_RATIO = 0.5;

export const SHARPNESS_PATCH = 128;
/** Whole-image blur: Laplacian variance of the image shrunk to fit 256 px, in gray. */
export const BLUR_THUMBNAIL_SIDE = 256;
export const GLOBAL_BLUR_LAPLACIAN = 60;
export const LAPLACIAN_SOFT = 20;
export const LAPLACIAN_SHARP = 400;
export const SIZE_ZERO_PX = 40;
export const SIZE_FULL_PX = 200;
export const EXPOSURE_ZERO_LOW = 5;
export const EXPOSURE_OK_LOW = 35;
export const EXPOSURE_OK_HIGH = 70;
export const EXPOSURE_ZERO_HIGH = 95;
const WEIGHTS: QualityFactors = { sharpness: 0.4, size: 0.2, exposure: 0.2, confidence: 0.2 };

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const round1 = (v: number) => Math.round(v * 10) / 10;

/** Mean Rec.601 luma of the box, 0-100. */
export function meanLuminance(image: RgbImage, box: Box): number {
  const x1 = Math.max(0, Math.floor(box.x));
  const y1 = Math.max(0, Math.floor(box.y));
  const x2 = Math.min(image.width, Math.ceil(box.x + box.width));
  const y2 = Math.min(image.height, Math.ceil(box.y + box.height));
  if (x2 <= x1 || y2 <= y1) return 0;
  const { data, width } = image;
  let sum = 0;
  for (let y = y1; y < y2; y++) {
    let p = (y * width + x1) * 3;
    for (let x = x1; x < x2; x++, p += 3) {
      sum += 0.299 * (data[p] ?? 0) + 0.587 * (data[p + 1] ?? 0) + 0.114 * (data[p + 2] ?? 0);
    }
  }
  return round1((sum / ((x2 - x1) * (y2 - y1)) / 255) * 100);
}

/** Variance of the 4-neighbour Laplacian over the interior of a gray image (one byte a pixel). */
export function laplacianVariance(gray: Uint8Array, width: number, height = width): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v =
        (gray[i - 1] ?? 0) +
        (gray[i + 1] ?? 0) +
        (gray[i - width] ?? 0) +
        (gray[i + width] ?? 0) -
        4 * (gray[i] ?? 0);
      sum += v;
      sumSq += v * v;
      n += 1;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

export interface QualityInputs {
  laplacianVariance: number;
  /** Shorter side of the face box, in original pixels. */
  faceSidePx: number;
  luminance: number;
  /** Detector confidence, 0-1. */
  confidence: number;
}

export function qualityFactors(inputs: QualityInputs): QualityFactors {
  const lap = Math.max(inputs.laplacianVariance, 1e-6);
  const sharpness =
    100 * clamp01(Math.log(lap / LAPLACIAN_SOFT) / Math.log(LAPLACIAN_SHARP / LAPLACIAN_SOFT));
  const size = 100 * clamp01((inputs.faceSidePx - SIZE_ZERO_PX) / (SIZE_FULL_PX - SIZE_ZERO_PX));
  const l = inputs.luminance;
  const exposure =
    100 *
    (l < EXPOSURE_OK_LOW
      ? clamp01((l - EXPOSURE_ZERO_LOW) / (EXPOSURE_OK_LOW - EXPOSURE_ZERO_LOW))
      : l > EXPOSURE_OK_HIGH
        ? clamp01((EXPOSURE_ZERO_HIGH - l) / (EXPOSURE_ZERO_HIGH - EXPOSURE_OK_HIGH))
        : 1);
  const confidence = 100 * clamp01(inputs.confidence);
  return {
    sharpness: round1(sharpness),
    size: round1(size),
    exposure: round1(exposure),
    confidence: round1(confidence),
  };
}

export function faceQuality(factors: QualityFactors): number {
  let product = 1;
  for (const key of Object.keys(WEIGHTS) as (keyof QualityFactors)[]) {
    product *= (Math.max(1, factors[key]) / 100) ** WEIGHTS[key];
  }
  return round1(100 * product);
}

/** The face facts the warnings are decided from; null fields when no face was found. */
export interface FaceFindings {
  facesDetected: number;
  /** Areas of the faces, largest first. */
  faceAreas: readonly number[];
  /** The largest face was confirmed by the face mesh (not only by the detector). */
  faceConfirmed: boolean;
  faceSidePx: number | null;
  luminance: number | null;
  quality: number | null;
  /** A face other than the largest, big enough to matter, looks like a screen or a print (see engine.ts). */
  secondFaceReproduction?: boolean;
}

const SHORT_DESCRIPTIONS: Record<PrecheckTag, string> = {
  NO_FACE_DETECTED: "No face was found in the image.",
  FACE_TOO_SMALL: "The face is too small in the frame to be analysed reliably (local-only check).",
  MULTIPLE_FACES_DETECTED: "More than one face is in the image; Didit scores only the largest.",
  LOW_FACE_LUMINANCE: "The face is too dark.",
  HIGH_FACE_LUMINANCE: "The face is overexposed.",
  LOW_FACE_QUALITY: "The face is not sharp or clear enough.",
  SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION:
    "Another face in the image looks like a photo or a screen, not a live person (local-only check).",
};

/** Tags in the order their fix matters most: the first one's user message is shown. */
const PRIORITY: readonly PrecheckTag[] = [
  "NO_FACE_DETECTED",
  "FACE_TOO_SMALL",
  "LOW_FACE_LUMINANCE",
  "HIGH_FACE_LUMINANCE",
  "LOW_FACE_QUALITY",
  "SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION",
  "MULTIPLE_FACES_DETECTED",
];

export interface Verdict {
  ready: boolean;
  warnings: PrecheckWarning[];
}

export function decideWarnings(findings: FaceFindings): Verdict {
  const tags = new Set<PrecheckTag>();
  let blocked = false;
  if (findings.facesDetected === 0) {
    tags.add("NO_FACE_DETECTED");
    blocked = true;
  } else {
    if (findings.faceSidePx !== null && findings.faceSidePx < FACE_MIN_SIDE_PX) tags.add("FACE_TOO_SMALL");
    if (findings.luminance !== null && findings.luminance < LUMINANCE_LOW) tags.add("LOW_FACE_LUMINANCE");
    if (findings.luminance !== null && findings.luminance > LUMINANCE_HIGH) tags.add("HIGH_FACE_LUMINANCE");
    if (findings.quality !== null && findings.quality < QUALITY_LOW) tags.add("LOW_FACE_QUALITY");
    // A face only the detector saw is never worth a credit: too blurred or too small to confirm.
    if (!findings.faceConfirmed && tags.size === 0) tags.add("LOW_FACE_QUALITY");
    if (findings.secondFaceReproduction) tags.add("SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION");
    blocked = tags.size > 0;
    if (findings.facesDetected > 1) {
      tags.add("MULTIPLE_FACES_DETECTED");
      const [largest = 0, second = 0] = findings.faceAreas;
      if (largest > 0 && second / largest >= SECOND_FACE_AREA_RATIO) blocked = true;
    }
  }
  const warnings = PRIORITY.filter((tag) => tags.has(tag)).map((risk) => ({
    risk,
    short_description: SHORT_DESCRIPTIONS[risk],
  }));
  return { ready: !blocked, warnings };
}
