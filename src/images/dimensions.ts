import { ToolFailure } from "../core/errors.js";

/**
 * Canvas limits any image must pass before it is decoded or uploaded. A face photo is never this long or this thin,
 * and a thin canvas is what makes decoders slow and hungry: a 389 KB PNG of 49,999,999 x 1 px passed a 50 MP limit
 * and took sharp 38 s and 5.9 GB to shrink. 16,384 px is also WebP's own maximum side.
 */
export const MAX_IMAGE_SIDE = 16_384;
/** Longest side over shortest side; a phone photo is 4:3 to 21:9 (2.33:1), a panorama rarely past 10:1. */
export const MAX_ASPECT_RATIO = 20;

/** What to do about an image too large to take: the same advice wherever the limit is met. */
export const RESIZE_HINT =
  "Send the face photo resized so its longest side is at most 4,000 px (Didit recompresses to about 0.5 MB, so 1-2 MP is plenty).";

export interface ImageDimensions {
  width: number;
  height: number;
}

/** 49999999 -> "49,999,999" without Intl, whose first use costs ~130 ms of ICU start-up on a refusal path. */
export const withThousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const number = withThousands;

/** Refuses a canvas over MAX_IMAGE_SIDE on a side or MAX_ASPECT_RATIO in shape, before any pixel is decoded. */
export function assertDimensionsAllowed({ width, height }: ImageDimensions): void {
  const size = `${number(width)} x ${number(height)} px`;
  const longest = Math.max(width, height);
  const shortest = Math.min(width, height);
  if (longest > MAX_IMAGE_SIDE) {
    throw new ToolFailure(
      "too_large",
      `The image is ${size}: a side over ${number(MAX_IMAGE_SIDE)} px is refused before decoding.`,
      RESIZE_HINT,
    );
  }
  if (shortest === 0 || longest / shortest > MAX_ASPECT_RATIO) {
    throw new ToolFailure(
      "not_an_image",
      `The image is ${size}, ${shortest === 0 ? "empty" : `${number(Number((longest / shortest).toFixed(1)))}:1`}: nothing longer than ${MAX_ASPECT_RATIO}:1 is a face photo, so it is refused before decoding.`,
      "Send an ordinary photo of the face (portrait or landscape, like a phone camera takes), not a strip or a panorama.",
    );
  }
}

/**
 * Width and height as the file's header states them, for JPEG, PNG, WebP and TIFF, without decoding anything and
 * without optional packages. Undefined when the header cannot be read; never throws, whatever the bytes.
 */
export function readImageDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return png(bytes, view);
    if (startsWith(bytes, [0xff, 0xd8])) return jpeg(view);
    if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return webp(bytes, view);
    if (ascii(bytes, 0, 2) === "II" || ascii(bytes, 0, 2) === "MM") return tiff(view);
  } catch {
    // A header cut short (DataView RangeError): no dimensions.
  }
  return undefined;
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function dims(width: number, height: number): ImageDimensions {
  return { width, height };
}

/** IHDR is always the first chunk. */
function png(bytes: Uint8Array, view: DataView): ImageDimensions | undefined {
  if (ascii(bytes, 12, 4) !== "IHDR") return undefined;
  return dims(view.getUint32(16), view.getUint32(20));
}

/** Markers without a length field (TEM, RST0-7, SOI, EOI). */
const STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9]);
/** Start-of-frame markers (all but DHT C4, JPG C8 and DAC CC). */
const START_OF_FRAME = new Set([
  0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf,
]);

/** Walks the marker segments up to the first start-of-frame, which carries the size. */
function jpeg(view: DataView): ImageDimensions | undefined {
  let at = 2;
  while (at + 4 <= view.byteLength) {
    if (view.getUint8(at) !== 0xff) return undefined;
    const marker = view.getUint8(at + 1);
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (STANDALONE.has(marker)) {
      at += 2;
      continue;
    }
    if (marker === 0xda) return undefined; // scan data before any frame header
    if (START_OF_FRAME.has(marker)) {
      const height = view.getUint16(at + 5);
      // A height of 0 is set later by a DNL marker: leave that file to the decoder.
      return height === 0 ? undefined : dims(view.getUint16(at + 7), height);
    }
    at += 2 + view.getUint16(at + 2);
  }
  return undefined;
}

/** The first chunk says which kind: lossy (VP8), lossless (VP8L) or extended (VP8X, with the canvas size). */
function webp(bytes: Uint8Array, view: DataView): ImageDimensions | undefined {
  const kind = ascii(bytes, 12, 4);
  if (kind === "VP8X") {
    const uint24 = (at: number) =>
      view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getUint8(at + 2) << 16);
    return dims(uint24(24) + 1, uint24(27) + 1);
  }
  if (kind === "VP8 ") {
    if (!startsWith(bytes.subarray(23), [0x9d, 0x01, 0x2a])) return undefined;
    return dims(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
  }
  if (kind === "VP8L") {
    if (view.getUint8(20) !== 0x2f) return undefined;
    const bits = view.getUint32(21, true);
    return dims((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  return undefined;
}

const TIFF_WIDTH = 256;
const TIFF_LENGTH = 257;
const TIFF_SHORT = 3;
const TIFF_LONG = 4;

/** ImageWidth and ImageLength of the first IFD (the page decoders read); classic TIFF only. */
function tiff(view: DataView): ImageDimensions | undefined {
  const little = view.getUint8(0) === 0x49;
  if (view.getUint16(2, little) !== 42) return undefined;
  const ifd = view.getUint32(4, little);
  const entries = view.getUint16(ifd, little);
  let width: number | undefined;
  let height: number | undefined;
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    const tag = view.getUint16(entry, little);
    if (tag !== TIFF_WIDTH && tag !== TIFF_LENGTH) continue;
    const type = view.getUint16(entry + 2, little);
    const value =
      type === TIFF_SHORT
        ? view.getUint16(entry + 8, little)
        : type === TIFF_LONG
          ? view.getUint32(entry + 8, little)
          : undefined;
    if (tag === TIFF_WIDTH) width = value;
    else height = value;
  }
  return width !== undefined && height !== undefined ? dims(width, height) : undefined;
}
