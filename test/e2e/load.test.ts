/**
 * Load over stdio: many concurrent checks on one session each get their own result, the connection pool stays
 * bounded, and repeated 5 MB uploads do not leak memory in the server process.
 */
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DiditDouble,
  delayed,
  requestIdFor,
  startDiditDouble,
  TEST_API_KEY,
} from "../support/didit-double.js";
import { baseEnv, SERVER_ENTRY, textOf } from "../support/spawn.js";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg");
const BIG_IMAGE_BYTES = 5_000_000;
const HAS_PROC = existsSync("/proc/self/status");

let double: DiditDouble;
let tmpDir: string;
let transport: StdioClientTransport;
let client: Client;
let stderr = "";
const transportErrors: Error[] = [];
const resultTexts: string[] = [];

beforeAll(async () => {
  double = await startDiditDouble();
  tmpDir = await mkdtemp(path.join(os.tmpdir(), "didit-load-"));
  // Own transport rather than spawnServer(): the RSS check needs the child's pid.
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY, "--allow-dir", tmpDir],
    env: baseEnv({
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: double.url,
      DIDIT_TIMEOUT_MS: "20000",
      // 250 checks in well under a minute; the per-process budget is not under test here.
      DIDIT_MAX_CHECKS_PER_MINUTE: "10000",
    }),
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  transport.onerror = (error) => transportErrors.push(error);
  client = new Client({ name: "e2e-load", version: "1.0.0" });
  await client.connect(transport);
  await client.listTools();
});

afterAll(async () => {
  await client?.close();
  await double?.close();
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
  expect(resultTexts.join("\n")).not.toContain(TEST_API_KEY);
  expect(stderr).not.toContain(TEST_API_KEY);
  expect(transportErrors).toEqual([]);
});

async function check(args: Record<string, unknown>): Promise<CallToolResult> {
  const result = (await client.callTool({ name: "check_passive_liveness", arguments: args }, undefined, {
    timeout: 60_000,
  })) as CallToolResult;
  resultTexts.push(JSON.stringify(result));
  return result;
}

function mb(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** VmRSS of a process in bytes, from /proc/<pid>/status. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

describe("load on one stdio session", () => {
  /** 50 concurrent checks of 50 distinct images (a fixture JPEG plus a 16-byte trailer), each checked for its own result. */
  async function burst(tag: string): Promise<{ elapsedMs: number; connections: number }> {
    double.reset();
    double.connections = 0;
    double.setDefault(delayed(50));
    const base = await readFile(FIXTURE);
    const images = Array.from({ length: 50 }, (_, i) => {
      const trailer = Buffer.alloc(16);
      trailer.write(`${tag}-${String(i).padStart(4, "0")}`, "latin1");
      return Buffer.concat([base, trailer]);
    });
    expect(new Set(images.map((b) => requestIdFor(b))).size).toBe(50);

    // The SDK client adds one 'drain' listener to the child's stdin per message the pipe cannot take at once;
    // 50 concurrent ~100 KB messages are expected to exceed Node's default warning threshold of 10.
    const defaultMaxListeners = EventEmitter.defaultMaxListeners;
    EventEmitter.defaultMaxListeners = 64;
    const started = performance.now();
    const results = await Promise.all(
      images.map((b) => check({ image_base64: b.toString("base64") })),
    ).finally(() => {
      EventEmitter.defaultMaxListeners = defaultMaxListeners;
    });
    const elapsedMs = performance.now() - started;

    results.forEach((result, i) => {
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        request_id: requestIdFor(images[i] ?? Buffer.alloc(0)),
        status: "Approved",
      });
    });
    expect(double.requests).toHaveLength(50);
    const { connections } = double;
    double.reset();
    return { elapsedMs, connections };
  }

  it("50 concurrent checks, the session's first, each get their own result over at most 32 connections", async ({
    annotate,
  }) => {
    const { elapsedMs, connections } = await burst("cold");
    await annotate(
      `load (first burst): 50 concurrent checks in ${elapsedMs.toFixed(0)} ms over ${connections} connections`,
    );
    expect(connections).toBeGreaterThan(0);
    // The first checks of a session arrive while the HTTP client is still being set up: they must share one
    // pool, not each build their own (one connection per check, past the cap, seen in an earlier src/ version).
    expect(connections).toBeLessThanOrEqual(32);
  });

  it("50 more concurrent checks on the warm session each get their own result over at most 32 new connections", async ({
    annotate,
  }) => {
    const { elapsedMs, connections } = await burst("warm");
    await annotate(
      `load (second burst): 50 concurrent checks in ${elapsedMs.toFixed(0)} ms over ${connections} new connections`,
    );
    expect(connections).toBeLessThanOrEqual(32);
  });

  /** RSS samples of the server child taken by the sequential run, judged by the test after it. */
  const rss = { afterWarmup: 0, peak: 0, atEnd: 0 };

  it.skipIf(!HAS_PROC)(
    "200 sequential checks of a 5 MB image by path all succeed (RSS sampled; needs /proc, skipped without it)",
    async ({ annotate }) => {
      const pid = transport.pid;
      if (typeof pid !== "number") throw new Error("the transport has no child pid");
      const base = await readFile(FIXTURE);
      const padded = Buffer.alloc(BIG_IMAGE_BYTES);
      base.copy(padded);
      for (let i = base.length; i < padded.length; i++) padded[i] = i & 0xff;
      const imagePath = path.join(tmpDir, "padded-5mb.jpg");
      await writeFile(imagePath, padded);
      const expectedId = requestIdFor(padded);
      double.reset();

      const started = performance.now();
      for (let i = 1; i <= 200; i++) {
        const result = await check({ image_path: imagePath, save_api_request: false });
        if (result.isError) expect.fail(`check ${i}: ${textOf(result)}`);
        expect((result.structuredContent as { request_id: string }).request_id).toBe(expectedId);
        if (i === 20) rss.afterWarmup = await rssOf(pid);
        // Sampled so that a late garbage collection cannot hide a peak the host had to provide.
        if (i > 20 && i % 10 === 0) rss.peak = Math.max(rss.peak, await rssOf(pid));
      }
      rss.atEnd = await rssOf(pid);
      const elapsed = performance.now() - started;
      await annotate(
        `rss: ${mb(rss.afterWarmup).toFixed(1)} MB after 20 checks, ${mb(rss.atEnd).toFixed(1)} MB after 200, ` +
          `peak ${mb(rss.peak).toFixed(1)} MB (growth ${mb(rss.atEnd - rss.afterWarmup).toFixed(1)} MB at the end, ` +
          `${mb(rss.peak - rss.afterWarmup).toFixed(1)} MB at the peak); 200 x 5 MB checks in ${(elapsed / 1000).toFixed(1)} s`,
      );
      expect(double.requests).toHaveLength(200);
      expect(double.requests[0]?.file?.size).toBe(BIG_IMAGE_BYTES);
    },
    60_000,
  );

  // Regression: with undici's FormData the 5 MB File part's memory was invisible to V8's collector and RSS grew
  // ~4.8 MB per check (~1 GB after 200); the client now references the image bytes in its own multipart encoder.
  it.skipIf(!HAS_PROC)("...and the server's RSS grows by less than 40 MB from check 20 to check 200", () => {
    expect(rss.afterWarmup, "the sequential run did not record RSS").toBeGreaterThan(0);
    expect(mb(rss.atEnd - rss.afterWarmup)).toBeLessThan(40);
    expect(mb(rss.peak - rss.afterWarmup)).toBeLessThan(40);
  });
});
