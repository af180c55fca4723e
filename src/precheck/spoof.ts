import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import type * as Ort from "onnxruntime-web";
import type { Box, RgbImage } from "./image.js";
import type { ResolvedEngine } from "./loader.js";

export const SPOOF_MODEL_NAME = "MiniFASNetV2+MiniFASNetV1SE (Silent-Face-Anti-Spoofing, Apache-2.0)";

/** Crop scale around the face box for each model, in the order of SPOOF_MODEL_FILES (see models/minifasnet/NOTICE). */
const CROP_SCALES = [2.7, 4.0] as const;
const INPUT_SIDE = 80;
/** Class 1 of the 3 logits is "real face". */
const REAL_CLASS = 1;

export interface SpoofScorer {
  /**
   * P(live) x 100 for the face, averaged over both models; advisory only. `face` is the tight face box (the
   * face mesh's bounds), standing in for the original project's SSD detector box.
   */
  score(image: RgbImage, face: Box): Promise<number>;
}

/**
 * The original project's crop (Silent-Face-Anti-Spoofing, CropImage._get_new_box): scale the box around its
 * centre, capped so it fits the image, then shift it (never clip) to stay inside. Inclusive pixel bounds.
 */
export function spoofCropBounds(
  width: number,
  height: number,
  face: Box,
  scale: number,
): { left: number; top: number; right: number; bottom: number } {
  const boxW = Math.max(1, face.width);
  const boxH = Math.max(1, face.height);
  const s = Math.min((height - 1) / boxH, (width - 1) / boxW, scale);
  const newW = boxW * s;
  const newH = boxH * s;
  const cx = face.x + boxW / 2;
  const cy = face.y + boxH / 2;
  let left = cx - newW / 2;
  let top = cy - newH / 2;
  let right = cx + newW / 2;
  let bottom = cy + newH / 2;
  if (left < 0) {
    right -= left;
    left = 0;
  }
  if (top < 0) {
    bottom -= top;
    top = 0;
  }
  if (right > width - 1) {
    left -= right - width + 1;
    right = width - 1;
  }
  if (bottom > height - 1) {
    top -= bottom - height + 1;
    bottom = height - 1;
  }
  const int = (v: number) => Math.max(0, Math.trunc(v));
  return { left: int(left), top: int(top), right: int(right), bottom: int(bottom) };
}

/**
 * Crops [left..right] x [top..bottom] and resizes to 80 x 80 like OpenCV's INTER_LINEAR (half-pixel centres, no
 * antialiasing), then lays it out as the models expect: NCHW float32, BGR planes, raw 0-255 values.
 */
export function spoofInput(
  image: RgbImage,
  bounds: { left: number; top: number; right: number; bottom: number },
): Float32Array {
  const cropW = bounds.right - bounds.left + 1;
  const cropH = bounds.bottom - bounds.top + 1;
  const plane = INPUT_SIDE * INPUT_SIDE;
  const out = new Float32Array(3 * plane);
  const sx = cropW / INPUT_SIDE;
  const sy = cropH / INPUT_SIDE;
  const { data, width } = image;
  for (let oy = 0; oy < INPUT_SIDE; oy++) {
    let fy = (oy + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    const y0 = Math.min(Math.floor(fy), cropH - 1);
    const y1 = Math.min(y0 + 1, cropH - 1);
    const wy = Math.min(fy - y0, 1);
    for (let ox = 0; ox < INPUT_SIDE; ox++) {
      let fx = (ox + 0.5) * sx - 0.5;
      if (fx < 0) fx = 0;
      const x0 = Math.min(Math.floor(fx), cropW - 1);
      const x1 = Math.min(x0 + 1, cropW - 1);
      const wx = Math.min(fx - x0, 1);
      const p00 = ((bounds.top + y0) * width + bounds.left + x0) * 3;
      const p01 = ((bounds.top + y0) * width + bounds.left + x1) * 3;
      const p10 = ((bounds.top + y1) * width + bounds.left + x0) * 3;
      const p11 = ((bounds.top + y1) * width + bounds.left + x1) * 3;
      const o = oy * INPUT_SIDE + ox;
      for (let c = 0; c < 3; c++) {
        const top = (data[p00 + c] ?? 0) * (1 - wx) + (data[p01 + c] ?? 0) * wx;
        const bottom = (data[p10 + c] ?? 0) * (1 - wx) + (data[p11 + c] ?? 0) * wx;
        // RGB channel c goes to BGR plane 2 - c.
        out[(2 - c) * plane + o] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

export function softmax(logits: ArrayLike<number>): number[] {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

export async function createSpoofScorer(resolved: ResolvedEngine): Promise<SpoofScorer> {
  const ort = (await import(resolved.ortPackage)) as typeof Ort;
  // Pure WASM, one thread, and only local files: the default paths point at the package's own dist folder
  // through import.meta.url, which bundlers and loaders may move.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = {
    mjs: pathToFileURL(resolved.ortMjs).href,
    wasm: pathToFileURL(resolved.ortWasm).href,
  };
  ort.env.logLevel = "error";
  // Read before the runtime starts: once it compiles in the background, a file read can wait its turn for long.
  const models = await Promise.all((resolved.spoofModels ?? []).map((file) => readFile(file)));
  const sessions: Ort.InferenceSession[] = [];
  for (const model of models) {
    sessions.push(
      await ort.InferenceSession.create(model, {
        executionProviders: ["wasm"],
        // Optimising these two small graphs costs ~300 ms of start-up and saves nothing measurable per call.
        graphOptimizationLevel: "disabled",
        logSeverityLevel: 3,
      }),
    );
  }

  return {
    async score(image, face) {
      let live = 0;
      for (const [i, session] of sessions.entries()) {
        const bounds = spoofCropBounds(image.width, image.height, face, CROP_SCALES[i] ?? 2.7);
        const input = new ort.Tensor("float32", spoofInput(image, bounds), [1, 3, INPUT_SIDE, INPUT_SIDE]);
        const outputs = await session.run({ input });
        const output = outputs.output;
        if (!output) throw new Error("MiniFASNet returned no 'output'");
        live += softmax(output.data as Float32Array)[REAL_CLASS] ?? 0;
        output.dispose();
        input.dispose();
      }
      return (100 * live) / sessions.length;
    },
  };
}
