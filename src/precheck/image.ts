import { decodeBounded, type Sharp } from "../images/bounded-decode.js";
import type { BestAngle } from "./types.js";

export type { Sharp } from "../images/bounded-decode.js";

/** 8-bit RGB, 3 bytes a pixel, row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A box in pixels: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Longest side the analysis works at: plenty for an 80 px anti-spoofing crop and a 128 px sharpness crop. */
export const WORK_MAX_SIDE = 1280;

export interface DecodedImage {
  /** Upright (EXIF orientation applied), at most WORK_MAX_SIDE on its longest side. */
  work: RgbImage;
  /** Size of the upright image at full resolution. */
  original: { width: number; height: number };
}

/**
 * Decodes JPEG/PNG/WebP/TIFF, applies the EXIF orientation and shrinks to the working size, in one pass, within the
 * shared decode limits (side, shape, pixels, time) that every decode in this server goes through.
 */
export function decodeImage(sharp: Sharp, bytes: Uint8Array): Promise<DecodedImage> {
  return decodeBounded(sharp, bytes, async (input, original) => {
    const { data, info } = await input
      .rotate()
      .resize({ width: WORK_MAX_SIDE, height: WORK_MAX_SIDE, fit: "inside", withoutEnlargement: true })
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { work: { data, width: info.width, height: info.height }, original };
  });
}

function rawInput(sharp: Sharp, image: RgbImage) {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

async function toRgb(pipeline: ReturnType<Sharp>): Promise<RgbImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Rotates clockwise by a multiple of 90 degrees. */
export async function rotateImage(sharp: Sharp, image: RgbImage, angle: BestAngle): Promise<RgbImage> {
  if (angle === 0) return image;
  return toRgb(rawInput(sharp, image).rotate(angle));
}

export interface Letterboxed {
  /** Square RGB: the image scaled to fit, padded with black on the right or bottom. */
  square: RgbImage;
  /** Letterboxed pixels per input pixel; the padding is at the far edges, so the mapping has no offset. */
  scale: number;
}

/**
 * Makes the image square for the detector, which stretches whatever it gets to 256 x 256: a non-square frame
 * would squash faces. Shrinks to at most `maxSide` first; never enlarges.
 */
export async function letterbox(sharp: Sharp, image: RgbImage, maxSide: number): Promise<Letterboxed> {
  const longest = Math.max(image.width, image.height);
  const scale = Math.min(1, maxSide / longest);
  let pipeline = rawInput(sharp, image);
  let width = image.width;
  let height = image.height;
  if (scale < 1) {
    width = Math.max(1, Math.round(image.width * scale));
    height = Math.max(1, Math.round(image.height * scale));
    pipeline = pipeline.resize(width, height, { fit: "fill" });
  }
  const side = Math.max(width, height);
  if (width !== side || height !== side) {
    // sharp extends after resizing, whatever the call order.
    pipeline = pipeline.extend({
      right: side - width,
      bottom: side - height,
      background: { r: 0, g: 0, b: 0 },
    });
  } else if (scale === 1) {
    return { square: image, scale: 1 };
  }
  return { square: await toRgb(pipeline), scale: side / longest };
}

/** The box as integer pixel bounds clipped to the image, at least 1 x 1. */
export function clipBox(box: Box, width: number, height: number): Box {
  const x1 = Math.min(width - 1, Math.max(0, Math.floor(box.x)));
  const y1 = Math.min(height - 1, Math.max(0, Math.floor(box.y)));
  const x2 = Math.min(width, Math.max(x1 + 1, Math.ceil(box.x + box.width)));
  const y2 = Math.min(height, Math.max(y1 + 1, Math.ceil(box.y + box.height)));
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** The face box as a `size` x `size` grayscale patch (area-filtered by libvips), for the sharpness measure. */
export async function grayPatch(sharp: Sharp, image: RgbImage, box: Box, size: number): Promise<Uint8Array> {
  const clipped = clipBox(box, image.width, image.height);
  const { data } = await rawInput(sharp, image)
    .extract({ left: clipped.x, top: clipped.y, width: clipped.width, height: clipped.height })
    .resize(size, size, { fit: "fill" })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}

/** The whole image in gray, shrunk to fit `maxSide`, for the global blur measure. */
export async function grayThumbnail(
  sharp: Sharp,
  image: RgbImage,
  maxSide: number,
): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await rawInput(sharp, image)
    .resize({ width: maxSide, height: maxSide, fit: "inside", withoutEnlargement: true })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Clockwise quarter turns, in the order of the tiles of quarterTurnMosaic: top-left, top-right, bottom-left, bottom-right. */
export const MOSAIC_ANGLES: readonly BestAngle[] = [0, 90, 180, 270];

/**
 * A square image turned by each of MOSAIC_ANGLES, laid out 2 x 2 (twice its side): one detector call then sees all
 * four orientations at once, where four calls would cost four model runs. Pure index mapping, no resampling.
 */
export function quarterTurnMosaic(square: RgbImage): RgbImage {
  const s = square.width;
  if (square.height !== s) throw new Error("quarterTurnMosaic needs a square image");
  const side = 2 * s;
  const data = new Uint8Array(side * side * 3);
  const src = square.data;
  const last = s - 1;
  for (let tile = 0; tile < 4; tile++) {
    const ox = (tile % 2) * s;
    const oy = Math.floor(tile / 2) * s;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        // The source pixel that a clockwise turn brings to (x, y).
        let sx = x;
        let sy = y;
        if (tile === 1) {
          sx = y;
          sy = last - x;
        } else if (tile === 2) {
          sx = last - x;
          sy = last - y;
        } else if (tile === 3) {
          sx = last - y;
          sy = x;
        }
        const from = (sy * s + sx) * 3;
        const to = ((oy + y) * side + ox + x) * 3;
        data[to] = src[from] ?? 0;
        data[to + 1] = src[from + 1] ?? 0;
        data[to + 2] = src[from + 2] ?? 0;
      }
    }
  }
  return { data, width: side, height: side };
}

/**
 * A `side` x `side` RGB view of the square of `extent` times the box's longer side, centred on the box: the part of
 * the square outside the image is black. Gives the orientation probe a face large enough to tell which way is up.
 */
export async function squareAround(
  sharp: Sharp,
  image: RgbImage,
  box: Box,
  extent: number,
  side: number,
): Promise<RgbImage> {
  const span = Math.max(box.width, box.height) * extent;
  const sx = box.x + box.width / 2 - span / 2;
  const sy = box.y + box.height / 2 - span / 2;
  const clipped = clipBox({ x: sx, y: sy, width: span, height: span }, image.width, image.height);
  const scale = side / span;
  const width = Math.min(side, Math.max(1, Math.round(clipped.width * scale)));
  const height = Math.min(side, Math.max(1, Math.round(clipped.height * scale)));
  const left = Math.min(side - width, Math.max(0, Math.round((clipped.x - sx) * scale)));
  const top = Math.min(side - height, Math.max(0, Math.round((clipped.y - sy) * scale)));
  return toRgb(
    rawInput(sharp, image)
      .extract({ left: clipped.x, top: clipped.y, width: clipped.width, height: clipped.height })
      .resize(width, height, { fit: "fill" })
      .extend({
        left,
        top,
        right: side - width - left,
        bottom: side - height - top,
        background: { r: 0, g: 0, b: 0 },
      }),
  );
}
