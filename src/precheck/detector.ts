import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Config, FaceResult, Human } from "@vladmandic/human";
import type { Box, RgbImage } from "./image.js";
import type { ResolvedEngine } from "./loader.js";

/** One face the on-device detector found, in the detector input's pixels (Didit's faces are DetectedFace). */
export interface FaceDetection {
  /** Tight box: the bounds of the 468-point mesh (or of the detector box when the mesh is off). */
  box: Box;
  /** Detector (BlazeFace) confidence, 0-1. */
  confidence: number;
  /** The face mesh confirmed it (full pass, mesh confidence >= MIN_FACE_CONFIDENCE). */
  verified: boolean;
  /** Whether the face stands upright in the frame (within 45 degrees); null when unknown. */
  upright: boolean | null;
}

/**
 * Detector-only pass: used on the four-orientation mosaic (see quarterTurnMosaic), with a lower cut-off and room for
 * the same faces in four tiles. Full pass: detector + mesh.
 */
export type DetectionPass = "detector" | "full";

/** Below this BlazeFace/mesh confidence a candidate is dropped (calibrated on the fixtures, see metrics.ts). */
export const MIN_FACE_CONFIDENCE = 0.5;
const MAX_FACES = 5;
/**
 * The orientation probe only compares evidence between tiles (the full pass confirms what it picks), so it keeps
 * weaker candidates: on a 128 px tile a blurred or small face scores 0.3-0.5 where the full pass gives it 0.5+.
 */
const PROBE_MIN_CONFIDENCE = 0.3;
const PROBE_MAX_FACES = 4 * MAX_FACES;
/** 45 degrees: a quarter turn either way decides which way up a face is. */
const UPRIGHT_TOLERANCE = Math.PI / 4;
/** Human enlarges detector boxes by this much; undone to report a tight box from a detector-only pass. */
const DETECTOR_BOX_SCALE = 1.4;

type TfLike = {
  io: {
    registerLoadRouter(router: (url: string | string[]) => unknown): void;
    getModelArtifactsForJSON(
      json: unknown,
      loadWeights: (manifest: WeightsGroup[]) => Promise<[unknown[], ArrayBuffer]>,
    ): Promise<unknown>;
  };
  env(): { set(flag: string, value: boolean): void };
  tensor3d(values: Int32Array, shape: [number, number, number], dtype: "int32"): { dispose(): void };
  memory(): { numTensors: number };
  getBackend(): string;
};
interface WeightsGroup {
  paths: string[];
  weights: unknown[];
}

export interface FaceDetector {
  detect(image: RgbImage, pass: DetectionPass): Promise<FaceDetection[]>;
  /** Live TF.js tensors: model weights only between calls (tests check it stays flat). */
  tensorCount(): number;
}

/** Model folders the file:// router may serve; one router per TF.js instance, shared by every detector. */
const servedDirs = new Set<string>();
const routedEngines = new WeakSet<object>();

/**
 * TF.js loads models with fetch, which cannot read file:// URLs in Node: this router reads model.json and its
 * weight shards from disk instead, and only from the folders registered here.
 */
function registerFileRouter(tf: TfLike, modelsDir: string): void {
  servedDirs.add(path.resolve(modelsDir));
  if (routedEngines.has(tf.io)) return;
  routedEngines.add(tf.io);
  tf.io.registerLoadRouter((url) => {
    const first = Array.isArray(url) ? url[0] : url;
    if (typeof first !== "string" || !first.startsWith("file://")) return null;
    const file = fileURLToPath(first);
    if (!servedDirs.has(path.dirname(file))) return null;
    return {
      load: async () => {
        const json = JSON.parse(await readFile(file, "utf8")) as unknown;
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const specs: unknown[] = [];
          const shards: Buffer[] = [];
          for (const group of manifest) {
            for (const shard of group.paths)
              shards.push(await readFile(path.join(path.dirname(file), shard)));
            specs.push(...group.weights);
          }
          const all = Buffer.concat(shards);
          return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
        });
      },
    };
  });
}

function humanConfig(resolved: ResolvedEngine): Partial<Config> {
  return {
    backend: "wasm",
    // A local folder: the default is a CDN, and nothing may be fetched.
    wasmPath: resolved.tfjsWasmDir,
    wasmPlatformFetch: false,
    debug: false,
    async: false,
    warmup: "none",
    modelBasePath: `${pathToFileURL(resolved.humanModelsDir).href}/`,
    cacheModels: false,
    validateModels: false,
    // The result cache would hand one request's faces to the next, unrelated image.
    cacheSensitivity: 0,
    skipAllowed: false,
    filter: { enabled: false },
    gesture: { enabled: false },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
    face: {
      enabled: true,
      detector: {
        modelPath: "blazeface.json",
        rotation: true,
        maxDetected: MAX_FACES,
        minConfidence: MIN_FACE_CONFIDENCE,
        iouThreshold: 0.1,
        scale: DETECTOR_BOX_SCALE,
        skipFrames: 0,
        skipTime: 0,
        return: false,
        mask: false,
      },
      // Keep detector faces the mesh cannot confirm: the engine decides (a heavily blurred face fails the mesh).
      mesh: { enabled: true, modelPath: "facemesh.json", keepInvalid: true },
      attention: { enabled: false },
      iris: { enabled: false },
      emotion: { enabled: false },
      description: { enabled: false },
      // Human's own anti-spoofing and liveness models are not used: MiniFASNet gives the estimate.
      antispoof: { enabled: false },
      liveness: { enabled: false },
      gear: { enabled: false },
    },
  };
}

