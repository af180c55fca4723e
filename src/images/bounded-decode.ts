import type SharpNamespace from "sharp";
import { ToolFailure } from "../core/errors.js";
import {
  assertDimensionsAllowed,
  type ImageDimensions,
  MAX_IMAGE_SIDE,
  RESIZE_HINT,
  withThousands,
} from "./dimensions.js";

export type Sharp = typeof SharpNamespace;
export type SharpPipeline = ReturnType<Sharp>;

/**
 * Didit recompresses every upload to about 0.5 MB (2-4 MP), so pixels beyond a phone photo buy nothing. 40 MP
 * covers a 32 MP selfie camera with room to spare; a 48 MP full-resolution phone JPEG rarely fits in 5 MB anyway.
 * Measured worst case at 40 MP (bench figures in the report): interlaced 16-bit RGBA PNG, 8.7 s and 474 MB peak;
 * an ordinary 40 MP JPEG, 0.3 s and 84 MB.
 */
export const MAX_DECODE_PIXELS = 40_000_000;
/**
 * The slowest legal decode measured here took 8.7-10 s (that 16-bit interlaced PNG) on a busy two-core machine;
 * 15 s lets it finish and stops anything slower. libvips abandons the work when it fires.
 */
export const DECODE_TIMEOUT_SECONDS = 15;

export interface DecodeLimits {
  maxPixels: number;
  timeoutSeconds: number;
}

export const DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxPixels: MAX_DECODE_PIXELS,
  timeoutSeconds: DECODE_TIMEOUT_SECONDS,
});

/**
 * The one way this server decodes an image: sharp reads the header first, the canvas must pass the side, shape and
 * pixel limits, and only then `decode` runs, on an input bounded by `limitInputPixels` and a libvips timeout. Every
 * failure is a ToolFailure (too_large for a canvas or decode too costly, not_an_image for anything undecodable).
 * `upright` is the size after the EXIF orientation is applied.
 */
export async function decodeBounded<T>(
  sharp: Sharp,
  bytes: Uint8Array,
  decode: (input: SharpPipeline, upright: ImageDimensions) => Promise<T>,
  limits: DecodeLimits = DECODE_LIMITS,
): Promise<T> {
  const started = performance.now();
  try {
    // Header only, and sharp's own reading of the size (the one its decoder uses); unlimited so that the refusal
    // below can say how large the image is.
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    const stored = { width: meta.width, height: meta.height };
    assertDimensionsAllowed(stored);
    assertPixelsAllowed(stored, limits.maxPixels);
    const input = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: "error" }).timeout({
      seconds: limits.timeoutSeconds,
    });
    guardExitDuringDecode();
    decodesInFlight += 1;
    try {
      return await decode(input, meta.autoOrient ?? stored);
    } finally {
      decodesInFlight -= 1;
    }
  } catch (error) {
    // libvips' kill can surface as the loader's own error rather than "timeout: ...": the clock decides.
    const timedOut = performance.now() - started >= limits.timeoutSeconds * 1000;
    throw decodeFailure(error, limits, timedOut);
  }
}

let decodesInFlight = 0;
let exitGuarded = false;

/**
 * A decode runs on libuv's thread pool, and process.exit joins that pool (libuv's library destructor), so a clean
 * exit waits for the decode to finish: measured 7.2 s after stdin closed. libvips' timeout cannot cut a whole-image
 * load short (interlaced PNG, progressive JPEG). So when the process exits with a decode still running, it ends at
 * once instead: nothing is lost, since the decode's result would have been discarded anyway.
 */
function guardExitDuringDecode(): void {
  if (exitGuarded) return;
  exitGuarded = true;
  process.on("exit", () => {
    if (decodesInFlight === 0) return;
    process.stderr.write(
      `[didit-passive-liveness-mcp] info: exiting during an image decode; ending the process at once\n`,
    );
    process.kill(process.pid, "SIGKILL");
  });
}

function assertPixelsAllowed({ width, height }: ImageDimensions, maxPixels: number): void {
  if (width * height <= maxPixels) return;
  throw new ToolFailure(
    "too_large",
    `The image is ${megapixels(width * height)} megapixels (${withThousands(width)} x ${withThousands(height)} px), over the pre-check's limit of ${megapixels(maxPixels)}.`,
    RESIZE_HINT,
  );
}

const megapixels = (pixels: number) => (pixels / 1e6).toFixed(1).replace(/\.0$/, "");

function decodeFailure(error: unknown, limits: DecodeLimits, timedOut: boolean): ToolFailure {
  if (error instanceof ToolFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (timedOut || /^timeout/i.test(message)) {
    return new ToolFailure(
      "too_large",
      `Decoding the image took longer than ${limits.timeoutSeconds} s and was stopped.`,
      `${RESIZE_HINT} An 8-bit JPEG decodes fastest.`,
    );
  }
  if (/pixel limit/i.test(message)) {
    return new ToolFailure(
      "too_large",
      `The image is over the pre-check's limit of ${megapixels(limits.maxPixels)} megapixels.`,
      RESIZE_HINT,
    );
  }
  return new ToolFailure(
    "not_an_image",
    `The image could not be decoded (${message.slice(0, 120)}).`,
    `Send the complete, uncorrupted photo file (JPEG, PNG, WebP or TIFF, at most ${megapixels(limits.maxPixels)} megapixels and ${withThousands(MAX_IMAGE_SIDE)} px a side).`,
  );
}
