import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";
import {
  assertDimensionsAllowed,
  MAX_ASPECT_RATIO,
  MAX_IMAGE_SIDE,
  readImageDimensions,
} from "../../src/images/dimensions.js";
import { sniffImageType } from "../../src/images/sniff.js";
import { blackPng, pngHeader } from "../support/crafted-images.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { startInMemory, testConfig, textOf } from "../support/in-memory.js";

/** Baseline JPEG header: SOI, an APP0 segment, then SOF0 with the size. */
function jpegHeader(width: number, height: number, frame = 0xc0): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof = Buffer.from([
    0xff,
    frame,
    0x00,
    0x11,
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, Buffer.from([0xff, 0xff]), sof, Buffer.alloc(9)]);
}

function riff(chunk: string, body: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.write("RIFF", 0, "latin1");
  head.writeUInt32LE(12 + body.length, 4);
  head.write("WEBP", 8, "latin1");
  head.write(chunk, 12, "latin1");
  head.writeUInt32LE(body.length, 16);
  return Buffer.concat([head, body]);
}

function webpLossy(width: number, height: number): Buffer {
  const body = Buffer.alloc(10);
  body.set([0x9d, 0x01, 0x2a], 3);
  body.writeUInt16LE(width, 6);
  body.writeUInt16LE(height, 8);
  return riff("VP8 ", body);
}

function webpLossless(width: number, height: number): Buffer {
  const body = Buffer.alloc(5);
  body[0] = 0x2f;
  body.writeUInt32LE(((width - 1) | ((height - 1) << 14)) >>> 0, 1);
  return riff("VP8L", body);
}

function webpExtended(width: number, height: number): Buffer {
  const body = Buffer.alloc(10);
  body.writeUIntLE(width - 1, 4, 3);
  body.writeUIntLE(height - 1, 7, 3);
  return riff("VP8X", body);
}

