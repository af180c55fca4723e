import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";
import { withConsoleOnStderr } from "../../src/precheck/console-guard.js";
import { clipBox } from "../../src/precheck/image.js";
import {
  decideWarnings,
  type FaceFindings,
  faceQuality,
  laplacianVariance,
  meanLuminance,
  qualityFactors,
} from "../../src/precheck/metrics.js";
import { createSerialQueue } from "../../src/precheck/queue.js";
import { softmax, spoofCropBounds, spoofInput } from "../../src/precheck/spoof.js";
import { PRECHECK_READY_MESSAGE, PRECHECK_USER_MESSAGES } from "../../src/warnings/catalog.js";
import { explainWarning } from "../../src/warnings/explain.js";

const face: FaceFindings = {
  facesDetected: 1,
  faceAreas: [200 * 220],
  faceConfirmed: true,
  faceSidePx: 200,
  luminance: 50,
  quality: 80,
};
const risks = (f: Partial<FaceFindings>) => decideWarnings({ ...face, ...f }).warnings.map((w) => w.risk);

describe("meanLuminance", () => {
  const image = (rgb: [number, number, number]) => ({
    data: new Uint8Array(Array.from({ length: 16 }, () => rgb).flat()),
    width: 4,
    height: 4,
  });

  it("is Rec.601 luma on a 0-100 scale", () => {
    const box = { x: 0, y: 0, width: 4, height: 4 };
    expect(meanLuminance(image([255, 255, 255]), box)).toBe(100);
    expect(meanLuminance(image([0, 0, 0]), box)).toBe(0);
    expect(meanLuminance(image([255, 0, 0]), box)).toBe(29.9);
    expect(meanLuminance(image([0, 255, 0]), box)).toBe(58.7);
  });

  it("averages only the box, clipped to the image", () => {
    const data = new Uint8Array(4 * 4 * 3);
    data.fill(255, 0, 4 * 3); // first row white
    const img = { data, width: 4, height: 4 };
    expect(meanLuminance(img, { x: 0, y: 0, width: 4, height: 1 })).toBe(100);
    expect(meanLuminance(img, { x: -5, y: -5, width: 20, height: 20 })).toBe(25);
    expect(meanLuminance(img, { x: 10, y: 10, width: 2, height: 2 })).toBe(0);
  });
});

describe("laplacianVariance", () => {
  it("is 0 on a flat or linear image and grows with detail", () => {
    const side = 16;
    const flat = new Uint8Array(side * side).fill(90);
    const ramp = Uint8Array.from({ length: side * side }, (_, i) => (i % side) * 10);
    const checker = Uint8Array.from({ length: side * side }, (_, i) =>
      ((i % side) + Math.floor(i / side)) % 2 ? 255 : 0,
    );
    expect(laplacianVariance(flat, side)).toBe(0);
    expect(laplacianVariance(ramp, side)).toBe(0);
    expect(laplacianVariance(checker, side)).toBeGreaterThan(100_000);
  });

  it("handles non-square images and degenerate sizes", () => {
    expect(laplacianVariance(new Uint8Array(6), 3, 2)).toBe(0);
    expect(laplacianVariance(new Uint8Array(0), 0, 0)).toBe(0);
  });
});

describe("quality", () => {
  it("maps each factor to 0-100 at the documented anchors", () => {
    expect(qualityFactors({ laplacianVariance: 20, faceSidePx: 40, luminance: 5, confidence: 0 })).toEqual({
      sharpness: 0,
      size: 0,
      exposure: 0,
      confidence: 0,
    });
    expect(qualityFactors({ laplacianVariance: 400, faceSidePx: 200, luminance: 50, confidence: 1 })).toEqual(
      {
        sharpness: 100,
        size: 100,
        exposure: 100,
        confidence: 100,
      },
    );
    const mid = qualityFactors({
      laplacianVariance: Math.sqrt(20 * 400),
      faceSidePx: 120,
      luminance: 20,
      confidence: 0.5,
    });
    expect(mid).toEqual({ sharpness: 50, size: 50, exposure: 50, confidence: 50 });
    expect(
      qualityFactors({ laplacianVariance: 1e9, faceSidePx: 1e5, luminance: 82.5, confidence: 2 }),
    ).toEqual({
      sharpness: 100,
      size: 100,
      exposure: 50,
      confidence: 100,
    });
  });

  it("is a weighted geometric mean: one bad factor drags it down, all good stays high", () => {
    expect(faceQuality({ sharpness: 100, size: 100, exposure: 100, confidence: 100 })).toBe(100);
    expect(faceQuality({ sharpness: 50, size: 50, exposure: 50, confidence: 50 })).toBe(50);
    expect(faceQuality({ sharpness: 0, size: 100, exposure: 100, confidence: 100 })).toBeLessThan(20);
    expect(faceQuality({ sharpness: 100, size: 0, exposure: 100, confidence: 100 })).toBeGreaterThan(35);
  });
});

