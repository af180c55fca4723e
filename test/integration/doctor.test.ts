import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";

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
    // One GET of the origin, without the key; never the paid endpoint.
    expect(double.requests).toHaveLength(1);
    expect(double.requests[0]).toMatchObject({ method: "GET", path: "/" });
    expect(JSON.stringify(double.requests[0]?.headers)).not.toContain(TEST_API_KEY);
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
