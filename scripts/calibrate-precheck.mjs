#!/usr/bin/env node
// Calibrates precheck_face_image's thresholds on real photos rather than on the fixtures: runs the built engine
// (dist/) on the real photos in ../shared/calibration/real (read in place, never copied), on systematic
// degradations of a sample of them (darker, brighter, smaller, blurred, recompressed) and on test/fixtures, then
// prints, for candidate cut-offs of each metric, the share of ORIGINAL photos it would flag and the share of each
// degradation level it would catch, plus what the decisions in src/precheck/metrics.ts actually do.
//
//   npm run calibrate                      # build, measure, print the Markdown report
//   node scripts/calibrate-precheck.mjs --write            # also write docs/precheck-calibration.md
//   options: --dir <folder> (default ../shared/calibration/real), --every <n> (degrade every n-th photo,
//            default 6), --save-raw <file.json>, --from-raw <file.json> (re-render without measuring)
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const realDir = path.resolve(root, option("--dir", "../shared/calibration/real"));
const every = Number(option("--every", "6"));
const fixturesDir = path.join(root, "test", "fixtures");
const log = (text) => process.stderr.write(`${text}\n`);

/**
 * Degradations, each in levels from mild to severe. `bad` marks the levels that are clearly bad: a photo Didit
 * would almost surely decline or could not score. The levels below it should NOT be sent back to the camera.
 * Light and blur are relative to the face so that every photo gets the same insult whatever its size.
 */
const DEGRADATIONS = [
  {
    kind: "darker",
    unit: "pixel values x",
    // syn_dark is x0.12. x0.5 of a normal (~50) face is ~25, a dim room; x0.2 is ~10, a face barely visible.
    levels: [0.6, 0.45, 0.35, 0.25, 0.18, 0.12],
    bad: (l) => l <= 0.18,
    make: (img, l) => img.linear(l, 0),
  },
  {
    kind: "brighter",
    unit: "gain that puts the face's mean at this luminance before clipping",
    // Overexposure relative to each face (a gain on an already bright face is not the same insult as on a dark
    // one). At 130+ most of the face clips to white; syn_overexposed (x1.5 + 120) loses its face entirely.
    levels: [70, 85, 100, 130, 170],
    bad: (l) => l >= 130,
    make: (img, l, face) => img.linear(l / Math.max(1, face.luminance), 0),
  },
  {
    kind: "smaller",
    unit: "face side px",
    // The whole photo is downscaled so the face's shorter side becomes this many pixels.
    levels: [120, 96, 80, 64, 48, 40, 32, 24],
    bad: (l) => l <= 32,
    make: (img, l, face) => img.resize({ width: Math.max(8, Math.round((face.imageWidth * l) / face.side)) }),
    applies: (l, face) => l < face.side,
  },
  {
    kind: "blurred",
    unit: "Gaussian sigma, % of face side",
    // syn_blur is sigma 6 on a ~93 px face: about 6.5%.
    levels: [0.5, 1, 2, 3, 4, 6],
    bad: (l) => l >= 4,
    make: (img, l, face) => img.blur(Math.max(0.3, (l / 100) * face.side)),
  },
  {
    kind: "jpeg",
    unit: "JPEG quality",
    levels: [40, 20, 10, 5],
    bad: () => false,
    make: (img) => img,
    quality: (l) => l,
  },
];

