#!/usr/bin/env node
/**
 * Renders a calibration report in Debian's headless Chromium and checks the screenshot shows the charts.
 *
 *   npm run build && node scripts/render-report-check.mjs [report.html] [--keep DIR]
 *
 * Without a report it builds one from a fixed synthetic scored set (no API, no network). Chromium runs with every
 * background fetch off, so a report that needed the network would render without it. Exits 0 when the chart region
 * has enough non-white pixels and at least two chart colours, 1 when not, 77 (skipped) when /usr/bin/chromium is
 * absent (install with `apt-get install -y chromium`).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WIDTH = 1280;
const HEIGHT = 1000;

const args = process.argv.slice(2);
const keepIndex = args.indexOf("--keep");
const keepDir = keepIndex >= 0 ? args[keepIndex + 1] : undefined;
const reportArg = args.find((a, i) => !a.startsWith("--") && !(keepIndex >= 0 && i === keepIndex + 1));

if (!existsSync(CHROMIUM)) {
  process.stderr.write(
    `SKIP: ${CHROMIUM} not found (apt-get install -y chromium); the report was not rendered.\n`,
  );
  process.exit(77);
}

const dir = await mkdtemp(path.join(os.tmpdir(), "calibrate-render-"));
try {
  let report = reportArg;
  if (!report) {
    const { computeCalibration } = await import("../dist/cli/calibrate/metrics.js");
    const { renderReport } = await import("../dist/cli/calibrate/report.js");
    report = path.join(dir, "report.html");
    await writeFile(
      report,
      renderReport(computeCalibration(syntheticSet(), { kind: "bpcer", value: 0.05 }), {
        engine: "didit",
        generatedAt: "2026-01-01T00:00:00.000Z",
        excluded: [
          { input: "bf/<no-face>.jpg", label: "bona fide", reason: "Didit found no face (no score)" },
        ],
      }),
    );
  }
  const png = path.join(dir, "shot.png");
  await run(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${path.join(dir, "profile")}`,
      `--window-size=${WIDTH},${HEIGHT}`,
      `--screenshot=${png}`,
      pathToFileURL(path.resolve(report)).href,
    ],
    { timeout: 60_000 },
  );
  const sharp = (await import("sharp")).default;
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  // The first chart row sits below the header and the recommendation box: y 200-600, x 0-1180.
  const region = { x0: 0, x1: Math.min(info.width, 1180), y0: 200, y1: Math.min(info.height, 600) };
  let nonWhite = 0;
  let blue = 0;
  let red = 0;
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0; x < region.x1; x++) {
      const i = (y * info.width + x) * 3;
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (r < 240 || g < 240 || b < 240) nonWhite++;
      // PALETTE[0] #1f77b4 (BPCER) and PALETTE[1] #d62728 (APCER), with anti-aliasing slack.
      if (Math.abs(r - 0x1f) < 40 && Math.abs(g - 0x77) < 40 && Math.abs(b - 0xb4) < 40) blue++;
      if (Math.abs(r - 0xd6) < 40 && Math.abs(g - 0x27) < 40 && Math.abs(b - 0x28) < 40) red++;
    }
  }
  const area = (region.x1 - region.x0) * (region.y1 - region.y0);
  const share = nonWhite / area;
  const summary = `screenshot ${info.width}x${info.height}; chart region non-white ${(share * 100).toFixed(1)}% (${nonWhite} px), BPCER-blue ${blue} px, APCER-red ${red} px`;
  if (keepDir) {
    await mkdir(keepDir, { recursive: true });
    await copyFile(png, path.join(keepDir, "report-screenshot.png"));
    await copyFile(report, path.join(keepDir, "report.html"));
  }
  if (share < 0.02 || blue < 200 || red < 200) {
    process.stderr.write(`FAIL: the chart is not visible: ${summary}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`OK: ${summary}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** 60 bona fide, 25 print and 20 screen attacks spread over the score range, deterministic. */
function syntheticSet() {
  const samples = [];
  for (let i = 0; i < 60; i++) samples.push({ label: "bona_fide", score: 35 + ((i * 37) % 64) });
  for (let i = 0; i < 25; i++) samples.push({ label: "attack", attackType: "print", score: (i * 29) % 45 });
  for (let i = 0; i < 20; i++)
    samples.push({ label: "attack", attackType: "screen", score: 10 + ((i * 23) % 50) });
  return samples;
}
