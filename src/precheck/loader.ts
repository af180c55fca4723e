import { readFileSync } from "node:fs";
import { access } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { ToolFailure, truncate } from "../core/errors.js";
import { type InstallKind, installKind } from "../core/install-kind.js";
import { packageRoot } from "../core/package-root.js";

/** The optional packages the engine needs; their versions are pinned once, in package.json's peerDependencies. */
export const ENGINE_PACKAGES = {
  human: "@vladmandic/human",
  tfjsCore: "@tensorflow/tfjs-core",
  tfjsConverter: "@tensorflow/tfjs-converter",
  tfjsWasm: "@tensorflow/tfjs-backend-wasm",
  ort: "onnxruntime-web",
  sharp: "sharp",
} as const;
export type EnginePackage = keyof typeof ENGINE_PACKAGES;

/**
 * `name@version` of each engine package, read from the package.json that ships with the code (so a packed or
 * npx-installed copy always names the versions it was tested with). Throws on a bug: a package without a pin.
 */
export function engineSpecs(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as {
    peerDependencies?: Record<string, string>;
  };
  return Object.values(ENGINE_PACKAGES).map((name) => {
    const version = pkg.peerDependencies?.[name];
    if (!version) throw new Error(`package.json peerDependencies has no pin for ${name}`);
    return `${name}@${version}`;
  });
}

/** The command that installs the engine next to an installed (local, global or git) copy of the server. */
export function installCommand(): string {
  return `npm i ${engineSpecs().join(" ")}`;
}

/** How to run the server with npx and the engine in one step (npx installs every -p package side by side). */
export function npxCommand(): string {
  return `npx -y -p ${PACKAGE_NAME} ${engineSpecs()
    .map((spec) => `-p ${spec}`)
    .join(" ")} ${PACKAGE_NAME}`;
}

const PACKAGE_NAME = "didit-passive-liveness-mcp";

export const SPOOF_MODEL_FILES = ["MiniFASNetV2.onnx", "MiniFASNetV1SE.onnx"] as const;

/** Where the engine's parts are; tests point a package at a missing name to exercise the not-installed path. */
export interface EngineLocations {
  /** Package names to load instead of the defaults (same version conventions). */
  packages?: Partial<Record<EnginePackage, string>> | undefined;
  /** Folder holding the MiniFASNet ONNX files; default: models/minifasnet at the package root. */
  modelsDir?: string | undefined;
}

/** Absolute paths of everything the engine loads from disk. Nothing is ever fetched from the network. */
export interface ResolvedEngine {
  /** human.node-wasm.js: loaded by path, since the package's exports map only offers the tfjs-node build. */
  humanEntry: string;
  /** Human's bundled models (blazeface, facemesh). */
  humanModelsDir: string;
  /** Folder with tfjs-backend-wasm's .wasm files (trailing separator). */
  tfjsWasmDir: string;
  /** Bare specifiers to import (resolved from this module, like the paths above). */
  ortPackage: string;
  sharpPackage: string;
  ortWasm: string;
  ortMjs: string;
  /** The MiniFASNet files, or undefined when they are absent: the pre-check then runs without a spoof estimate. */
  spoofModels: readonly string[] | undefined;
  /** Why there is no spoof estimate, when there is none. */
  spoofUnavailable?: string;
}

/** The models/ folder shipped beside package.json (found from src/, dist/ or the bundle alike). */
export function defaultModelsDir(): string {
  return path.join(packageRoot(), "models", "minifasnet");
}

const requireHere = createRequire(import.meta.url);

/**
 * Finds every part without running any of it (cheap: no WASM, no model). Throws not_configured naming what is
 * missing and the exact install command.
 */
export async function resolveEngine(locations: EngineLocations = {}): Promise<ResolvedEngine> {
  const found = await findEngine(locations);
  if (typeof found === "string") throw notInstalled(found);
  return found;
}

