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
