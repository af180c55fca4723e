import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diditFaceMatchResponseSchema } from "../../src/didit/face-match-schema.js";
import { diditLivenessResponseSchema } from "../../src/didit/response-schema.js";
import { createSandboxClient, SANDBOX_OUTCOMES } from "../../src/didit/sandbox-client.js";
import { selectLivenessClient } from "../../src/flows/liveness/select-client.js";
import { type InMemorySession, startInMemory, testConfig } from "../support/in-memory.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

// The on-device engine is installed here (dev dependencies), so these would see real faces if sandbox mode used it.
describe("sandbox mode is deterministic: the answer depends on vendor_data and a valid image, nothing else", () => {
  let s: InMemorySession;
  beforeAll(async () => {
    const config = testConfig({ allowedDirs: [FIXTURES], sandbox: true });
    s = await startInMemory(config, selectLivenessClient(config));
  });
  afterAll(() => s.close());

  const check = async (args: Record<string, unknown>) => {
    const result = (await s.call("check_passive_liveness", args)).structuredContent as Record<
      string,
      unknown
    > & { warnings: { risk: string }[]; request_id: string; created_at: string };
    // Only the request id and the time differ between two answers.
    const { request_id: _id, created_at: _at, ...rest } = result;
    return rest;
  };

  it("every photo gets the same mocked answer, whatever it shows", async () => {
    const photos = [
      "live_silentface_T1.jpg",
      "syn_no_face_gradient.png",
      "syn_dark.jpg",
      "syn_two_faces.jpg",
      "syn_rot180.jpg",
    ];
    const [first, ...others] = await Promise.all(photos.map((image_path) => check({ image_path })));
    expect(first).toMatchObject({
      sandbox: true,
      status: "Approved",
      next_action: "proceed",
      faces_detected: 1,
      face_quality: 82.5,
      face_luminance: 51.2,
      best_angle: 0,
      warnings: [],
    });
    for (const other of others) expect(other).toEqual(first);
  });

  it("rotate_image changes nothing; vendor_data picks the outcome", async () => {
    expect(await check({ image_path: "syn_rot180.jpg", rotate_image: true })).toEqual(
      await check({ image_path: "live_silentface_T1.jpg" }),
    );
    const noFace = await check({ image_path: "live_silentface_T1.jpg", vendor_data: "sandbox:no_face" });
    expect(noFace).toMatchObject({ status: "Declined", next_action: "retake", faces_detected: 0 });
    expect(noFace.warnings.map((w) => w.risk)).toEqual(["NO_FACE_DETECTED"]);
  });

  it("a file that is not an image is still refused, like a real upload", async () => {
    const result = await s.call("check_passive_liveness", { image_path: "SOURCES.md" });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("not_an_image");
  });
});

// Issue 18: the sandbox must answer what a real 200 may hold, or it would demo answers the client now refuses.
describe("sandbox answers keep the documented ranges", () => {
  const image = { bytes: new Uint8Array([0xff, 0xd8, 0xff]), mime: "image/jpeg", filename: "image.jpg" };
  const answers = SANDBOX_OUTCOMES.filter((o) => !/error|rate_limited/.test(o));

  it.each(answers)("sandbox:%s parses under Didit's liveness and face-match schemas", async (outcome) => {
    const client = createSandboxClient();
    const params = { vendor_data: `sandbox:${outcome}` };
    const liveness = await client.checkPassiveLiveness(image as never, params);
    expect(diditLivenessResponseSchema.safeParse(liveness).error).toBeUndefined();
    const match = await client.matchFaces(image as never, image as never, params);
    expect(diditFaceMatchResponseSchema.safeParse(match).error).toBeUndefined();
  });
});
