import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { type DiditDouble, LIVENESS_PATH, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
let double: DiditDouble;

beforeAll(async () => {
  double = await startDiditDouble();
});
afterAll(() => double.close());

async function doctor(argv: string[], env: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const code = await runCli("doctor", argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env,
  });
  return { code, out, err };
}

/** A loopback port with nothing listening: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("doctor", () => {
  it("with a key and a reachable API: exit 0, says the key is set without printing it, spends no credit", async () => {
    double.reset();
    const { code, out, err } = await doctor(["--allow-dir", FIXTURES], {
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: double.url,
    });
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/^version\s+\d+\.\d+\.\d+/m);
    expect(out).toMatch(/^node\s+v\d+/m);
    expect(out).toMatch(/^api key\s+set$/m);
    expect(out).toMatch(/^base url\s+http:\/\/127\.0\.0\.1:\d+ reachable \(HTTP 404/m);
    expect(out).toContain(`${FIXTURES} (exists)`);
    expect(out).toMatch(/^pre-check\s+engine/m);
    expect(out).toMatch(/^sandbox\s+off$/m);
    expect(out).not.toContain(TEST_API_KEY);
    // One GET of the origin without the key, then one keyed POST that Didit refuses before processing.
    expect(double.requests).toHaveLength(2);
    expect(double.requests[0]).toMatchObject({ method: "GET", path: "/" });
    expect(JSON.stringify(double.requests[0]?.headers)).not.toContain(TEST_API_KEY);
    expect(double.requests[1]).toMatchObject({ method: "POST", path: LIVENESS_PATH, files: [], status: 400 });
  });

  // Used to say "a liveness check can run" for any key that was set, right or wrong.
  it("proves a valid key works without an image: Didit's 400 for the missing user_image, so no credit", async () => {
    double.reset();
    const { code, out } = await doctor([], { DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url });
    expect(code).toBe(0);
    expect(out).toMatch(
      /^key check\s+works: Didit accepted the key and refused the request for its missing image \(HTTP 400\); nothing was processed and no credit was spent$/m,
    );
    const probes = double.requestsTo(LIVENESS_PATH);
    expect(probes).toHaveLength(1);
    expect(probes[0]?.files).toEqual([]);
    expect(probes[0]?.headers["x-api-key"]).toBe(TEST_API_KEY);
    expect(double.requests.filter((r) => r.status === 200)).toEqual([]);
  });

  it("a wrong key is reported as refused, and the check cannot run (exit 3)", async () => {
    double.reset();
    const wrongKey = "wrong-key-0123456789abcdef";
    const { code, out } = await doctor([], { DIDIT_API_KEY: wrongKey, DIDIT_BASE_URL: double.url });
    expect(code).toBe(3);
    expect(out).toMatch(/^api key\s+set$/m);
    expect(out).toMatch(/^key check\s+REFUSED: Didit refused the API key for Passive Liveness \(403\)/m);
    expect(out).toMatch(/^result\s+a liveness check cannot run: Didit refused the API key$/m);
    expect(out).not.toContain(wrongKey);
    expect(double.requestsTo(LIVENESS_PATH)[0]).toMatchObject({ files: [], status: 403 });
  });

  it("--json prints one report: each check's name, status (ok/warn/fail) and message, and the result", async () => {
    double.reset();
    const wrongKey = "wrong-key-0123456789abcdef";
    const { code, out, err } = await doctor(["--json"], {
      DIDIT_API_KEY: wrongKey,
      DIDIT_BASE_URL: double.url,
    });
    expect(err).toBe("");
    expect(code).toBe(3);
    expect(out).not.toContain(wrongKey);
    const report = JSON.parse(out) as {
      ok: boolean;
      result: string;
      checks: { name: string; status: string; message: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.result).toBe("a liveness check cannot run: Didit refused the API key");
    expect(report.checks.map((c) => c.name)).toEqual([
      "version",
      "node",
      "config",
      "sandbox",
      "api_key",
      "base_url",
      "key_check",
      "allowed_dirs",
      "precheck",
    ]);
    for (const check of report.checks) {
      expect(Object.keys(check).sort()).toEqual(["message", "name", "status"]);
      expect(["ok", "warn", "fail"]).toContain(check.status);
    }
    expect(report.checks.find((c) => c.name === "key_check")).toMatchObject({ status: "fail" });
    expect(report.checks.find((c) => c.name === "api_key")).toEqual({
      name: "api_key",
      status: "ok",
      message: "set",
    });

    const good = await doctor(["--json", "--sandbox"], {});
    expect(good.code).toBe(0);
    const sandboxed = JSON.parse(good.out) as typeof report;
    expect(sandboxed).toMatchObject({ ok: true, result: "a liveness check can run (sandbox)" });
    expect(sandboxed.checks.find((c) => c.name === "key_check")?.status).toBe("ok");
  });

  it("without a key and with the API unreachable: exit 3 naming both", async () => {
    const { code, out } = await doctor([], { DIDIT_BASE_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(code).toBe(3);
    expect(out).toMatch(/^api key\s+NOT set/m);
    expect(out).toMatch(/NOT reachable \(ECONNREFUSED\)/);
    expect(out).toMatch(/cannot run: DIDIT_API_KEY is not set; the Didit API origin is not reachable/);
  });

  it("reports a missing allowed directory as a configuration error and still runs the other checks", async () => {
    const missing = path.join(FIXTURES, "no-such-dir");
    const { code, out } = await doctor(["--sandbox", "--allow-dir", missing], {});
    expect(code).toBe(3);
    expect(out).toContain(`config        ERROR: Allowed directory ${missing}`);
    expect(out).toMatch(/^sandbox\s+ON/m);
    expect(out).toMatch(/^pre-check\s+/m);
  });

  it("an unknown flag is a usage error (exit 2)", async () => {
    const { code, err } = await doctor(["--frobnicate"], {});
    expect(code).toBe(2);
    expect(err).toContain("Usage: didit-passive-liveness-mcp doctor");
  });
});
