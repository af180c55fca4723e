#!/usr/bin/env node
/**
 * Checks precheck_face_image's orientation search on real photos: each image with a face is turned 90/180/270 and
 * encoded as JPEG and PNG; with rotate_image the engine must report the angle that stands it upright again and a
 * spoof estimate within 5 points of the same pixels turned back (lossless). Reads only; writes nothing.
 *   npm run build && node scripts/rotation-check.mjs [--every N] [--formats jpeg,png] <image or folder>...
 * Default: test/fixtures. Prints one line per image and "correct N of M".
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { every: { type: "string" }, formats: { type: "string" } },
});
const every = Number(values.every ?? 1);
const formats = (values.formats ?? "jpeg,png").split(",");
const sharp = createRequire(path.join(ROOT, "package.json"))("sharp");
const { createPrecheckAnalyzer } = await import(path.join(ROOT, "dist", "precheck", "index.js"));
const analyzer = createPrecheckAnalyzer();
await analyzer.warm();

const files = [];
for (const arg of positionals.length > 0 ? positionals : [path.join(ROOT, "test", "fixtures")]) {
  if ((await stat(arg)).isDirectory()) {
    const names = (await readdir(arg)).filter((n) => /\.(jpe?g|png|webp)$/i.test(n)).sort();
    files.push(...names.map((n) => path.join(arg, n)));
  } else files.push(arg);
}

let correct = 0;
let total = 0;
const misses = [];
for (const [i, file] of files.entries()) {
  if (i % every !== 0) continue;
  const upright = await sharp(await readFile(file))
    .rotate()
    .toBuffer();
  const plain = await analyzer.analyze(upright);
  if (plain.faces_detected === 0) continue;
  const cells = [];
  for (const turn of [90, 180, 270]) {
    for (const format of formats) {
      const rotated = await sharp(upright).rotate(turn)[format]().toBuffer();
      const back = await sharp(rotated)
        .rotate(360 - turn)
        .png()
        .toBuffer();
      const r = await analyzer.analyze(rotated, { rotate: true });
      const ref = await analyzer.analyze(back);
      const ok =
        r.best_angle === 360 - turn &&
        r.rotate_image_advised &&
        (ref.spoof_estimate === null || Math.abs((r.spoof_estimate ?? -100) - ref.spoof_estimate) <= 5);
      total += 1;
      if (ok) correct += 1;
      else
        misses.push(
          `${path.basename(file)} ${turn} ${format}: angle ${r.best_angle}, spoof ${r.spoof_estimate} vs ${ref.spoof_estimate}`,
        );
      cells.push(`${turn}${format[0]}:${r.best_angle}${ok ? "" : "!"}`);
    }
  }
  process.stdout.write(
    `${`${path.basename(file)} (face ${plain.face_size_px?.width}px) ${cells.join(" ")}`}\n`,
  );
}
process.stdout.write(`correct ${correct} of ${total}\n`);
for (const miss of misses) process.stdout.write(`miss: ${miss}\n`);