/** The engine's paths, or why it is not installed. */
async function findEngine(locations: EngineLocations): Promise<ResolvedEngine | string> {
  const name = (key: EnginePackage) => locations.packages?.[key] ?? ENGINE_PACKAGES[key];
  const missing: string[] = [];
  const find = (specifier: string, from = requireHere, reportAs = specifier): string => {
    try {
      return from.resolve(specifier);
    } catch {
      missing.push(reportAs);
      return "";
    }
  };
  const humanMain = find(name("human"), requireHere, name("human"));
  // Human requires TF.js itself, so TF.js must resolve from Human's folder, not only from ours.
  const fromHuman = humanMain ? createRequire(humanMain) : requireHere;
  find(name("tfjsCore"), fromHuman, name("tfjsCore"));
  find(name("tfjsConverter"), fromHuman, name("tfjsConverter"));
  const tfjsWasmMain = find(name("tfjsWasm"), fromHuman, name("tfjsWasm"));
  const ortEntry = find(name("ort"), requireHere, name("ort"));
  const ortWasm = ortEntry
    ? find(`${name("ort")}/ort-wasm-simd-threaded.wasm`, requireHere, name("ort"))
    : "";
  const ortMjs = ortEntry ? find(`${name("ort")}/ort-wasm-simd-threaded.mjs`, requireHere, name("ort")) : "";
  find(name("sharp"), requireHere, name("sharp"));
  if (missing.length > 0) {
    return `the package(s) ${[...new Set(missing)].join(", ")} cannot be found`;
  }
  const humanDist = path.dirname(humanMain);
  const modelsDir = locations.modelsDir ?? defaultModelsDir();
  const resolved: ResolvedEngine = {
    humanEntry: path.join(humanDist, "human.node-wasm.js"),
    humanModelsDir: path.join(humanDist, "..", "models"),
    tfjsWasmDir: `${path.dirname(tfjsWasmMain)}${path.sep}`,
    ortPackage: name("ort"),
    sharpPackage: name("sharp"),
    ortWasm,
    ortMjs,
    spoofModels: SPOOF_MODEL_FILES.map((file) => path.join(locations.modelsDir ?? defaultModelsDir(), file)),
  };
  const packageFiles = [
    resolved.humanEntry,
    path.join(resolved.humanModelsDir, "blazeface.json"),
    path.join(resolved.humanModelsDir, "facemesh.json"),
    path.join(resolved.tfjsWasmDir, "tfjs-backend-wasm-simd.wasm"),
  ];
  const absentPackageFiles = await absentFiles(packageFiles);
  if (absentPackageFiles.length > 0) {
    return `the installed packages lack ${absentPackageFiles.join(", ")} (other versions?)`;
  }
  // The models ship in the package and a configured folder is checked at start-up, so this only happens when they
  // were removed since; the pre-check then still answers everything but the advisory spoof estimate.
  const absentModels = await absentFiles(resolved.spoofModels ?? []);
  if (absentModels.length > 0) {
    resolved.spoofModels = undefined;
    resolved.spoofUnavailable = `unavailable: MiniFASNet model files not found in ${modelsDir} (${absentModels.join(", ")}); set DIDIT_PRECHECK_MODELS_DIR to a folder holding them`;
  }
  return resolved;
}

async function absentFiles(files: readonly string[]): Promise<string[]> {
  const absent: string[] = [];
  await Promise.all(files.map((file) => access(file).catch(() => absent.push(path.basename(file)))));
  return absent.sort();
}

/** True when every package and model file the engine needs is present; loads nothing. */
export async function isPrecheckEngineAvailable(locations: EngineLocations = {}): Promise<boolean> {
  return resolveEngine(locations).then(
    () => true,
    () => false,
  );
}

/** One phrase for the start-up line: whether the engine and its models are there (resolves paths, loads nothing). */
export async function describePrecheckEngine(locations: EngineLocations = {}): Promise<string> {
  const found = await findEngine(locations);
  if (typeof found === "string") return `pre-check engine not installed (${found})`;
  return found.spoofModels
    ? "pre-check engine and models available"
    : `pre-check engine available, spoof models missing in ${locations.modelsDir ?? defaultModelsDir()}`;
}

export function notInstalled(why: string): ToolFailure {
  return new ToolFailure(
    "not_configured",
    `The on-device pre-check engine is not installed: ${truncate(why, 300)}.`,
    `It is optional. ${howToInstall()} check_passive_liveness and explain_warning work without it.`,
  );
}

/** The install advice that fits how this copy of the server was installed (see install-kind.ts). */
export function howToInstall(install: InstallKind = installKind()): string {
  const retry = "and call precheck_face_image again (no restart needed).";
  switch (install.kind) {
    case "npx":
      return `This server runs from npx, which installs only the packages it is given: start it with \`${npxCommand()}\` instead (change the command in the MCP host's configuration and restart it).`;
    case "global":
      // Global packages resolve each other through the prefix's node_modules, so the engine goes there too.
      return `This server is a global npm install (prefix ${install.prefix}): install the engine beside it with \`npm i -g --prefix ${shellWord(install.prefix)} ${engineSpecs().join(" ")}\` ${retry}`;
    case "local":
      return `Install it next to the server: in ${install.project}, run \`${installCommand()}\` ${retry}`;
    case "clone":
      return `This server runs from a git clone whose dev dependencies are the engine: run \`npm ci\` in ${install.root} (or \`${installCommand()}\` there) ${retry}`;
    case "mcpb":
      return "The Claude Desktop extension ships the engine: reinstall it from a complete didit-passive-liveness-mcp.mcpb (npm run bundle) and restart Claude Desktop.";
    default:
      return `Install it next to the server with \`${installCommand()}\` ${retry}`;
  }
}

/** A path as one shell word: quoted only when it needs to be. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(text) ? text : `"${text.replace(/(["\\$`])/g, "\\$1")}"`;
}
