/**
 * Batch mode (`check <dir>`): 1,000 images at concurrency 16 against the double answering in 200 ms, run as a user
 * would (the built CLI as a child process). Wall time against the ideal (rounds of 16 x 200 ms) and the CLI's peak
 * RSS, compared with a 100-image run to show it does not grow with the number of images.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { TEST_API_KEY } from "../test/support/didit-double.js";
import { log, type Row, single, stats } from "./table.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SERVER = path.join(ROOT, "dist", "index.js");
const FIXTURE = path.join(ROOT, "test", "fixtures", "live_silentface_T1.jpg");
const CONCURRENCY = 16;
const LATENCY_MS = 200;
const MB = 1_000_000;

async function workerDouble(delayMs: number) {
  const worker = new Worker(new URL("./double-worker.js", import.meta.url), { workerData: { delayMs } });
  const url = await new Promise<string>((resolve) => {
    worker.once("message", (m: { url: string }) => resolve(m.url));
  });
  return {
    url,
    close: async () => {
      const closed = new Promise((resolve) => worker.on("message", (m) => "closed" in m && resolve(m)));
      worker.postMessage("close");
      await closed;
      await worker.terminate();
    },
  };
}

function rss(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return kb * 1024;
  } catch {
    return 0; // the process has exited
  }
}

/** Runs `check <dir>` once; returns launch-to-exit time, the batch's own time (its summary) and peak RSS. */
async function runBatch(dir: string, url: string) {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      SERVER,
      "check",
      dir,
      "--concurrency",
      String(CONCURRENCY),
      "--yes",
      "--out",
      path.join(dir, "..", "rows.jsonl"),
    ],
    {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        DIDIT_API_KEY: TEST_API_KEY,
        DIDIT_BASE_URL: url,
        DIDIT_MAX_CHECKS_PER_MINUTE: "10000",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.pid) peak = Math.max(peak, rss(child.pid));
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearInterval(sampler);
  const launchToExit = performance.now() - t0;
  const own = Number(/inputs checked in ([\d.]+) s/.exec(stderr)?.[1] ?? Number.NaN) * 1000;
  if (code !== 0) throw new Error(`batch exited ${code}: ${stderr.slice(-500)}`);
  return { launchToExit, own, peak };
}

async function makeImages(dir: string, count: number): Promise<void> {
  const fixture = await readFile(FIXTURE);
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    await writeFile(path.join(dir, `img${i}.jpg`), Buffer.concat([fixture, Buffer.from(`#${i}`)]));
  }
}

export async function benchBatch(quick: boolean): Promise<Row[]> {
  const work = await mkdtemp(path.join(os.tmpdir(), "liveness-bench-batch-"));
  const double = await workerDouble(LATENCY_MS);
  const rows: Row[] = [];
  try {
    const big = path.join(work, "big", "in");
    const small = path.join(work, "small", "in");
    await makeImages(big, 1000);
    await makeImages(small, 100);
    const runs = quick ? 1 : 3;
    const bigRuns: Awaited<ReturnType<typeof runBatch>>[] = [];
    const smallRuns: Awaited<ReturnType<typeof runBatch>>[] = [];
    for (let r = 0; r < runs; r++) {
      log(`batch: 1,000 images, run ${r + 1}/${runs}...`);
      await rm(path.join(big, "..", "rows.jsonl"), { force: true });
      bigRuns.push(await runBatch(big, double.url));
      await rm(path.join(small, "..", "rows.jsonl"), { force: true });
      smallRuns.push(await runBatch(small, double.url));
    }
    const ideal = Math.ceil(1000 / CONCURRENCY) * LATENCY_MS;
    const own = stats(bigRuns.map((b) => b.own));
    rows.push({
      figure: "batch: 1,000 images at concurrency 16, Didit answering in 200 ms (the batch's own time)",
      unit: "ms",
      value: own,
      baseline: single(ideal),
      ratio: own.median / ideal,
      target: `wall <= 1.1 x ideal (${Math.round(ideal * 1.1)} ms)`,
      met: own.median <= ideal * 1.1,
      note: `launch to exit, with Node start-up: ${stats(bigRuns.map((b) => b.launchToExit)).median.toFixed(0)} ms`,
    });
    const bigPeak = stats(bigRuns.map((b) => b.peak / MB));
    const smallPeak = stats(smallRuns.map((b) => b.peak / MB));
    rows.push({
      figure: "batch: peak RSS of the CLI, 1,000 images vs 100",
      unit: "MB",
      value: bigPeak,
      baseline: smallPeak,
      ratio: bigPeak.median / smallPeak.median,
      target: "flat: 1,000-image peak <= 1.2 x the 100-image peak",
      met: bigPeak.median <= smallPeak.median * 1.2,
    });
  } finally {
    await double.close();
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}
