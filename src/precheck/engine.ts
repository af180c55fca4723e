import { createFaceDetector, type DetectedFace, type FaceDetector } from "./detector.js";
import {
  type Box,
  decodeImage,
  grayPatch,
  grayThumbnail,
  letterbox,
  type RgbImage,
  rotateImage,
  type Sharp,
} from "./image.js";
import type { ResolvedEngine } from "./loader.js";
import {
  BLUR_THUMBNAIL_SIDE,
  decideWarnings,
  FACE_MIN_SIDE_PX,
  faceQuality,
  GLOBAL_BLUR_LAPLACIAN,
  laplacianVariance,
  meanLuminance,
  qualityFactors,
  SHARPNESS_PATCH,
} from "./metrics.js";
import { createSpoofScorer, SPOOF_MODEL_NAME, type SpoofScorer } from "./spoof.js";
import type { BestAngle, LocalAnalysis, QualityFactors } from "./types.js";

/** The detector sees 256 x 256: a larger orientation probe would only cost resize time. */
const PROBE_SIDE = 256;
/** Full pass input: the mesh model crops faces from this, so keep more detail than the detector needs. */
const DETECT_SIDE = 640;
const ANGLES: readonly BestAngle[] = [0, 90, 180, 270];
/** Another orientation must beat upright by this much detector confidence to be chosen. */
const ANGLE_MARGIN = 0.05;

export interface PrecheckEngine {
  analyze(bytes: Uint8Array, options: { rotate: boolean }): Promise<LocalAnalysis>;
  tensorCount(): number;
}

export async function createPrecheckEngine(resolved: ResolvedEngine): Promise<PrecheckEngine> {
  const sharp = ((await import(resolved.sharpPackage)) as { default: Sharp }).default;
  // TF.js and ONNX Runtime compile their WASM concurrently; model set-up then runs one after the other.
  const [detector, spoof] = await Promise.all([
    createFaceDetector(resolved),
    resolved.spoofModels ? createSpoofScorer({ ...resolved, spoofModels: resolved.spoofModels }) : undefined,
  ]);
  const engine = new Engine(sharp, detector, spoof, resolved.spoofUnavailable ?? SPOOF_MODEL_NAME);
  await engine.warmUp();
  return engine;
}

interface Face {
  /** Tight box in working-image pixels. */
  box: Box;
  confidence: number;
  verified: boolean;
  upright: boolean | null;
}

interface Measures {
  bbox: [number, number, number, number];
  sidePx: number;
  luminance: number;
  factors: QualityFactors;
  quality: number;
  spoof: number | null;
}

class Engine implements PrecheckEngine {
  constructor(
    private readonly sharp: Sharp,
    private readonly detector: FaceDetector,
    private readonly spoof: SpoofScorer | undefined,
    private readonly spoofModelName: string,
  ) {}

  tensorCount(): number {
    return this.detector.tensorCount();
  }

  /** First inferences pay for kernel set-up; pay it at load time rather than on the first real image. */
  async warmUp(): Promise<void> {
    const gray: RgbImage = { data: new Uint8Array(64 * 64 * 3).fill(128), width: 64, height: 64 };
    await this.detector.detect(gray, "detector");
    await this.detector.detect(gray, "full");
    await this.spoof?.score(gray, { x: 16, y: 16, width: 32, height: 32 });
  }

  async analyze(bytes: Uint8Array, options: { rotate: boolean }): Promise<LocalAnalysis> {
    const started = performance.now();
    const { work: upright, original } = await decodeImage(this.sharp, bytes);
    // Original pixels per working pixel (1 unless the image was larger than WORK_MAX_SIDE).
    const toOriginal = original.width / upright.width;

    let bestAngle = options.rotate ? await this.bestAngle(upright) : 0;
    let work = await rotateImage(this.sharp, upright, bestAngle);
    let faces = await this.findFaces(work, toOriginal);
    if (bestAngle !== 0 && !this.trustworthy(faces[0], toOriginal)) {
      // The probe was fooled by something face-like on its side: a turn needs a face the mesh confirms, large
      // enough for the mesh's confirmation to mean something.
      bestAngle = 0;
      work = upright;
      faces = await this.findFaces(work, toOriginal);
    }

    const largest = faces[0];
    const measures = largest ? await this.measure(work, largest, toOriginal) : null;
    const verdict = decideWarnings({
      facesDetected: faces.length,
      faceAreas: faces.map((f) => f.box.width * f.box.height),
      faceConfirmed: largest?.verified ?? false,
      faceSidePx: measures?.sidePx ?? null,
      luminance: measures?.luminance ?? null,
      quality: measures?.quality ?? null,
    });
    const quarterTurn = bestAngle === 90 || bestAngle === 270;

    return {
      engine: "local",
      ready: verdict.ready,
      next_action: verdict.ready ? "proceed" : "retake",
      faces_detected: faces.length,
      bbox: measures?.bbox ?? null,
      face_size_px: measures
        ? { width: measures.bbox[2] - measures.bbox[0], height: measures.bbox[3] - measures.bbox[1] }
        : null,
      face_confidence: largest ? Math.round(largest.confidence * 100) / 100 : null,
      face_luminance: measures?.luminance ?? null,
      face_quality: measures?.quality ?? null,
      quality_factors: measures?.factors ?? null,
      best_angle: bestAngle,
      rotate_image_advised: !options.rotate && largest?.verified === true && largest.upright === false,
      warnings: verdict.warnings,
      user_message: verdict.userMessage,
      spoof_estimate: measures?.spoof ?? null,
      spoof_model: this.spoofModelName,
      image_size: quarterTurn ? { width: original.height, height: original.width } : { ...original },
      elapsed_ms: Math.round(performance.now() - started),
    };
  }

