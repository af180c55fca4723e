import { readFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";
import { DECODE_TIMEOUT_SECONDS, decodeBounded, MAX_DECODE_PIXELS } from "../../src/images/bounded-decode.js";
import { createPrecheckAnalyzer } from "../../src/precheck/index.js";
import { blackPng } from "../support/crafted-images.js";

// The engine warms up on first use (WASM compile, model load): allow for a slow, busy two-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const analyzer = createPrecheckAnalyzer();

beforeAll(async () => {
  await analyzer.warm();
});

/** Runs one analysis and reports how it ended, how long it took and how much the process grew meanwhile. */
async function attempt(bytes: Uint8Array) {
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const outcome = await analyzer.analyze(bytes).then(
    (analysis) => ({ analysis, failure: undefined }),
    (failure: unknown) => ({ analysis: undefined, failure }),
  );
  const ms = performance.now() - started;
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1e6;
  return { ...outcome, ms, rssGrowthMb };
}

function expectRefused(failure: unknown, code: string) {
  expect(failure).toBeInstanceOf(ToolFailure);
  expect((failure as ToolFailure).code).toBe(code);
  expect((failure as ToolFailure).hint.length).toBeGreaterThan(20);
  return failure as ToolFailure;
}

describe("the pre-check refuses hostile canvases before decoding them", () => {
  // The attack: 49,999,999 x 1 px RGBA 16-bit in ~390 KB took 38 s and 5.9 GB to shrink; 24,999,999 x 2 2.75 GB.
  // Refused from the header it takes milliseconds (target: under 100 ms and 50 MB; asserted with a wide margin, since
  // the time only has to tell "refused at once" from the attack's 38 s on a loaded machine).
  for (const [width, height] of [
    [49_999_999, 1],
    [24_999_999, 2],
  ] as const) {
    it(`a ${width.toLocaleString("en-US")} x ${height} 16-bit PNG is refused at once, with no memory spike`, async () => {
      const png = blackPng({ width, height, bitDepth: 16, colorType: 6 });
      expect(png.length).toBeLessThan(5 * 1024 * 1024);
      const { failure, ms, rssGrowthMb } = await attempt(png);
      expectRefused(failure, "too_large");
      expect(ms).toBeLessThan(5_000);
      expect(rssGrowthMb).toBeLessThan(100);
    });
  }

  it("a side over 16,384 px is too_large, whatever the shape", async () => {
    for (const [width, height] of [
      [16_385, 10],
      [16_385, 820],
      [820, 16_385],
    ]) {
      const { failure } = await attempt(blackPng({ width: width as number, height: height as number }));
      expect(expectRefused(failure, "too_large").message).toContain("16,385");
    }
  });

  it("a shape thinner than 20:1 is not a face photo", async () => {
    const { failure } = await attempt(blackPng({ width: 2100, height: 100 }));
    expect(expectRefused(failure, "not_an_image").message).toContain("21:1");
  });

  it(`more than ${MAX_DECODE_PIXELS / 1e6} megapixels is too_large, even in an ordinary shape`, async () => {
    const { failure } = await attempt(blackPng({ width: 7_746, height: 5_810 }));
    expect(expectRefused(failure, "too_large").message).toMatch(/45(\.0)? megapixels/);
  });

  it("a decode that outlasts its time limit is stopped and refused", async () => {
    // A black PNG alone can decode in under a second on a fast machine; a wide blur in the same pipeline makes the
    // work take minutes whatever the machine, so only the time limit can end it within the bound below.
    const slow = blackPng({ width: 7_300, height: 5_470, bitDepth: 16, colorType: 6 });
    const started = performance.now();
    const decoding = decodeBounded(sharp, slow, (input) => input.blur(200).raw().toBuffer(), {
      maxPixels: MAX_DECODE_PIXELS,
      timeoutSeconds: 1,
    });
    const failure = await decoding.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(expectRefused(failure, "too_large").message).toContain("1 s");
    // Without the limit the blur runs for minutes; a loaded 2-core machine needs slack to notice the 1 s limit.
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(DECODE_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(10);
  });
});

describe("legal images at the limits still work", () => {
  it("16,384 x 820 (both the side and the 20:1 limit) is analysed", async () => {
    const { analysis, failure } = await attempt(blackPng({ width: 16_384, height: 820 }));
    expect(failure).toBeUndefined();
    expect(analysis).toMatchObject({ faces_detected: 0, image_size: { width: 16_384, height: 820 } });
  });

  it("a face photo at a phone's 12 megapixels is analysed and its face found", async () => {
    const photo = await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"));
    // The fixture is 640 x 480 with EXIF orientation 6: upright it is 480 x 640.
    const large = await sharp(photo)
      .rotate()
      .resize(3_024, 4_032, { fit: "fill" })
      .jpeg({ quality: 85 })
      .toBuffer();
    expect(large.length).toBeLessThan(5 * 1024 * 1024);
    const { analysis, failure, ms } = await attempt(large);
    expect(failure).toBeUndefined();
    expect(analysis).toMatchObject({ faces_detected: 1, image_size: { width: 3_024, height: 4_032 } });
    expect(ms).toBeLessThan(20_000);
  });
});
