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
 * Decisions, calibrated on real photos (scripts/calibrate-precheck.mjs; its table is docs/precheck-calibration.md):
 * each metric has two levels. Past the RETAKE cut-off the warning blocks `ready` (next_action retake): only what
 * Didit would almost surely decline or could not score. Between the RETAKE and the SUGGEST cut-offs the warning
 * is a suggestion: `ready` stays true and user_message offers a tip. On 208 real photos and their degraded copies:
 *   LOW_FACE_LUMINANCE   retake < 12, suggest < 20. Real originals: min 21.9, so neither flags any; 12 catches
 *                        every face darkened to x0.18 or darker (syn_dark, x0.12, is 7.4) and none at x0.45, the
 *                        dim-room level (face ~23) that the held-out selfies were wrongly sent back for.
 *   HIGH_FACE_LUMINANCE  retake > 92, suggest > 85. Real originals max 74; 92 catches 71% of faces pushed to 130
 *                        before clipping (91% at 170) and none at 100; syn_bright (90.8) becomes a suggestion.
 *   LOW_FACE_QUALITY     retake < 20, suggest < 40. Below 20 means the sharpness factor is at 0, heavy blur: every
 *                        face blurred by sigma >= 2% of its side, no original (min 48.3).
 *   FACE_TOO_SMALL       retake < 40 px, suggest < 80 px (shorter side, original pixels). Real originals min 76;
 *                        40 catches every face shrunk to 32 px and none at 48. A small face the mesh could not
 *                        confirm always blocks (below).
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
import { PRECHECK_READY_MESSAGE, PRECHECK_USER_MESSAGES } from "../warnings/catalog.js";
import type { Box, RgbImage } from "./image.js";
import type { PrecheckTag, PrecheckWarning, QualityFactors } from "./types.js";

export const LUMINANCE_RETAKE_LOW = 12;
export const LUMINANCE_SUGGEST_LOW = 20;
export const LUMINANCE_SUGGEST_HIGH = 85;
export const LUMINANCE_RETAKE_HIGH = 92;
export const QUALITY_RETAKE = 20;
export const QUALITY_SUGGEST = 40;
export const FACE_RETAKE_SIDE_PX = 40;
/** Below this a face is small: a suggestion, and the engine's bar for trusting a face the mesh did not confirm. */
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
  FACE_TOO_SMALL: "The face is small in the frame (local-only check).",
  MULTIPLE_FACES_DETECTED: "More than one face is in the image; Didit scores only the largest.",
  LOW_FACE_LUMINANCE: "The face is dark.",
  HIGH_FACE_LUMINANCE: "The face is overexposed.",
  LOW_FACE_QUALITY: "The face is not sharp or clear.",
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
  /** For the person: the first blocking warning's retake message, else the first suggestion, else all clear. */
  userMessage: string;
}

/** Retake past `retake`, suggest past `suggest`; `below` says which side is bad. Null when fine or unmeasured. */
function level(value: number | null, retake: number, suggest: number, below: boolean): boolean | null {
  if (value === null) return null;
  const past = (cut: number) => (below ? value < cut : value > cut);
  return past(retake) ? true : past(suggest) ? false : null;
}

export function decideWarnings(findings: FaceFindings): Verdict {
  // Tag -> whether it blocks `ready`.
  const found = new Map<PrecheckTag, boolean>();
  const note = (tag: PrecheckTag, blocking: boolean | null) => {
    if (blocking !== null) found.set(tag, blocking || found.get(tag) === true);
  };
  if (findings.facesDetected === 0) {
    note("NO_FACE_DETECTED", true);
  } else {
    note("FACE_TOO_SMALL", level(findings.faceSidePx, FACE_RETAKE_SIDE_PX, FACE_MIN_SIDE_PX, true));
    note("LOW_FACE_LUMINANCE", level(findings.luminance, LUMINANCE_RETAKE_LOW, LUMINANCE_SUGGEST_LOW, true));
    note(
      "HIGH_FACE_LUMINANCE",
      level(findings.luminance, LUMINANCE_RETAKE_HIGH, LUMINANCE_SUGGEST_HIGH, false),
    );
    note("LOW_FACE_QUALITY", level(findings.quality, QUALITY_RETAKE, QUALITY_SUGGEST, true));
    // A face only the detector saw is never worth a credit: too blurred or too small to confirm.
    if (!findings.faceConfirmed) {
      if (found.size === 0) found.set("LOW_FACE_QUALITY", true);
      for (const tag of found.keys()) found.set(tag, true);
    }
    if (findings.facesDetected > 1) {
      const [largest = 0, second = 0] = findings.faceAreas;
      note("MULTIPLE_FACES_DETECTED", largest > 0 && second / largest >= SECOND_FACE_AREA_RATIO);
    }
    if (findings.secondFaceReproduction) note("SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION", true);
  }
  const warnings = PRIORITY.filter((tag) => found.has(tag)).map((risk) => ({
    risk,
    short_description: SHORT_DESCRIPTIONS[risk],
    blocking: found.get(risk) === true,
  }));
  const ready = !warnings.some((w) => w.blocking);
  const first = warnings.find((w) => w.blocking) ?? warnings[0];
  const messages = first ? PRECHECK_USER_MESSAGES[first.risk] : undefined;
  const userMessage = messages ? (ready ? messages.suggestion : messages.retake) : PRECHECK_READY_MESSAGE;
  return { ready, warnings, userMessage };
}
