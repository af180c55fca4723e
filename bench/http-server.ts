import { spawn } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { TEST_API_KEY } from "../test/support/didit-double.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SERVER = path.join(ROOT, "dist", "index.js");
const FIXTURE = path.join(ROOT, "test", "fixtures", "live_silentface_T1.jpg");

/**
 * `node dist/index.js --http` on a free loopback port against the double at `doubleUrl`, with an MCP client whose
 * `call` runs one check_passive_liveness by path (the fixture's folder is allowed).
 */
export async function startHttpServer(doubleUrl: string, extraEnv: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    [SERVER, "--http", "--port", "0", "--allow-dir", path.dirname(FIXTURE)],
    {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        DIDIT_API_KEY: TEST_API_KEY,
        DIDIT_BASE_URL: doubleUrl,
        DIDIT_MAX_CHECKS_PER_MINUTE: "10000",
        ...extraEnv,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const match = /"msg":"ready","url":"([^"]+)"/.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`HTTP server exited ${code}: ${stderr}`)));
  });
  const client = new Client({ name: "bench-redis", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const call = async () => {
    const result = (await client.callTool(
      { name: "check_passive_liveness", arguments: { image_path: path.basename(FIXTURE) } },
      undefined,
      { timeout: 120_000 },
    )) as CallToolResult;
    if (result.isError) throw new Error(`check failed: ${JSON.stringify(result.content).slice(0, 300)}`);
  };
  /** Mean milliseconds of one store operation so far, from the server's own histogram. */
  const storeMs = async (op: string) => {
    const text = await (await fetch(new URL("/metrics", url))).text();
    const sum = Number(
      new RegExp(`didit_mcp_shared_store_latency_seconds_sum\\{op="${op}"\\} (\\S+)`).exec(text)?.[1],
    );
    const count = Number(
      new RegExp(`didit_mcp_shared_store_latency_seconds_count\\{op="${op}"\\} (\\S+)`).exec(text)?.[1],
    );
    return (sum / count) * 1000;
  };
  return {
    call,
    storeMs,
    close: async () => {
      await client.close();
      child.kill("SIGTERM");
    },
  };
}

/** 64 checks, 16 at a time: the wall. */
export async function sixtyFourAtSixteen(call: () => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 64) {
        next++;
        await call();
      }
    }),
  );
  return performance.now() - t0;
}
