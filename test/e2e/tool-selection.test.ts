/** The no-spend mode in the built server: stdio and HTTP list only the chosen tools (a bad list: lifecycle.test.ts). */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { spawnHttpServer } from "../support/http-spawn.js";
import { FIXTURES } from "../support/in-memory.js";
import { baseEnv, spawnServer } from "../support/spawn.js";
import { expectFreeToolListing } from "../support/tool-listing.js";

let double: DiditDouble;
beforeAll(async () => {
  double = await startDiditDouble();
});
afterAll(() => double.close());

const env = () => baseEnv({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url });

describe("no-spend mode, built server", () => {
  it("stdio with --tools free lists exactly the two free tools and refuses a paid one", async () => {
    const s = await spawnServer({ env: env(), args: ["--allow-dir", FIXTURES, "--tools", "free"] });
    try {
      const { tools } = await s.client.listTools();
      expectFreeToolListing(tools);
      const refused = await s
        .call("check_passive_liveness", { image_path: `${FIXTURES}/syn_astronaut.jpg` })
        .then(
          (r) => JSON.stringify(r),
          (error: Error) => error.message,
        );
      expect(refused).toMatch(/check_passive_liveness/);
      expect(double.requests).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("HTTP with DIDIT_TOOLS=free serves the same two tools on every request", async () => {
    const server = await spawnHttpServer({ env: { ...env(), DIDIT_TOOLS: "free" } });
    try {
      const client = await server.connect();
      const { tools } = await client.listTools();
      expectFreeToolListing(tools);
      expect(server.logLines().find((l) => l.msg === "ready")).toMatchObject({
        tools: "explain_warning,precheck_face_image",
      });
    } finally {
      await server.stop();
    }
  });
});
