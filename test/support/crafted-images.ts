import { constants, crc32, deflateRawSync } from "node:zlib";

/**
 * Hostile but valid images built in the test, so no multi-megabyte fixture is committed: a PNG whose header claims
 * a huge or absurdly thin canvas, with real (all-zero) pixel data deflated to a few hundred KB.
 */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** PNG colour types: 0 gray, 2 RGB, 6 RGBA. */
export interface PngShape {
  width: number;
  height: number;
  bitDepth?: 8 | 16;
  colorType?: 0 | 2 | 6;
  /** Adam7: decoders must then hold the whole canvas at once. */
  interlaced?: boolean;
}

const CHANNELS = { 0: 1, 2: 3, 6: 4 } as const;

/** Just the PNG header chunk (no pixels): enough for header parsers, refused by any decoder. */
export function pngHeader({
  width,
  height,
  bitDepth = 8,
  colorType = 2,
  interlaced = false,
}: PngShape): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(bitDepth, 8);
  ihdr.writeUInt8(colorType, 9);
  ihdr.writeUInt8(interlaced ? 1 : 0, 12);
  return Buffer.concat([PNG_SIGNATURE, chunk("IHDR", ihdr)]);
}

/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes of filtered scanlines (one filter byte a row) before compression. */
function rawLength({ width, height, bitDepth = 8, colorType = 2, interlaced = false }: PngShape): number {
  const row = (w: number) => 1 + w * CHANNELS[colorType] * (bitDepth / 8);
  if (!interlaced) return row(width) * height;
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.max(0, Math.ceil((width - x0) / dx));
    const h = Math.max(0, Math.ceil((height - y0) / dy));
    if (w > 0 && h > 0) total += row(w) * h;
  }
  return total;
}

/** Raw deflate of `length` zero bytes, ending on a byte boundary and not final, so copies can be chained. */
function deflatedZeros(length: number): Buffer {
  return deflateRawSync(Buffer.alloc(length), { finishFlush: constants.Z_SYNC_FLUSH });
}

const BLOCK = 1 << 20;

/**
 * A complete, valid PNG of black pixels, built without ever holding the raw canvas: every row byte is zero (filter
 * None, black samples), so the zlib stream is one deflated 1 MiB block of zeros repeated, a shorter one for the
 * rest, an empty final block and the Adler-32 of n zeros (a = 1, b = n mod 65521). 49,999,999 x 1 RGBA 16-bit
 * (400 MB of pixels) comes out at about 400 KB, in milliseconds.
 */
export function blackPng(shape: PngShape): Buffer {
  const total = rawLength(shape);
  const whole = Math.floor(total / BLOCK);
  const rest = total % BLOCK;
  const block = deflatedZeros(BLOCK);
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((total % 65521) * 65536 + 1) >>> 0, 0);
  const zlibStream = Buffer.concat([
    Buffer.from([0x78, 0x01]),
    ...Array.from({ length: whole }, () => block),
    ...(rest > 0 ? [deflatedZeros(rest)] : []),
    Buffer.from([0x03, 0x00]), // final, fixed-Huffman, end-of-block only
    adler,
  ]);
  return Buffer.concat([pngHeader(shape), chunk("IDAT", zlibStream), chunk("IEND", Buffer.alloc(0))]);
}
