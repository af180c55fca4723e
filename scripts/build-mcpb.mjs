#!/usr/bin/env node
// npm run bundle: builds didit-passive-liveness-mcp.mcpb for Claude Desktop (one double-click install) with the
// official @anthropic-ai/mcpb CLI. The bundle holds the esbuild bundle (dist/index.js + chunks), package.json, the
// MiniFASNet models and, in node_modules, what stays outside the esbuild bundle: undici, prom-client and the
// optional pre-check engine, copied from this checkout's node_modules (so sharp's native part is this platform's:
// build on each platform you ship). Run `npm run build` first (npm run bundle does).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const STAGE = path.join(ROOT, ".tmp", "mcpb");
const OUT = path.join(ROOT, "didit-passive-liveness-mcp.mcpb");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
/** Loaded at run time by name, not bundled by esbuild: they and their dependencies go into node_modules. */
const RUNTIME = ["undici", "prom-client", ...Object.keys(pkg.peerDependencies ?? {})];

function mcpbBin() {
  const local = path.join(ROOT, "node_modules", ".bin", "mcpb");
  return existsSync(local) ? local : "mcpb";
}

function copyClosure(names) {
  const seen = new Set();
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.shift();
    if (seen.has(name)) continue;
    const from = path.join(ROOT, "node_modules", name);
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
// The verdict view (MCP Apps), read by the server from dist/view/ on the first resources/read.
cpSync(path.join(ROOT, "dist", "view"), path.join(STAGE, "dist", "view"), { recursive: true });
cpSync(path.join(ROOT, "models"), path.join(STAGE, "models"), { recursive: true });
cpSync(path.join(ROOT, "scripts", "mcpb-entry.mjs"), path.join(STAGE, "mcpb-entry.mjs"));
for (const file of ["README.md", "LICENSE"]) cpSync(path.join(ROOT, file), path.join(STAGE, file));
// The README links to docs/, so the pages travel with it.
cpSync(path.join(ROOT, "docs"), path.join(STAGE, "docs"), { recursive: true });
const { name, version, description, license, homepage, repository } = pkg;
writeFileSync(
  path.join(STAGE, "package.json"),
  `${JSON.stringify({ name, version, description, license, type: "module" }, null, 2)}\n`,
);
const copied = copyClosure(RUNTIME);
/** A host-substituted variable, "${name}" (built, so it is not mistaken for a template literal). */
const hostVar = (name) => `\${${name}}`;

const manifest = {
  manifest_version: "0.3",
  name,
  display_name: "Didit Passive Liveness",
  version,
  description,
  author: { name: "didit-community" },
  homepage,
  repository: { type: "git", url: repository.url.replace(/^git\+/, "") },
  license,
  server: {
    type: "node",
    entry_point: "mcpb-entry.mjs",
    mcp_config: {
      command: "node",
      // Each chosen directory arrives as its own argument; mcpb-entry.mjs turns them into --allow-dir flags.
      args: [`${hostVar("__dirname")}/mcpb-entry.mjs`, hostVar("user_config.allowed_directories")],
      env: { DIDIT_API_KEY: hostVar("user_config.api_key"), DIDIT_SANDBOX: hostVar("user_config.sandbox") },
    },
  },
  tools: [
    {
      name: "check_passive_liveness",
      description: "Checks one face photo for liveness with Didit (one credit).",
    },
    {
      name: "precheck_face_image",
      description: "Checks a face photo on this computer before spending a credit.",
    },
    { name: "explain_warning", description: "Explains a Didit warning tag." },
  ],
  user_config: {
    api_key: {
      type: "string",
      title: "Didit API key",
      description:
        "From the Didit Business Console (API & Webhooks). Leave empty with sandbox mode on to try it.",
      sensitive: true,
      required: false,
      default: "",
    },
    allowed_directories: {
      type: "directory",
      title: "Photo folders",
      description: "Folders image_path may read face photos from.",
      multiple: true,
      required: false,
      default: [],
    },
    sandbox: {
      type: "boolean",
      title: "Sandbox mode",
      description: "Mocked offline results; nothing is uploaded and no key is needed.",
      required: false,
      default: false,
    },
  },
  compatibility: { runtimes: { node: pkg.engines.node } },
};
writeFileSync(path.join(STAGE, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

const mcpb = mcpbBin();
execFileSync(mcpb, ["validate", path.join(STAGE, "manifest.json")], { stdio: "inherit" });
rmSync(OUT, { force: true });
execFileSync(mcpb, ["pack", STAGE, OUT], { stdio: ["ignore", "ignore", "inherit"] });
process.stderr.write(`bundle: ${path.relative(ROOT, OUT)} (${[...copied].length} runtime packages)\n`);
