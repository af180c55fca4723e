#!/usr/bin/env node
// Bundles the server into dist/index.js (the bin) so a start loads one file instead of ~200 modules: what made our
// cold start slower than a bare SDK server. Runs after tsc (which still writes dist/**, used by scripts and tests).
// Lazy imports stay lazy: each dynamic import() becomes its own chunk in dist/chunks/, loaded on first use.
// The optional pre-check engine packages are loaded by resolved path at run time, so they are never bundled. undici,
// prom-client and ioredis (CommonJS, loaded on first use; ioredis only with DIDIT_REDIS_URL) stay plain dependencies:
// esbuild's wrapper for a dynamically imported CommonJS module lost undici's named exports ("Pool is not a
// constructor"), and all three are lazy anyway.
import { rm } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
const DIST = path.join(ROOT, "dist");
const EXTERNAL = [
  "ioredis",
  "undici",
  "prom-client",
  "@vladmandic/human",
  "@tensorflow/*",
  "onnxruntime-web",
  "onnxruntime-common",
  "sharp",
  "@img/*",
];

await rm(path.join(DIST, "chunks"), { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { index: "src/main.ts" },
  outdir: DIST,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.18",
  external: EXTERNAL,
  minify: true,
  sourcemap: true,
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
  // Bundled CommonJS dependencies may call require(); give the ESM bundle one.
  banner: {
    js: 'import { createRequire as __diditCreateRequire } from "node:module";\nconst require = __diditCreateRequire(import.meta.url);',
  },
});
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"));
const entry = outputs.find(([file]) => file === "dist/index.js");
process.stderr.write(
  `bundle: dist/index.js ${Math.round((entry?.[1].bytes ?? 0) / 1024)} KB + ${outputs.length - 1} lazy chunk(s)\n`,
);
