import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ENGINE_PACKAGES } from "../../src/precheck/loader.js";

// Packing the project as npm would publish it and installing the tarball into an empty folder, for the package
// test (quick, in the suite) and the engine install test (`npm run test:install`).

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const WINDOWS = process.platform === "win32";
const NPM = WINDOWS ? "npm.cmd" : "npm";
const NPX = WINDOWS ? "npx.cmd" : "npx";

export const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  peerDependencies: Record<string, string>;
};

/** `name@version` of each optional engine package, as package.json pins them, in the engine's own order. */
export const ENGINE_SPECS = Object.values(ENGINE_PACKAGES).map(
  (name) => `${name}@${pkg.peerDependencies[name]}`,
);

/** npm's own settings (cache, registry, user config) but nothing of the project or of a parent npm script. */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("DIDIT_")) continue;
    if (/^npm_/i.test(key) && !/^npm_config_(cache|registry|userconfig)$/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/** What an installed command sees: a PATH (for `#!/usr/bin/env node`) and a home, no DIDIT_* at all. */
export function binEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir() };
  for (const key of ["SystemRoot", "USERPROFILE", "APPDATA", "TEMP", "TMP"]) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

/** What an MCP host gives `npx`, plus npm's own cache settings: after an install, the deps come from that cache. */
export function npxHostEnv(): NodeJS.ProcessEnv {
  const env = binEnv();
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_config_(cache|registry|userconfig)$/i.test(key)) env[key] = value;
  }
  // As npm's env config rather than a flag, so the argv stays exactly the documented one.
  env.npm_config_prefer_offline = "true";
  return env;
}

/** Removes what npx installed for this tarball under its cache (<cache>/_npx/<hash>): a new tarball path each run. */
export function removeNpxInstalls(tarball: string, cwd: string, timeoutMs: number): void {
  const npxDir = path.join(npm(["config", "get", "cache"], cwd, timeoutMs).trim(), "_npx");
  if (!existsSync(npxDir)) return;
  for (const entry of readdirSync(npxDir)) {
    let packages: unknown;
    try {
      const manifest = readFileSync(path.join(npxDir, entry, "package.json"), "utf8");
      packages = (JSON.parse(manifest) as { _npx?: { packages?: unknown } })._npx?.packages;
    } catch {
      continue;
    }
    if (Array.isArray(packages) && packages.includes(tarball)) {
      rmSync(path.join(npxDir, entry), { recursive: true, force: true });
    }
  }
}

export function npm(args: string[], cwd: string, timeoutMs: number): string {
  return run(NPM, args, cwd, timeoutMs);
}

export function npx(args: string[], cwd: string, timeoutMs: number): string {
  return run(NPX, args, cwd, timeoutMs);
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): string {
  const result = spawnSync(command, args, {
    cwd,
    env: npmEnv(),
    encoding: "utf8",
    shell: WINDOWS,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status ?? result.signal}):\n${result.stderr}`,
    );
  }
  return result.stdout;
}

export interface Packed {
  tarball: string;
  size: number;
  /** Paths inside the package, sorted, with forward slashes. */
  files: string[];
}

/** `npm pack` into a new temporary folder (dist/ must already be built: prepack's build is skipped here). */
export function packProject(timeoutMs: number): Packed {
  const packDir = mkdtempSync(path.join(tmpdir(), "didit-pack-"));
  const [packed] = JSON.parse(
    npm(["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], ROOT, timeoutMs),
  ) as {
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  if (!packed) throw new Error("npm pack --json printed no package");
  return {
    tarball: path.join(packDir, packed.filename),
    size: packed.size,
    files: packed.files.map((f) => f.path.replace(/\\/g, "/")).sort(),
  };
}

/** A new empty project folder with its own package.json, as a person would start from. */
export function emptyProject(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: "didit-pack-check", version: "0.0.0", private: true }, null, 2)}\n`,
  );
  return dir;
}

/** Starts a server command, waits for its ready line on stderr, then closes its stdin; resolves to that line. */
export async function readyLine(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<string> {
  const child = spawn(command, args, { env, cwd, shell: WINDOWS, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  const line = new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const ready = /^.*\bready \(.*$/m.exec(stderr);
      if (ready) resolve(ready[0]);
    });
    child.on("exit", () => reject(new Error(`exited before its ready line: ${stderr}`)));
  });
  try {
    return await line;
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await once(child, "exit");
  }
}
