#!/usr/bin/env node
// npm run bundle: builds didit-passive-liveness-mcp.mcpb for Claude Desktop (one double-click install) with the
// official @anthropic-ai/mcpb CLI. The bundle holds the esbuild bundle (dist/index.js + chunks), package.json, the
// MiniFASNet models and, in node_modules, what stays outside the esbuild bundle: undici, prom-client and the
// optional pre-check engine, copied from this checkout's node_modules. sharp's native part there is this platform's
// only, so sharp's WebAssembly build (@img/sharp-wasm32, ~9 MB, installed here from the npm registry) goes in too:
// sharp loads it on every other platform, so the pre-check works wherever the bundle is installed. The manifest
// (tools from the live definitions) is mcpb-manifest.mjs's; the bundle's SHA-256 goes into server.json's mcpb entry.
// Run `npm run build` first (npm run bundle does).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BUNDLE_FILE, buildManifest, mcpbPackageEntry } from "./mcpb-manifest.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const STAGE = path.join(ROOT, ".tmp", "mcpb");
const OUT = path.join(ROOT, BUNDLE_FILE);
const WASM_SHARP_DIR = path.join(ROOT, ".tmp", "mcpb-sharp-wasm");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
/** Loaded at run time by name, not bundled by esbuild: they and their dependencies go into node_modules. */
const RUNTIME = ["undici", "prom-client", ...Object.keys(pkg.peerDependencies ?? {})];

function mcpbBin() {
  const local = path.join(ROOT, "node_modules", ".bin", "mcpb");
  return existsSync(local) ? local : "mcpb";
}

function copyClosure(names, modules = path.join(ROOT, "node_modules"), seen = new Set()) {
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.shift();
    if (seen.has(name)) continue;
    const from = path.join(modules, name);
    if (!existsSync(from)) continue; // an optional dependency for another platform
    seen.add(name);
    cpSync(from, path.join(STAGE, "node_modules", name), {
      recursive: true,
      dereference: true,
      filter: (src) => !/\.(map|d\.ts|d\.mts|d\.cts|md)$/.test(src) || src.endsWith("LICENSE.md"),
    });
    const manifest = JSON.parse(readFileSync(path.join(from, "package.json"), "utf8"));
    queue.push(
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    );
  }
  return seen;
}

if (!existsSync(path.join(ROOT, "dist", "chunks")))
  throw new Error("dist/ has no bundle: run npm run build first");
rmSync(STAGE, { recursive: true, force: true });
mkdirSync(path.join(STAGE, "dist"), { recursive: true });
cpSync(path.join(ROOT, "dist", "index.js"), path.join(STAGE, "dist", "index.js"));
cpSync(path.join(ROOT, "dist", "chunks"), path.join(STAGE, "dist", "chunks"), {
  recursive: true,
  filter: (src) => !src.endsWith(".map"),
});
cpSync(path.join(ROOT, "models"), path.join(STAGE, "models"), { recursive: true });
cpSync(path.join(ROOT, "scripts", "mcpb-entry.mjs"), path.join(STAGE, "mcpb-entry.mjs"));
for (const file of ["README.md", "LICENSE"]) cpSync(path.join(ROOT, file), path.join(STAGE, file));
// The README links to docs/, so the pages travel with it.
cpSync(path.join(ROOT, "docs"), path.join(STAGE, "docs"), { recursive: true });
const { name, version, description, license } = pkg;
writeFileSync(
  path.join(STAGE, "package.json"),
  `${JSON.stringify({ name, version, description, license, type: "module" }, null, 2)}\n`,
);
const copied = copyClosure(RUNTIME);
// sharp's WebAssembly build, for every platform whose native binary is not in the bundle (npm installs it only
// when asked for that cpu; sharp publishes it with its own version, and does not list it among its optional ones).
const sharpPkg = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "sharp", "package.json"), "utf8"));
const wasmSpec = `@img/sharp-wasm32@${sharpPkg.version}`;
rmSync(WASM_SHARP_DIR, { recursive: true, force: true });
mkdirSync(WASM_SHARP_DIR, { recursive: true });
writeFileSync(path.join(WASM_SHARP_DIR, "package.json"), '{"name":"mcpb-sharp-wasm","private":true}\n');
execFileSync(
  "npm",
  ["install", "--no-save", "--no-audit", "--no-fund", "--prefer-offline", "--cpu=wasm32", wasmSpec],
  { cwd: WASM_SHARP_DIR, stdio: ["ignore", "ignore", "inherit"], shell: process.platform === "win32" },
);
copyClosure(["@img/sharp-wasm32"], path.join(WASM_SHARP_DIR, "node_modules"), copied);
const manifest = await buildManifest(pkg);
writeFileSync(path.join(STAGE, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

const mcpb = mcpbBin();
execFileSync(mcpb, ["validate", path.join(STAGE, "manifest.json")], { stdio: "inherit" });
rmSync(OUT, { force: true });
execFileSync(mcpb, ["pack", STAGE, OUT], { stdio: ["ignore", "ignore", "inherit"] });
// server.json's mcpb entry carries the bundle's SHA-256 (clients check it before installing).
const serverJsonPath = path.join(ROOT, "server.json");
const serverJson = JSON.parse(readFileSync(serverJsonPath, "utf8"));
const entry = mcpbPackageEntry(version, readFileSync(OUT));
const at = serverJson.packages.findIndex((p) => p.registryType === "mcpb");
if (at === -1) serverJson.packages.push(entry);
else serverJson.packages[at] = entry;
writeFileSync(serverJsonPath, `${JSON.stringify(serverJson, null, 2)}\n`);
process.stderr.write(
  `bundle: ${path.relative(ROOT, OUT)} (${[...copied].length} runtime packages), sha256 ${entry.fileSha256} in server.json\n`,
);
