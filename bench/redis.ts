/**
 * What DIDIT_REDIS_URL costs in remote mode: the per-call overhead of the shared budget (a reservation script and a
 * pause read per check, on a loopback redis-server) over today's per-process --http, and the 64-checks-at-16 wall
 * with and without it. Needs redis-server installed (`npm run test:all` installs it); without it, no rows.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { TEST_API_KEY } from "../test/support/didit-double.js";
import { installedRedisServer, type RedisServer, startRedisServer } from "../test/support/redis-server.js";
import { log, type Row, stats } from "./table.js";
import { startWorkerDouble } from "./worker-double.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SERVER = path.join(ROOT, "dist", "index.js");
const FIXTURE = path.join(ROOT, "test", "fixtures", "live_silentface_T1.jpg");

async function startHttp(doubleUrl: string, redisUrl: string | undefined) {
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
        ...(redisUrl ? { DIDIT_REDIS_URL: redisUrl } : {}),
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
async function sixtyFourAtSixteen(call: () => Promise<void>): Promise<number> {
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

export async function benchSharedState(quick: boolean): Promise<Row[]> {
  const binary = installedRedisServer();
  if (!binary) {
    log("  skipped: redis-server is not installed (npm run test:all installs it)");
    return [];
  }
  const rows: Row[] = [];
  const redis: RedisServer = await startRedisServer(binary);
  try {
    // Per-call overhead: Didit answering at once, so the difference is the store's (and nothing else's).
    const instant = await startWorkerDouble(0);
    const plain = await startHttp(instant.url, undefined);
    const shared = await startHttp(instant.url, redis.url);
    try {
      for (let i = 0; i < 5; i++) {
        await plain.call();
        await shared.call();
      }
      const calls = quick ? 40 : 300;
      const without: number[] = [];
      const withRedis: number[] = [];
      // Interleaved, so a load change on a shared machine hits both alike.
      for (let i = 0; i < calls; i++) {
        let t0 = performance.now();
        await plain.call();
        without.push(performance.now() - t0);
        t0 = performance.now();
        await shared.call();
        withRedis.push(performance.now() - t0);
      }
      const a = stats(without);
      const b = stats(withRedis);
      const overhead = b.median - a.median;
      const [reserve, pauseCheck] = [await shared.storeMs("reserve"), await shared.storeMs("pause_check")];
      rows.push({
        figure: "per-call overhead of the shared budget (DIDIT_REDIS_URL, loopback redis-server) over --http",
        unit: "ms",
        value: b,
        baseline: a,
        ratio: b.median / a.median,
        target: "median overhead < 1 ms",
        met: overhead < 1,
        note: `overhead ${overhead.toFixed(2)} ms; one store round trip per check (the reservation, which also reads the 429 pause): mean ${reserve.toFixed(2)} ms; separate pause reads: ${Number.isNaN(pauseCheck) ? "none" : `${pauseCheck.toFixed(2)} ms`}`,
      });
    } finally {
      await plain.close();
      await shared.close();
      await instant.close();
    }

    // The concurrency figure, with and without the store, Didit answering in 200 ms.
    const slow = await startWorkerDouble(200);
    const plain16 = await startHttp(slow.url, undefined);
    const shared16 = await startHttp(slow.url, redis.url);
    try {
      await plain16.call();
      await shared16.call();
      const without: number[] = [];
      const withRedis: number[] = [];
      for (let r = 0; r < (quick ? 1 : 5); r++) {
        without.push(await sixtyFourAtSixteen(plain16.call));
        withRedis.push(await sixtyFourAtSixteen(shared16.call));
      }
      const a = stats(without);
      const b = stats(withRedis);
      rows.push({
        figure:
          "64 checks at concurrency 16 over --http with DIDIT_REDIS_URL vs without, Didit answering in 200 ms",
        unit: "ms",
        value: b,
        baseline: a,
        ratio: b.median / a.median,
        target: "with / without <= 1.05",
        met: b.median / a.median <= 1.05,
      });
    } finally {
      await plain16.close();
      await shared16.close();
      await slow.close();
    }
  } finally {
    await redis.stop();
  }
  return rows;
}