describe("decideWarnings", () => {
  const verdict = (f: Partial<FaceFindings>) => decideWarnings({ ...face, ...f });
  const blocking = (f: Partial<FaceFindings>) =>
    verdict(f)
      .warnings.filter((w) => w.blocking)
      .map((w) => w.risk);

  it("a single clear, well-lit, large face is ready with no warning", () => {
    expect(decideWarnings(face)).toEqual({ ready: true, warnings: [], userMessage: PRECHECK_READY_MESSAGE });
  });

  it("no face: NO_FACE_DETECTED only, blocking", () => {
    expect(
      decideWarnings({
        ...face,
        facesDetected: 0,
        faceAreas: [],
        faceSidePx: null,
        luminance: null,
        quality: null,
      }),
    ).toMatchObject({
      ready: false,
      warnings: [{ risk: "NO_FACE_DETECTED", blocking: true }],
    });
  });

  it("applies the documented cut-offs: a retake level and a suggestion level per metric", () => {
    // Retake: blocks ready.
    expect(blocking({ luminance: 11.9 })).toEqual(["LOW_FACE_LUMINANCE"]);
    expect(blocking({ luminance: 92.1 })).toEqual(["HIGH_FACE_LUMINANCE"]);
    expect(blocking({ quality: 19.9 })).toEqual(["LOW_FACE_QUALITY"]);
    expect(blocking({ faceSidePx: 39 })).toEqual(["FACE_TOO_SMALL"]);
    // Suggestion: warns, ready stays true.
    for (const f of [{ luminance: 12 }, { luminance: 19.9 }, { luminance: 85.1 }, { luminance: 92 }]) {
      expect(verdict(f).ready, JSON.stringify(f)).toBe(true);
      expect(verdict(f).warnings, JSON.stringify(f)).toHaveLength(1);
    }
    expect(verdict({ quality: 20 })).toMatchObject({ ready: true, warnings: [{ risk: "LOW_FACE_QUALITY" }] });
    expect(verdict({ quality: 39.9 })).toMatchObject({
      ready: true,
      warnings: [{ risk: "LOW_FACE_QUALITY" }],
    });
    expect(verdict({ faceSidePx: 40 })).toMatchObject({
      ready: true,
      warnings: [{ risk: "FACE_TOO_SMALL" }],
    });
    expect(verdict({ faceSidePx: 79 })).toMatchObject({
      ready: true,
      warnings: [{ risk: "FACE_TOO_SMALL" }],
    });
    // Clear of both.
    expect(risks({ luminance: 20 })).toEqual([]);
    expect(risks({ luminance: 85 })).toEqual([]);
    expect(risks({ quality: 40 })).toEqual([]);
    expect(risks({ faceSidePx: 80 })).toEqual([]);
  });

  it("a dim but usable face (luminance 20-25, the held-out selfies' most common false retake) is ready", () => {
    for (const luminance of [20, 22.5, 24.9]) expect(verdict({ luminance }).ready).toBe(true);
  });

  it("property: ready is false exactly when some warning blocks, and only then next_action would be retake", () => {
    fc.assert(
      fc.property(
        fc.record({
          luminance: fc.double({ min: 0, max: 100, noNaN: true }),
          quality: fc.double({ min: 0, max: 100, noNaN: true }),
          faceSidePx: fc.integer({ min: 1, max: 2000 }),
          faceConfirmed: fc.boolean(),
        }),
        (f) => {
          const v = verdict(f);
          expect(v.ready).toBe(!v.warnings.some((w) => w.blocking));
          const hard =
            f.luminance < 12 || f.luminance > 92 || f.quality < 20 || f.faceSidePx < 40 || !f.faceConfirmed;
          expect(v.ready).toBe(!hard);
        },
      ),
    );
  });

  it("orders warnings by what to fix first", () => {
    expect(
      risks({ luminance: 10, quality: 10, faceSidePx: 50, facesDetected: 2, faceAreas: [10, 9] }),
    ).toEqual(["FACE_TOO_SMALL", "LOW_FACE_LUMINANCE", "LOW_FACE_QUALITY", "MULTIPLE_FACES_DETECTED"]);
  });

  it("user message: the first BLOCKING warning's retake message, else the first suggestion's tip", () => {
    // A small face (suggestion) ranks before darkness, but the darkness blocks: its retake message is shown.
    const dark = verdict({ faceSidePx: 60, luminance: 8 });
    expect(dark.ready).toBe(false);
    expect(dark.userMessage).toBe(PRECHECK_USER_MESSAGES.LOW_FACE_LUMINANCE?.retake);
    const dim = verdict({ luminance: 18 });
    expect(dim.ready).toBe(true);
    expect(dim.userMessage).toBe(PRECHECK_USER_MESSAGES.LOW_FACE_LUMINANCE?.suggestion);
  });

  it("several faces: warns; blocks only when the second is at least half the largest", () => {
    expect(decideWarnings({ ...face, facesDetected: 2, faceAreas: [1000, 200] })).toMatchObject({
      ready: true,
      warnings: [{ risk: "MULTIPLE_FACES_DETECTED", blocking: false }],
    });
    const two = decideWarnings({ ...face, facesDetected: 2, faceAreas: [1000, 500] });
    expect(two.ready).toBe(false);
    expect(two.userMessage).not.toMatch(/if you are asked/i);
  });

  it("a face the mesh could not confirm is never ready", () => {
    expect(decideWarnings({ ...face, faceConfirmed: false })).toMatchObject({
      ready: false,
      warnings: [{ risk: "LOW_FACE_QUALITY", blocking: true }],
    });
    // Small and unconfirmed: the size warning blocks, though a confirmed face that size would only get a tip.
    expect(decideWarnings({ ...face, faceConfirmed: false, faceSidePx: 60 })).toMatchObject({
      ready: false,
      warnings: [{ risk: "FACE_TOO_SMALL", blocking: true }],
    });
  });
});

