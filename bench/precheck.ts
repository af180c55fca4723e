/**
 * Bench for the on-device pre-check (precheck_face_image). Standalone: `node .bench-dist/bench/precheck.js
 * [--quick]` after `npm run build && tsc -p tsconfig.bench.json`; or call benchPrecheck() from bench/run.ts.
 * A script, never a test: it reports whether each target was met but does not fail on a timing.
 * It loads the engine from dist/ (the built server), so build first.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type * as Precheck from "../src/precheck/index.js";
import { log, type Row, render, single, stats } from "./table.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ENGINE = path.join(ROOT, "dist", "precheck", "index.js");
const FIXTURES = path.join(ROOT, "test", "fixtures");
const MB = 1_000_000;

/** A fresh Node process: import the engine, load it, analyse one image; prints the timings as JSON. */
const COLD_SCRIPT = `
const t0 = performance.now();
const { createPrecheckAnalyzer } = await import(process.argv[1]);
const { readFile } = await import("node:fs/promises");
const analyzer = createPrecheckAnalyzer();
const ready = await analyzer.warm();
const bytes = await readFile(process.argv[2]);
const t1 = performance.now();
await analyzer.analyze(bytes);
const first = performance.now() - t1;
process.stdout.write(JSON.stringify({ ready, first, total: performance.now() - t0 }));
`;

async function coldStart(rows: Row[], quick: boolean): Promise<void> {
  const runs = quick ? 2 : 7;
  const ready: number[] = [];
  const first: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        COLD_SCRIPT,
        pathToFileURL(ENGINE).href,
        path.join(FIXTURES, "live_silentface_T1.jpg"),
      ],
      { env: { PATH: process.env.PATH ?? "" } },
    );
    const r = JSON.parse(stdout) as { ready: number; first: number; total: number };
    ready.push(r.ready);
    first.push(r.first);
    total.push(r.total);
  }
  const value = stats(ready);
  rows.push({
    figure: "pre-check engine ready after first use (fresh process: import, WASM, models, warm-up)",
    unit: "ms",
    value,
    target: "<= 1000 ms",
    met: value.median <= 1000,
    note: `then the first single-face analysis: median ${stats(first).median.toFixed(0)} ms; first use to first result: median ${stats(total).median.toFixed(0)} ms`,
  });
}

async function perCall(rows: Row[], precheck: typeof Precheck, quick: boolean): Promise<void> {
  const runs = quick ? 10 : 60;
  const cases = [
    ["single face (live_silentface_T1.jpg, 480x640)", "live_silentface_T1.jpg", false, 350],
    ["single face (syn_astronaut.jpg, 512x512)", "syn_astronaut.jpg", false, 350],
    ["faceless (syn_no_face_cat.jpg, 451x300)", "syn_no_face_cat.jpg", false, 150],
    ["faceless (syn_no_face_noise.png, 640x480)", "syn_no_face_noise.png", false, 150],
    [
      "single face with rotate_image (syn_rot90.jpg: syn_astronaut.jpg turned 90)",
      "syn_rot90.jpg",
      true,
      350,
    ],
    ["single face with rotate_image, already upright (syn_astronaut.jpg)", "syn_astronaut.jpg", true, 350],
    ["faceless with rotate_image (syn_no_face_cat.jpg)", "syn_no_face_cat.jpg", true, 350],
  ] as const;
  const medians = new Map<string, number>();
  for (const [label, file, rotate, target] of cases) {
    const bytes = await readFile(path.join(FIXTURES, file));
    for (let i = 0; i < 3; i++) await precheck.analyzeFaceImage(bytes, { rotate });
    const wall: number[] = [];
    const engine: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await precheck.analyzeFaceImage(bytes, { rotate });
      wall.push(performance.now() - t0);
      engine.push(r.elapsed_ms);
    }
    const value = stats(wall);
    medians.set(`${file}:${rotate}`, value.median);
    rows.push({
      figure: `pre-check per call: ${label}`,
      unit: "ms",
      value,
      target: `median <= ${target} ms`,
      met: value.median <= target,
      note: `engine-reported elapsed_ms median ${stats(engine).median.toFixed(0)}`,
    });
  }
  // The same face sideways with rotate_image against upright without: the orientation search's whole cost.
  const rotated = medians.get("syn_rot90.jpg:true") ?? 0;
  const upright = medians.get("syn_astronaut.jpg:false") ?? 1;
  rows.push({
    figure: "pre-check rotated / upright: syn_rot90.jpg with rotate_image over syn_astronaut.jpg without",
    unit: "ratio",
    value: single(rotated / upright),
    target: "<= 2",
    met: rotated / upright <= 2,
    note: `medians ${rotated.toFixed(0)} / ${upright.toFixed(0)} ms`,
  });
}

async function memory(rows: Row[], precheck: typeof Precheck, quick: boolean): Promise<void> {
  const total = quick ? 60 : 300;
  const names = ["live_silentface_T1.jpg", "syn_two_faces.jpg", "syn_no_face_cat.jpg", "syn_rot90.jpg"];
  const images = await Promise.all(names.map((n) => readFile(path.join(FIXTURES, n))));
  const analyzer = precheck.createPrecheckAnalyzer();
  const tensorsBefore = await analyzer.tensorCount();
  let after20 = 0;
  let peak = 0;
  for (let i = 1; i <= total; i++) {
    await analyzer.analyze(images[i % images.length] ?? new Uint8Array(), { rotate: i % 3 === 0 });
    if (i === 20) after20 = process.memoryUsage().rss;
    if (i >= 20 && i % 10 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const end = process.memoryUsage().rss;
  const growth = (end - after20) / MB;
  const tensorsAfter = await analyzer.tensorCount();
  rows.push({
    figure: `pre-check RSS growth over ${total} calls (after 20 -> after ${total})`,
    unit: "MB",
    value: single(growth),
    target: "<= 20 MB (a drop is fine)",
    met: growth <= 20,
    note: `after 20: ${(after20 / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB, after ${total}: ${(end / MB).toFixed(0)} MB; live TF.js tensors ${tensorsBefore} -> ${tensorsAfter}`,
  });
  rows.push({
    figure: `pre-check live TF.js tensors over ${total} calls (after - before)`,
    unit: "tensors",
    value: single(tensorsAfter - tensorsBefore),
    target: "0",
    met: tensorsAfter === tensorsBefore,
  });
}

export async function benchPrecheck(quick: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const precheck = (await import(pathToFileURL(ENGINE).href)) as typeof Precheck;
  if (!(await precheck.isPrecheckEngineAvailable())) {
    log("pre-check: skipped (engine packages not installed)");
    return rows;
  }
  log("pre-check: cold start...");
  await coldStart(rows, quick);
  log("pre-check: per call...");
  await perCall(rows, precheck, quick);
  log("pre-check: memory...");
  await memory(rows, precheck, quick);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchPrecheck(process.argv.includes("--quick"));
  process.stdout.write(`${render(rows)}\n`);
}