function tiffHeader(width: number, height: number, little: boolean): Buffer {
  const b = Buffer.alloc(8 + 2 + 3 * 12 + 4);
  const u16 = (v: number, at: number) => (little ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  b.write(little ? "II" : "MM", 0, "latin1");
  u16(42, 2);
  u32(8, 4);
  u16(3, 8);
  const entry = (i: number, tag: number, type: number, value: number) => {
    const at = 10 + i * 12;
    u16(tag, at);
    u16(type, at + 2);
    u32(1, at + 4);
    if (type === 3) u16(value, at + 8);
    else u32(value, at + 8);
  };
  entry(0, 254, 4, 0); // NewSubfileType, skipped
  entry(1, 256, width > 0xffff ? 4 : 3, width);
  entry(2, 257, 4, height);
  return b;
}

describe("readImageDimensions reads the size from the header alone", () => {
  const side = fc.integer({ min: 1, max: 16_383 });

  it("PNG, JPEG (every start-of-frame kind), WebP (lossy, lossless, extended) and TIFF (both byte orders)", () => {
    fc.assert(
      fc.property(side, side, (width, height) => {
        const expected = { width, height };
        expect(readImageDimensions(pngHeader({ width, height }))).toEqual(expected);
        for (const frame of [0xc0, 0xc1, 0xc2, 0xcf])
          expect(readImageDimensions(jpegHeader(width, height, frame))).toEqual(expected);
        expect(readImageDimensions(webpLossy(width, height))).toEqual(expected);
        expect(readImageDimensions(webpLossless(width, height))).toEqual(expected);
        expect(readImageDimensions(webpExtended(width, height))).toEqual(expected);
        expect(readImageDimensions(tiffHeader(width, height, true))).toEqual(expected);
        expect(readImageDimensions(tiffHeader(width, height, false))).toEqual(expected);
      }),
    );
  });

  it("reads the sizes the attacks used, beyond any 16-bit field", () => {
    expect(readImageDimensions(pngHeader({ width: 49_999_999, height: 1 }))).toEqual({
      width: 49_999_999,
      height: 1,
    });
    expect(readImageDimensions(tiffHeader(200_000, 3, false))).toEqual({ width: 200_000, height: 3 });
    expect(readImageDimensions(webpExtended(16_777_216, 1))).toEqual({ width: 16_777_216, height: 1 });
  });

  it("never throws on truncated or random bytes, and gives up rather than guess", () => {
    const samples = [pngHeader({ width: 10, height: 10 }), jpegHeader(10, 10), webpExtended(10, 10)];
    for (const sample of samples) {
      for (let cut = 0; cut < sample.length; cut++) {
        const got = readImageDimensions(sample.subarray(0, cut));
        if (got) expect(got).toEqual({ width: 10, height: 10 });
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(0, 1, 2, 3), (tail, kind) => {
        const head = [
          [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
          [0xff, 0xd8],
          [0x49, 0x49],
          [0x4d, 0x4d],
        ][kind];
        expect(() => readImageDimensions(Uint8Array.from([...(head ?? []), ...tail]))).not.toThrow();
      }),
    );
    // A JPEG whose height comes later (DNL) is left to the decoder.
    expect(readImageDimensions(jpegHeader(10, 0))).toBeUndefined();
  });
});

describe("assertDimensionsAllowed", () => {
  const refusal = (width: number, height: number) => {
    try {
      assertDimensionsAllowed({ width, height });
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(ToolFailure);
      return error as ToolFailure;
    }
  };

  it("allows up to 16,384 px a side and 20:1, in either orientation", () => {
    expect(refusal(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE / MAX_ASPECT_RATIO + 0.2)).toBeUndefined();
    expect(refusal(4032, 3024)).toBeUndefined();
    expect(refusal(2000, 100)).toBeUndefined();
    expect(refusal(100, 2000)).toBeUndefined();
    expect(refusal(1, 1)).toBeUndefined();
  });

  it("refuses a longer side as too_large and a thinner shape as not_an_image, each with a hint", () => {
    expect(refusal(16_385, 10)?.code).toBe("too_large");
    expect(refusal(10, 16_385)?.code).toBe("too_large");
    expect(refusal(49_999_999, 1)?.message).toContain("49,999,999 x 1 px");
    const thin = refusal(2100, 100);
    expect(thin?.code).toBe("not_an_image");
    expect(thin?.message).toContain("21:1");
    expect(thin?.hint).toMatch(/ordinary photo/);
    expect(refusal(100, 2001)?.code).toBe("not_an_image");
    expect(refusal(0, 10)?.code).toBe("not_an_image");
  });
});

describe("the header check guards check_passive_liveness too, before a credit is spent", () => {
  let double: DiditDouble;
  let dir: string;
  beforeAll(async () => {
    double = await startDiditDouble();
    dir = await mkdtemp(path.join(tmpdir(), "didit-dims-"));
    await writeFile(
      path.join(dir, "thin16.png"),
      blackPng({ width: 49_999_999, height: 1, bitDepth: 16, colorType: 6 }),
    );
    await writeFile(path.join(dir, "wide.png"), blackPng({ width: 16_385, height: 820 }));
    await writeFile(path.join(dir, "strip.png"), blackPng({ width: 2100, height: 100 }));
    await writeFile(path.join(dir, "ok.png"), blackPng({ width: 2000, height: 100 }));
  });
  afterAll(async () => {
    await double.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses absurd canvases locally and uploads nothing; a 20:1 image still goes", async () => {
    const s = await startInMemory(
      testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url, allowedDirs: [dir] }),
    );
    try {
      for (const [file, code] of [
        ["thin16.png", "too_large"],
        ["wide.png", "too_large"],
        ["strip.png", "not_an_image"],
      ] as const) {
        const result = await s.call("check_passive_liveness", { image_path: file });
        expect(result.isError, file).toBe(true);
        expect(textOf(result)).toContain(`Error [${code}]`);
        expect(textOf(result)).toContain("Hint:");
      }
      expect(double.requests).toHaveLength(0);
      const ok = await s.call("check_passive_liveness", { image_path: "ok.png" });
      expect(ok.isError).toBeFalsy();
      expect(double.requests).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("sniffImageType is where the check sits, so every loader path gets it", async () => {
    await expect(sniffImageType(blackPng({ width: 24_999_999, height: 2 }))).rejects.toMatchObject({
      code: "too_large",
    });
    await expect(sniffImageType(blackPng({ width: 640, height: 480 }))).resolves.toMatchObject({
      mime: "image/png",
    });
  });
});
