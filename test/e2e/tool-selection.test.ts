/** The no-spend mode in the built server: stdio and HTTP list only the chosen tools; a bad list stops start-up. */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { spawnHttpServer } from "../support/http-spawn.js";
import { FIXTURES } from "../support/in-memory.js";
import { baseEnv, SERVER_ENTRY, spawnServer } from "../support/spawn.js";

let double: DiditDouble;
beforeAll(async () => {
  double = await startDiditDouble();
});
afterAll(() => double.close());

const env = () => baseEnv({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url });

function exitOf(args: string[], extra: Record<string, string>) {
  const child = spawn(process.execPath, [SERVER_ENTRY, ...args], {
    env: { ...env(), ...extra },
    stdio: ["pipe", "pipe", "pipe"],
  });
  // A server that started anyway ends at stdin's EOF (exit 0) instead of waiting for a client.
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString("utf8");
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
}

describe("no-spend mode, built server", () => {
  it("stdio with --tools free lists exactly the two free tools and refuses a paid one", async () => {
    const s = await spawnServer({ env: env(), args: ["--allow-dir", FIXTURES, "--tools", "free"] });
    try {
      const { tools } = await s.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["explain_warning", "precheck_face_image"]);
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
      expect(tools.map((t) => t.name).sort()).toEqual(["explain_warning", "precheck_face_image"]);
      expect(server.logLines().find((l) => l.msg === "ready")).toMatchObject({
        tools: "explain_warning,precheck_face_image",
      });
    } finally {
      await server.stop();
    }
  });

  it.each([
    ["DIDIT_TOOLS", [], { DIDIT_TOOLS: "check_liveness" }],
    ["--tools", ["--tools", "free,nope"], {}],
  ])(
    "an unknown name in %s exits 2 naming the valid ones, with nothing on stdout",
    async (_what, args, extra) => {
      const r = await exitOf(args, extra);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/unknown tool/);
      expect(r.stderr).toContain(
        "check_passive_liveness, explain_warning, precheck_face_image, match_faces, verify_selfie, or free",
      );
    },
  );
});