async function measure() {
  const { createPrecheckAnalyzer } = await import(path.join(root, "dist", "precheck", "index.js"));
  const sharp = (await import("sharp")).default;
  const analyzer = createPrecheckAnalyzer();
  await analyzer.warm();
  const records = [];
  const run = async (bytes, base) => {
    const r = await analyzer.analyze(bytes, { rotate: false });
    const rec = {
      ...base,
      faces: r.faces_detected,
      luminance: r.face_luminance,
      quality: r.face_quality,
      sharpness: r.quality_factors?.sharpness ?? null,
      side: r.face_size_px ? Math.min(r.face_size_px.width, r.face_size_px.height) : null,
      ready: r.ready,
      action: r.next_action,
      tags: r.warnings.map((w) => w.risk),
      blocking: r.warnings.filter((w) => w.blocking === true).map((w) => w.risk),
    };
    records.push(rec);
    return rec;
  };

  const fixtureNames = (await readdir(fixturesDir)).filter((f) => /\.(jpe?g|png|webp|tiff)$/i.test(f)).sort();
  for (const name of fixtureNames) {
    await run(await readFile(path.join(fixturesDir, name)), { set: "fixture", file: name });
  }

  const names = (await readdir(realDir)).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort();
  const started = performance.now();
  for (const [index, name] of names.entries()) {
    const bytes = await readFile(path.join(realDir, name));
    const original = await run(bytes, { set: "real", file: name, kind: "original", level: null });
    if (index % every !== 0 || original.faces === 0 || original.side === null) continue;
    // Variants start from the EXIF-oriented pixels (sharp drops the tag on output) and are saved as a camera would.
    const upright = await sharp(bytes).rotate().toBuffer({ resolveWithObject: true });
    const face = { side: original.side, luminance: original.luminance, imageWidth: upright.info.width };
    for (const d of DEGRADATIONS) {
      for (const level of d.levels) {
        if (d.applies && !d.applies(level, face)) continue;
        const variant = await d
          .make(sharp(upright.data), level, face)
          .jpeg({ quality: d.quality ? d.quality(level) : 92 })
          .toBuffer();
        await run(variant, { set: "variant", file: name, kind: d.kind, level });
      }
    }
    if (index % 20 === 0)
      log(`${index + 1}/${names.length} photos, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  // The cut-offs the recorded decisions were made with, kept with the measurements for --from-raw.
  const cuts = { ...(await import(path.join(root, "dist", "precheck", "metrics.js"))) };
  for (const key of Object.keys(cuts)) if (typeof cuts[key] !== "number") delete cuts[key];
  return {
    photos: names.length,
    every,
    seconds: Math.round((performance.now() - started) / 1000),
    records,
    cuts,
  };
}

const pct = (n, d) => (d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`);
const quantile = (values, q) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Candidate cut-offs: `flags(record)` is true when that cut-off would send the record back. */
const METRICS = [
  {
    name: "face_luminance below",
    kind: "darker",
    cuts: [5, 8, 10, 12, 15, 18, 20, 25],
    flags: (r, c) => r.luminance !== null && r.luminance < c,
  },
  {
    name: "face_luminance above",
    kind: "brighter",
    cuts: [80, 85, 88, 90, 92, 95],
    flags: (r, c) => r.luminance !== null && r.luminance > c,
  },
  {
    name: "face side px below",
    kind: "smaller",
    cuts: [24, 32, 40, 48, 56, 64, 80],
    flags: (r, c) => r.side !== null && r.side < c,
  },
  {
    name: "sharpness factor below",
    kind: "blurred",
    cuts: [1, 5, 10, 15, 20, 30, 40],
    flags: (r, c) => r.sharpness !== null && r.sharpness < c,
  },
  {
    name: "face_quality below",
    kind: "blurred",
    cuts: [15, 20, 25, 30, 35, 40, 45, 50],
    flags: (r, c) => r.quality !== null && r.quality < c,
  },
];

function render({ photos, every: sampleEvery, seconds, records, cuts }) {
  const lines = [];
  const out = (s = "") => lines.push(s);
  const originals = records.filter((r) => r.set === "real" && r.kind === "original");
  const variants = records.filter((r) => r.set === "variant");
  const faced = originals.filter((r) => r.faces > 0);
  const sampled = new Set(variants.map((r) => r.file)).size;

  out("# Pre-check calibration");
  out();
  out(
    `Made by \`npm run calibrate\` (scripts/calibrate-precheck.mjs) with the built engine: ${photos} real photos ` +
      `from \`../shared/calibration/real\` (licences in its SOURCES.md; read in place, not in this repository), ` +
      `${variants.length} degraded variants of a sample of ${sampled} of them (every ${sampleEvery}th photo in name order, when the engine finds its face; pass \`--every 1\` for all), ` +
      `and the fixtures in \`test/fixtures\`. Measuring took ${seconds} s.`,
  );
  out();
  out(
    "Caveat: the real set is mostly evenly lit studio and stock portraits, so its raw pass rate says little about dim " +
      "rooms; the darkening, blur and downscaling curves are what the cut-offs are drawn from. A variant whose face " +
      "the engine no longer finds counts as caught (it gets NO_FACE_DETECTED, a retake).",
  );
  out();

  out("## The real originals");
  out();
  out(`${faced.length} of ${originals.length} have a face found by the engine.`);
  out();
  out("| metric | min | 1% | 5% | 10% | median | 90% | max |");
  out("|---|---|---|---|---|---|---|---|");
  for (const key of ["luminance", "quality", "sharpness", "side"]) {
    const v = faced.map((r) => r[key]).filter((x) => x !== null);
    const qs = [0, 0.01, 0.05, 0.1, 0.5, 0.9, 1].map((q) => quantile(v, q));
    out(`| ${key === "side" ? "face side px" : key} | ${qs.join(" | ")} |`);
  }
  out();

  out("## Candidate cut-offs");
  out();
  out(
    "Each row: a cut-off on one metric alone. `originals` = share of the real originals it flags (false retakes if " +
      "it were a retake rule); the other columns = share of the variants at that degradation level it catches. " +
      "Levels marked **bad** are the clearly bad ones that must be caught.",
  );
  for (const m of METRICS) {
    const d = DEGRADATIONS.find((x) => x.kind === m.kind);
    const levels = d.levels;
    out();
    out(`### ${m.name} (against ${d.kind}: ${d.unit})`);
    out();
    out(`| cut-off | originals | ${levels.map((l) => (d.bad(l) ? `**${l}** bad` : `${l}`)).join(" | ")} |`);
    out(`|---|---|${levels.map(() => "---").join("|")}|`);
    for (const c of m.cuts) {
      const cells = levels.map((l) => {
        const set = variants.filter((r) => r.kind === d.kind && r.level === l);
        return pct(set.filter((r) => r.faces === 0 || m.flags(r, c)).length, set.length);
      });
      out(
        `| ${c} | ${pct(originals.filter((r) => m.flags(r, c)).length, originals.length)} | ${cells.join(" | ")} |`,
      );
    }
    const lost = levels.map((l) => {
      const set = variants.filter((r) => r.kind === d.kind && r.level === l);
      return `${pct(set.filter((r) => r.faces === 0).length, set.length)} (n=${set.length})`;
    });
    out(
      `| face lost | ${pct(originals.filter((r) => r.faces === 0).length, originals.length)} | ${lost.join(" | ")} |`,
    );
  }
  out();

  out("## What the current decisions do (src/precheck/metrics.ts)");
  out();
  out(
    `Cut-offs in force: retake when face_luminance < ${cuts.LUMINANCE_RETAKE_LOW} or > ${cuts.LUMINANCE_RETAKE_HIGH}, ` +
      `face_quality < ${cuts.QUALITY_RETAKE}, face side < ${cuts.FACE_RETAKE_SIDE_PX} px, or no face; a suggestion ` +
      `(ready stays true) when face_luminance < ${cuts.LUMINANCE_SUGGEST_LOW} or > ${cuts.LUMINANCE_SUGGEST_HIGH}, ` +
      `face_quality < ${cuts.QUALITY_SUGGEST}, face side < ${cuts.FACE_MIN_SIDE_PX} px (src/precheck/metrics.ts when this was measured).`,
  );
  out();
  const retakes = originals.filter((r) => r.action === "retake");
  const warned = originals.filter((r) => r.action !== "retake" && r.tags.length > 0);
  out(
    `Real originals: **${retakes.length} of ${originals.length} told to retake (${pct(retakes.length, originals.length)})**, ` +
      `${warned.length} ready with a suggestion (${pct(warned.length, originals.length)}).`,
  );
  const byTag = (set) => {
    const counts = new Map();
    for (const r of set)
      for (const t of r.blocking.length ? r.blocking : r.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
    return [...counts].map(([t, n]) => `${t} ${n}`).join(", ") || "none";
  };
  out(`Retakes by tag: ${byTag(retakes)}. Suggestions by tag: ${byTag(warned)}.`);
  if (retakes.length > 0) out(`Retaken originals: ${retakes.map((r) => r.file).join(", ")}.`);
  out();
  out("| degradation | level | n | retake | ready with a suggestion | ready, no warning |");
  out("|---|---|---|---|---|---|");
  for (const d of DEGRADATIONS) {
    for (const l of d.levels) {
      const set = variants.filter((r) => r.kind === d.kind && r.level === l);
      if (set.length === 0) continue;
      const retake = set.filter((r) => r.action === "retake").length;
      const suggest = set.filter((r) => r.action !== "retake" && r.tags.length > 0).length;
      out(
        `| ${d.kind} (${d.unit}) | ${d.bad(l) ? `**${l}** bad` : l} | ${set.length} | ${pct(retake, set.length)} | ` +
          `${pct(suggest, set.length)} | ${pct(set.length - retake - suggest, set.length)} |`,
      );
    }
  }
  out();

  out("## Fixtures");
  out();
  out(
    "| fixture | faces | luminance | quality | sharpness | face side | next_action | warnings (blocking in bold) |",
  );
  out("|---|---|---|---|---|---|---|---|");
  for (const r of records.filter((x) => x.set === "fixture")) {
    const tags = r.tags.map((t) => (r.blocking.includes(t) ? `**${t}**` : t)).join(", ");
    out(
      `| ${r.file} | ${r.faces} | ${r.luminance ?? "-"} | ${r.quality ?? "-"} | ${r.sharpness ?? "-"} | ` +
        `${r.side ?? "-"} | ${r.action} | ${tags || "-"} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const fromRaw = option("--from-raw", undefined);
const data = fromRaw ? JSON.parse(await readFile(fromRaw, "utf8")) : await measure();
const saveRaw = option("--save-raw", undefined);
if (saveRaw) await writeFile(saveRaw, JSON.stringify(data));
const report = render(data);
process.stdout.write(report);
if (args.includes("--write")) {
  await writeFile(path.join(root, "docs", "precheck-calibration.md"), report);
  log("wrote docs/precheck-calibration.md");
}