  /**
   * Faces the mesh confirmed, largest first. Only when there is none, a detector face the mesh could not confirm
   * still counts if the mesh had no chance: the whole image is blurred, or the face is below FACE_MIN_SIDE_PX.
   * Either way it is reported with a warning that blocks `ready`; otherwise it is taken for a false positive.
   */
  private async findFaces(work: RgbImage, toOriginal: number): Promise<Face[]> {
    const { square, scale } = await letterbox(this.sharp, work, DETECT_SIDE);
    const found: Face[] = (await this.detector.detect(square, "full"))
      .map((face: DetectedFace) => ({
        ...face,
        box: {
          x: face.box.x / scale,
          y: face.box.y / scale,
          width: face.box.width / scale,
          height: face.box.height / scale,
        },
      }))
      .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    const confirmed = found.filter((f) => f.verified);
    if (confirmed.length > 0 || found.length === 0) return confirmed;
    const small = found.filter((f) => Math.min(f.box.width, f.box.height) * toOriginal < FACE_MIN_SIDE_PX);
    if (small.length === found.length) return found;
    return (await this.globallyBlurred(work)) ? found : small;
  }

  private trustworthy(face: Face | undefined, toOriginal: number): boolean {
    return (
      face?.verified === true && Math.min(face.box.width, face.box.height) * toOriginal >= FACE_MIN_SIDE_PX
    );
  }

  private async globallyBlurred(work: RgbImage): Promise<boolean> {
    const thumb = await grayThumbnail(this.sharp, work, BLUR_THUMBNAIL_SIDE);
    return laplacianVariance(thumb.data, thumb.width, thumb.height) < GLOBAL_BLUR_LAPLACIAN;
  }

  /**
   * Detector-only passes on a small probe at each quarter turn. A face counts for an angle only if its eye and
   * mouth keypoints say it stands upright there; upright (0) wins unless another angle is clearly better.
   */
  private async bestAngle(upright: RgbImage): Promise<BestAngle> {
    const probe = (await letterbox(this.sharp, upright, PROBE_SIDE)).square;
    let best: BestAngle = 0;
    let bestScore = 0;
    for (const angle of ANGLES) {
      const rotated = await rotateImage(this.sharp, probe, angle);
      const faces = await this.detector.detect(rotated, "detector");
      const score = Math.max(0, ...faces.filter((f) => f.upright !== false).map((f) => f.confidence));
      if (score > bestScore + (angle === 0 ? 0 : ANGLE_MARGIN)) {
        best = angle;
        bestScore = score;
      }
    }
    return best;
  }

  private async measure(work: RgbImage, face: Face, toOriginal: number): Promise<Measures> {
    const luminance = meanLuminance(work, face.box);
    const patch = await grayPatch(this.sharp, work, face.box, SHARPNESS_PATCH);
    const maxX = Math.round(work.width * toOriginal);
    const maxY = Math.round(work.height * toOriginal);
    const bbox: [number, number, number, number] = [
      Math.max(0, Math.round(face.box.x * toOriginal)),
      Math.max(0, Math.round(face.box.y * toOriginal)),
      Math.min(maxX, Math.round((face.box.x + face.box.width) * toOriginal)),
      Math.min(maxY, Math.round((face.box.y + face.box.height) * toOriginal)),
    ];
    const sidePx = Math.min(bbox[2] - bbox[0], bbox[3] - bbox[1]);
    const factors = qualityFactors({
      laplacianVariance: laplacianVariance(patch, SHARPNESS_PATCH),
      faceSidePx: sidePx,
      luminance,
      confidence: face.confidence,
    });
    const spoof = this.spoof ? await this.spoof.score(work, face.box) : null;
    return {
      bbox,
      sidePx,
      luminance,
      factors,
      quality: faceQuality(factors),
      spoof: spoof === null ? null : Math.round(spoof * 10) / 10,
    };
  }
}
