import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, describe, expect, it } from "vitest";
import { delayed, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { type HttpServerProcess, rawRequest, spawnHttpServer } from "../support/http-spawn.js";
import { baseEnv, SERVER_ENTRY, textOf } from "../support/spawn.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const servers: HttpServerProcess[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe("remote mode: lifecycle, budgets and start-up refusals", () => {
  it("on SIGTERM stops accepting, finishes the 10 checks in flight, then exits 0", async () => {
    const double = await startDiditDouble();
    // Long enough that SIGTERM lands while Didit still holds all ten; waitForRequests is the synchronisation.
    double.setDefault(delayed(1500));
    try {
      const server = await spawnHttpServer({
        env: baseEnv({
          DIDIT_API_KEY: TEST_API_KEY,
          DIDIT_BASE_URL: double.url,
          DIDIT_MAX_CHECKS_PER_MINUTE: "100",
        }),
      });
      servers.push(server);
      const client = await server.connect();
      const image = (await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"))).toString("base64");
      const calls = Array.from(
        { length: 10 },
        (_, i) =>
          client.callTool(
            { name: "check_passive_liveness", arguments: { image_base64: image, vendor_data: `p${i}` } },
            undefined,
            { timeout: 30_000 },
          ) as Promise<CallToolResult>,
      );
      await double.waitForRequests(10);
      server.child.kill("SIGTERM");
      await server.waitForLog((l) => l.msg === "shutting down");
      // New connections are refused while the ten finish (refused, or reset if it raced the listener closing).
      await expect(rawRequest(`${server.origin}/healthz`, {})).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
      const results = await Promise.all(calls);
      results.forEach((r, i) => {
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(r.structuredContent).toMatchObject({ vendor_data: `p${i}` });
      });
      expect(await server.exited).toBe(0);
      expect(server.logLines().find((l) => l.msg === "stopped")).toMatchObject({ how: "drained" });
    } finally {
      await double.close();
    }
  });

  it("applies the per-minute budget per token (its share) as well as per process", async () => {
    const [a, b] = ["token-a-0123456789abcdef", "token-b-0123456789abcdef"];
    const double = await startDiditDouble();
    try {
      const server = await spawnHttpServer({
        env: baseEnv({
          DIDIT_API_KEY: TEST_API_KEY,
          DIDIT_BASE_URL: double.url,
          DIDIT_MCP_TOKENS: `${a},${b}`,
          DIDIT_MAX_CHECKS_PER_MINUTE: "3",
          DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN: "2",
        }),
      });
      servers.push(server);
      const image = (await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"))).toString("base64");
      const clients = { [a]: await server.connect(a), [b]: await server.connect(b) };
      const check = async (token: string) =>
        (await clients[token]?.callTool({
          name: "check_passive_liveness",
          arguments: { image_base64: image },
        })) as CallToolResult;
      expect((await check(a)).isError).toBeFalsy();
      expect((await check(a)).isError).toBeFalsy();
      expect(textOf(await check(a))).toContain("Error [rate_limited]"); // a's share (2) is spent
      expect((await check(b)).isError).toBeFalsy(); // b's share is untouched, and the process has one left
      expect(textOf(await check(b))).toContain("Error [rate_limited]"); // the process budget (3) is spent
      expect(double.requests).toHaveLength(3);
      const metrics = (await rawRequest(`${server.origin}/metrics`, {})).body;
      expect(metrics).toMatch(/didit_mcp_rate_limit_refusals_total\{scope="token"\} 1/);
      expect(metrics).toMatch(/didit_mcp_rate_limit_refusals_total\{scope="process"\} 1/);
    } finally {
      await double.close();
    }
  });

  it("starts with any DIDIT_TIMEOUT_MS of the documented range (1000 and 4999 crashed node:http)", async () => {
    for (const timeout of ["1000", "4999", "300000"]) {
      const server = await spawnHttpServer({
        env: baseEnv({ DIDIT_SANDBOX: "1", DIDIT_TIMEOUT_MS: timeout }),
      });
      servers.push(server);
      expect((await rawRequest(`${server.origin}/healthz`, {})).status, timeout).toBe(200);
      await server.stop();
      expect(server.stderr(), timeout).not.toMatch(/RangeError|at .*\(/);
    }
  });

  it("refuses to start on a non-loopback host without tokens or OAuth (exit 2)", () => {
    const run = spawnSync(process.execPath, [SERVER_ENTRY, "--http", "--host", "0.0.0.0", "--port", "0"], {
      env: baseEnv({ DIDIT_SANDBOX: "1" }),
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("without authentication");
  });
});