describe("the pre-check's user messages", () => {
  const tags = [
    "NO_FACE_DETECTED",
    "FACE_TOO_SMALL",
    "MULTIPLE_FACES_DETECTED",
    "LOW_FACE_LUMINANCE",
    "HIGH_FACE_LUMINANCE",
    "LOW_FACE_QUALITY",
  ];

  it.each(tags)("%s: a retake message that says what to do, and a suggestion that does not order", (tag) => {
    const m = PRECHECK_USER_MESSAGES[tag];
    expect(m).toBeDefined();
    for (const text of [m?.retake ?? "", m?.suggestion ?? "", PRECHECK_READY_MESSAGE]) {
      // The pre-check runs before any check: it has no request_id, no verdict and no reviewer to point to.
      expect(text).not.toMatch(/request[ _]?id|reviewer|if you are asked|declined|credit/i);
    }
    expect(m?.retake).toMatch(/take the photo again/i);
    expect(m?.suggestion).not.toMatch(/take the photo again/i);
    expect(m?.suggestion).toMatch(/^We will check this photo|if you take another|works best/i);
  });
});

describe("MiniFASNet preprocessing", () => {
  it("crops like Silent-Face: scale around the centre, cap to the image, shift inside", () => {
    // Centred, fits: 2.7 x a 40 px box.
    expect(spoofCropBounds(640, 480, { x: 300, y: 220, width: 40, height: 40 }, 2.7)).toEqual({
      left: 266,
      top: 186,
      right: 374,
      bottom: 294,
    });
    // Near the top-left corner: shifted, not clipped, so the crop keeps its size.
    const corner = spoofCropBounds(640, 480, { x: 0, y: 0, width: 40, height: 40 }, 4);
    expect(corner).toEqual({ left: 0, top: 0, right: 160, bottom: 160 });
    // A box too large for the scale: the scale is capped so the crop fits the image.
    const big = spoofCropBounds(100, 100, { x: 10, y: 10, width: 80, height: 80 }, 4);
    expect(big.left).toBeGreaterThanOrEqual(0);
    expect(big.top).toBeGreaterThanOrEqual(0);
    expect(big.right).toBeLessThanOrEqual(99);
    expect(big.bottom).toBeLessThanOrEqual(99);
  });

  it("feeds BGR planes, raw 0-255, 80 x 80", () => {
    const data = new Uint8Array(10 * 10 * 3);
    for (let i = 0; i < 100; i++) data.set([200, 100, 50], i * 3);
    const input = spoofInput({ data, width: 10, height: 10 }, { left: 0, top: 0, right: 9, bottom: 9 });
    expect(input).toHaveLength(3 * 80 * 80);
    expect(input[0]).toBe(50); // B plane first
    expect(input[80 * 80]).toBe(100);
    expect(input[2 * 80 * 80 + 6399]).toBe(200); // R plane last
  });

  it("softmax sums to 1", () => {
    const p = softmax([1, 2, 3]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(p[2]).toBeGreaterThan(p[1] ?? 1);
    expect(softmax([1000, 0, 0])[0]).toBeCloseTo(1, 10);
  });
});

describe("clipBox", () => {
  it("clips to the image and never returns an empty box", () => {
    expect(clipBox({ x: -3.5, y: 2.2, width: 10, height: 100 }, 8, 8)).toEqual({
      x: 0,
      y: 2,
      width: 7,
      height: 6,
    });
    expect(clipBox({ x: 20, y: 20, width: 5, height: 5 }, 8, 8)).toEqual({ x: 7, y: 7, width: 1, height: 1 });
  });
});

describe("serial queue", () => {
  it("runs tasks one at a time in arrival order, failures included", async () => {
    const queue = createSerialQueue();
    const events: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setImmediate(resolve));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run(task("a")),
      queue.run(task("b", true)),
      queue.run(task("c")),
    ]);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("refuses beyond its waiting limit with rate_limited, and skips aborted tasks", async () => {
    const queue = createSerialQueue(1);
    let release = () => {};
    const first = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const controller = new AbortController();
    const second = queue.run(async () => "ran", controller.signal);
    await expect(queue.run(async () => "third")).rejects.toMatchObject({ code: "rate_limited" });
    controller.abort();
    release();
    await first;
    const failure = await second.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ToolFailure);
    expect(failure).toMatchObject({ code: "cancelled" });
  });
});

