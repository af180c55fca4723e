import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPrecheckAnalyzer } from "../../src/precheck/index.js";
import { createSandboxClient } from "../../src/sandbox/sandbox-client.js";
import { type InMemorySession, startInMemory, testConfig } from "../support/in-memory.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

describe("sandbox mode with the on-device engine installed", () => {
  let s: InMemorySession;
  beforeAll(async () => {
    const analyzer = createPrecheckAnalyzer();
    const look = (bytes: Uint8Array, rotate: boolean) => analyzer.analyze(bytes, { rotate });
    s = await startInMemory(
      testConfig({ allowedDirs: [FIXTURES], sandbox: true }),
      createSandboxClient({ look }),
    );
  });
  afterAll(() => s.close());

  const check = async (args: Record<string, unknown>) =>
    (await s.call("check_passive_liveness", args)).structuredContent as Record<string, unknown> & {
      warnings: { risk: string; log_type: string }[];
      faces: { bbox: number[] | null }[];
    };

  it("reports the real photo's face, light and quality, with a mocked verdict", async () => {
    const result = await check({ image_path: "live_silentface_T1.jpg" });
    expect(result).toMatchObject({ sandbox: true, status: "Approved", faces_detected: 1 });
    expect(result.face_luminance).toBeGreaterThan(40);
    expect(result.face_luminance).toBeLessThan(60);
    expect(result.faces[0]?.bbox).not.toEqual([120, 96, 392, 420]);
  });

  it("a photo without a face is Declined for NO_FACE_DETECTED unless an outcome is asked for", async () => {
    const noFace = await check({ image_path: "syn_no_face_gradient.png" });
    expect(noFace).toMatchObject({ status: "Declined", next_action: "retake", faces_detected: 0 });
    expect(noFace.warnings.map((w) => w.risk)).toEqual(["NO_FACE_DETECTED"]);
    const spoof = await check({ image_path: "syn_no_face_gradient.png", vendor_data: "sandbox:spoof" });
    expect(spoof).toMatchObject({ next_action: "reject" });
  });

  it("passes on what it measured: a dark face warns LOW_FACE_LUMINANCE, and rotation is found", async () => {
    const dark = await check({ image_path: "syn_dark.jpg" });
    expect(dark.warnings).toContainEqual(
      expect.objectContaining({ risk: "LOW_FACE_LUMINANCE", log_type: "warning" }),
    );
    const rotated = await check({ image_path: "syn_rot180.jpg", rotate_image: true });
    expect(rotated).toMatchObject({ best_angle: 180, faces_detected: 1 });
  });
});
