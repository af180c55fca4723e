#!/usr/bin/env node
// Builds the verdict view (MCP Apps) into one self-contained HTML file, dist/view/verdict.html: view/verdict.ts with
// the extension's App class bundled and minified, view/verdict.css minified, both inlined into view/verdict.html.
// Nothing in it is fetched from the network. Built once here, read by the server on the first resources/read (never at
// start-up, and never bundled into dist/index.js). Prints the sizes: the whole file, and our own part of it.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build, transform } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "dist", "view", "verdict.html");

/** The view's sizes, from esbuild's metafile: the dependencies' code (ext-apps, the MCP SDK, zod) and the rest. */
export function viewSizes(metafile, html) {
  const [, output] = Object.entries(metafile.outputs)[0];
  let theirs = 0;
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (file.includes("node_modules/")) theirs += bytesInOutput;
  }
  const bytes = Buffer.byteLength(html);
  // Ours: everything in the file but the dependencies' code (our script, the CSS and the page around them).
  return { html: bytes, gzip: gzipSync(html).byteLength, ours: bytes - theirs, dependencies: theirs };
}

export async function buildView() {
  const script = await build({
    absWorkingDir: ROOT,
    entryPoints: ["view/verdict.ts"],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: ["chrome111", "firefox113", "safari16.4"],
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const css = await transform(await readFile(path.join(ROOT, "view", "verdict.css"), "utf8"), {
    loader: "css",
    minify: true,
  });
  // "</script" inside the inlined code would end the element early; "<\/" reads the same in JS strings and regexes.
  const js = script.outputFiles[0].text.replace(/<\/(script)/gi, "<\\/$1");
  const template = await readFile(path.join(ROOT, "view", "verdict.html"), "utf8");
  const html = template.replace("/*STYLE*/", () => css.code.trim()).replace("/*SCRIPT*/", () => js.trim());
  await mkdir(path.dirname(OUT), { recursive: true });
  await writeFile(OUT, html);
  return viewSizes(script.metafile, html);
}

if (import.meta.main ?? process.argv[1] === import.meta.filename) {
  const s = await buildView();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  process.stderr.write(
    `view: dist/view/verdict.html ${kb(s.html)} (${kb(s.gzip)} gzip): ext-apps App, MCP SDK and zod ${kb(s.dependencies)} + ours ${kb(s.ours)} (script, CSS, page)\n`,
  );
}