/** The console as the engine sees it (an alias: these tests call console.log on purpose). */
const engineConsole: Record<"log" | "info" | "debug", (...args: unknown[]) => void> = console;

describe("withConsoleOnStderr", () => {
  it("sends console.log/info/debug to stderr while it runs, then restores them", async () => {
    const stdout = vi.spyOn(process.stdout, "write");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const before = engineConsole.log;
    try {
      await withConsoleOnStderr(async () => {
        engineConsole.log("from the engine %d", 1);
        engineConsole.info("info");
        engineConsole.debug("debug");
        await withConsoleOnStderr(async () => engineConsole.log("nested"));
        engineConsole.log("still guarded");
      });
      expect(engineConsole.log).toBe(before);
      expect(stdout).not.toHaveBeenCalled();
      const lines = stderr.mock.calls.map(([chunk]) => String(chunk));
      expect(lines).toEqual([
        "[precheck engine] from the engine 1\n",
        "[precheck engine] info\n",
        "[precheck engine] debug\n",
        "[precheck engine] nested\n",
        "[precheck engine] still guarded\n",
      ]);
      await expect(withConsoleOnStderr(async () => Promise.reject(new Error("boom")))).rejects.toThrow(
        "boom",
      );
      expect(engineConsole.log).toBe(before);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});

describe("explain_warning knows every tag the pre-check raises", () => {
  it.each([
    "NO_FACE_DETECTED",
    "FACE_TOO_SMALL",
    "MULTIPLE_FACES_DETECTED",
    "LOW_FACE_LUMINANCE",
    "HIGH_FACE_LUMINANCE",
    "LOW_FACE_QUALITY",
  ])("%s", (tag) => {
    expect(explainWarning(tag.toLowerCase())).toMatchObject({ tag, known: true });
  });

  it("FACE_TOO_SMALL: a local-only warning that asks for a retake", () => {
    expect(explainWarning("face too small")).toMatchObject({
      known: true,
      severity: "warning",
      declines: false,
      next_action: "retake",
    });
    expect(explainWarning("FACE_TOO_SMALL").explanation).toMatch(/^Local-only tag/);
  });
});
