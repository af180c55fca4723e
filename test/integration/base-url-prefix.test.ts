/**
 * DIDIT_BASE_URL with a reverse proxy's path prefix, from the environment to the wire: loadConfig keeps the
 * prefix, and every endpoint (liveness, face match, both steps of verify_selfie) is posted to under it.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { type InMemorySession, startInMemory } from "../support/in-memory.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

let proxied: DiditDouble;
let session: InMemorySession;

beforeAll(async () => {
  proxied = await startDiditDouble({ pathPrefix: "/didit/api" });
  // A trailing slash, as people paste it: the prefix must survive it.
  const config = await loadConfig(
    { allowDirs: [FIXTURES], sandbox: false },
    { DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: `${proxied.url}/` },
  );
  session = await startInMemory(config);
});
afterAll(async () => {
  await session?.close();
  await proxied?.close();
});

describe("DIDIT_BASE_URL with a path prefix", () => {
  it("keeps the prefix in the config", async () => {
    const config = await loadConfig({ allowDirs: [], sandbox: false }, { DIDIT_BASE_URL: `${proxied.url}/` });
    expect(config.baseUrl).toBe(proxied.url);
  });

  it("check_passive_liveness, match_faces and verify_selfie all post under the prefix", async () => {
    const liveness = await session.call("check_passive_liveness", { image_path: "live_silentface_T1.jpg" });
    expect(liveness.isError).toBeFalsy();
    const pair = { user_image_path: "live_silentface_T1.jpg", ref_image_path: "syn_astronaut.jpg" };
    const match = await session.call("match_faces", pair);
    expect(match.isError).toBeFalsy();
    const verify = await session.call("verify_selfie", pair);
    expect(verify.isError).toBeFalsy();
    expect(proxied.requests.map((r) => r.path)).toEqual([
      "/didit/api/v3/passive-liveness/",
      "/didit/api/v3/face-match/",
      "/didit/api/v3/passive-liveness/",
      "/didit/api/v3/face-match/",
    ]);
  });
});
