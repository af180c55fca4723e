import { readFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { REPRODUCTION_SPOOF_BELOW, SCORED_FACE_AREA_RATIO } from "../../src/precheck/engine.js";
import { analyzeFaceImage, createPrecheckAnalyzer } from "../../src/precheck/index.js";
import { findWarning, LOCAL_ONLY_TAGS } from "../../src/warnings/catalog.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const TAG = "SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION";

/**
 * A replay composed at test time: the live T1 selfie with a downscaled copy of the screen photo F2 "held up" beside
 * it, the screen face at `share` of the live face's width (so about share^2 of its area).
 */
async function replay(screenWidthShare: number): Promise<Buffer> {
  const live = await sharp(path.join(FIXTURES, "live_silentface_T1.jpg")).rotate().toBuffer();
  const { width = 0, height = 0 } = await sharp(live).metadata();
  const screenWidth = Math.round(width * screenWidthShare);
  const screen = await sharp(path.join(FIXTURES, "spoof_screen_silentface_F2.jpg"))
    .rotate()
    .resize({ width: screenWidth })
    .toBuffer();
  const screenHeight = (await sharp(screen).metadata()).height ?? 0;
  return sharp({
    create: {
      width: width + screenWidth + 20,
      height: Math.max(height, screenHeight),
      channels: 3,
      background: { r: 90, g: 90, b: 90 },
    },
  })
    .composite([
      { input: live, left: 0, top: 0 },
      { input: screen, left: width + 10, top: Math.round(height * 0.3) },
    ])
    .jpeg({ quality: 92 })
    .toBuffer();
}

describe("several faces: every face scored", () => {
  beforeAll(async () => {
    await createPrecheckAnalyzer().warm();
  });

  it("a live face holding a screen that shows a face: the screen face pulls spoof_estimate down and is tagged", async () => {
    const r = await analyzeFaceImage(await replay(0.6));
    expect(r.faces_detected).toBe(2);
    expect(r.faces).toHaveLength(2);
    const [holder, screen] = r.faces;
    // Largest first: the holder, scored live; the screen face, at least a quarter of its area, scored a spoof.
    expect(holder?.relative_area).toBe(1);
    expect(holder?.spoof_estimate).toBeGreaterThanOrEqual(80);
    expect(screen?.relative_area).toBeGreaterThanOrEqual(SCORED_FACE_AREA_RATIO);
    expect(screen?.spoof_estimate).toBeLessThan(REPRODUCTION_SPOOF_BELOW);
    // The lowest of the faces that matter, not the largest face's.
    expect(r.spoof_estimate).toBe(screen?.spoof_estimate);
    // Didit's own semantics stay: several faces, the largest is the one reported in bbox.
    expect(r.bbox).toEqual(holder?.bbox);
    const tags = r.warnings.map((w) => w.risk);
    expect(tags).toContain(TAG);
    expect(tags).toContain("MULTIPLE_FACES_DETECTED");
    expect(r.ready).toBe(false);
    expect(r.user_message).toBe(findWarning(TAG)?.user_message);
  });

  it("a face under a quarter of the largest's area is reported but does not set spoof_estimate", async () => {
    const r = await analyzeFaceImage(await replay(0.35));
    expect(r.faces_detected).toBe(2);
    const [holder, screen] = r.faces;
    expect(screen?.relative_area).toBeLessThan(SCORED_FACE_AREA_RATIO);
    expect(screen?.spoof_estimate).not.toBeNull();
    expect(r.spoof_estimate).toBe(holder?.spoof_estimate);
    expect(r.warnings.map((w) => w.risk)).not.toContain(TAG);
  });

  it("two live faces: both scored, no reproduction tag", async () => {
    const r = await analyzeFaceImage(await readFile(path.join(FIXTURES, "syn_two_faces.jpg")));
    expect(r.faces).toHaveLength(2);
    for (const face of r.faces) expect(face.spoof_estimate).toBeGreaterThanOrEqual(REPRODUCTION_SPOOF_BELOW);
    expect(r.spoof_estimate).toBe(Math.min(...r.faces.map((f) => f.spoof_estimate ?? 100)));
    expect(r.warnings.map((w) => w.risk)).not.toContain(TAG);
  });

  it("the tag is a local-only catalog entry", () => {
    expect(LOCAL_ONLY_TAGS).toContain(TAG);
    expect(findWarning(TAG)?.next_action).toBe("retake");
  });
});