/** Every detect() states every per-pass setting: Human keeps per-call overrides on the instance. */
function passConfig(pass: DetectionPass): Partial<Config> {
  const full = pass === "full";
  return {
    cacheSensitivity: 0,
    skipAllowed: false,
    face: {
      enabled: true,
      detector: {
        rotation: full,
        maxDetected: full ? MAX_FACES : PROBE_MAX_FACES,
        minConfidence: full ? MIN_FACE_CONFIDENCE : PROBE_MIN_CONFIDENCE,
        skipFrames: 0,
        skipTime: 0,
        return: false,
      },
      mesh: { enabled: full, keepInvalid: true },
    },
  } as Partial<Config>;
}

export async function createFaceDetector(resolved: ResolvedEngine): Promise<FaceDetector> {
  const mod = (await import(pathToFileURL(resolved.humanEntry).href)) as {
    Human?: new (config?: Partial<Config>) => Human;
    default?: { Human?: new (config?: Partial<Config>) => Human };
  };
  const HumanClass = mod.Human ?? mod.default?.Human;
  if (!HumanClass) throw new Error("human.node-wasm.js has no Human export");
  const human = new HumanClass(humanConfig(resolved));
  const tf = human.tf as TfLike;
  // Single-threaded by design (one analysis at a time, no worker threads on a 2-core box); set before Human picks
  // the WASM build, since its own `flags` are applied only after the backend is up.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  registerFileRouter(tf, resolved.humanModelsDir);
  await human.load();
  if (tf.getBackend() !== "wasm") throw new Error(`TF.js backend is ${tf.getBackend()}, not wasm`);
  const loaded = human.models.loaded();
  for (const model of ["blazeface", "facemesh"]) {
    if (!loaded.some((name) => name.toLowerCase().includes(model)))
      throw new Error(`model ${model} did not load`);
  }

  return {
    async detect(image, pass) {
      const input = tf.tensor3d(new Int32Array(image.data), [image.height, image.width, 3], "int32");
      try {
        const result = await human.detect(input as never, passConfig(pass));
        if (result.error) throw new Error(`face detection failed: ${result.error}`);
        return result.face.map((face) => toFaceDetection(face, pass));
      } finally {
        input.dispose();
      }
    },
    tensorCount: () => tf.memory().numTensors,
  };
}

function toFaceDetection(face: FaceResult, pass: DetectionPass): FaceDetection {
  const confidence = face.boxScore;
  const verified = pass === "full" && face.faceScore >= MIN_FACE_CONFIDENCE && face.mesh.length >= 468;
  const roll = face.rotation?.angle.roll;
  if (verified) {
    let x1 = Number.POSITIVE_INFINITY;
    let y1 = Number.POSITIVE_INFINITY;
    let x2 = Number.NEGATIVE_INFINITY;
    let y2 = Number.NEGATIVE_INFINITY;
    for (const [x, y] of face.mesh) {
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
    }
    return {
      box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 },
      confidence,
      verified,
      upright: roll === undefined ? null : Math.abs(roll) <= UPRIGHT_TOLERANCE,
    };
  }
  const [x, y, width, height] = face.box;
  const shrink = (1 - 1 / DETECTOR_BOX_SCALE) / 2;
  return {
    box: {
      x: x + width * shrink,
      y: y + height * shrink,
      width: width / DETECTOR_BOX_SCALE,
      height: height / DETECTOR_BOX_SCALE,
    },
    confidence,
    verified: false,
    upright: pass === "detector" ? landmarksUpright(face) : null,
  };
}

/**
 * BlazeFace's eye and mouth keypoints follow the face as it lies in the frame: the face is upright when the
 * mouth-to-eyes vector points up, within UPRIGHT_TOLERANCE. (A face upside down sometimes scores with keypoints
 * drawn as if upright; the orientation search's confidence ordering handles that case.)
 */
function landmarksUpright(face: FaceResult): boolean | null {
  const left = face.annotations.leftEye?.[0];
  const right = face.annotations.rightEye?.[0];
  const mouth = face.annotations.mouth?.[0];
  if (!left || !right || !mouth) return null;
  const upX = (left[0] + right[0]) / 2 - mouth[0];
  const upY = (left[1] + right[1]) / 2 - mouth[1];
  // Angle of the up vector from straight up (image y grows downwards).
  const tilt = Math.atan2(upX, -upY);
  return Math.abs(tilt) <= UPRIGHT_TOLERANCE;
}
