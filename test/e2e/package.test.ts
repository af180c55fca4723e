import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Packs the project as npm would publish it (dist/ must already be built: `npm test` builds first), installs the
// tarball into an empty folder and runs the installed command, with no DIDIT_API_KEY anywhere.

const ROOT = path.resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
};
const WINDOWS = process.platform === "win32";
const NPM = WINDOWS ? "npm.cmd" : "npm";
const INSTALL_TIMEOUT_MS = 120_000;

/** npm's own settings (cache, registry, user config) but nothing of the project or of a parent npm script. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("DIDIT_")) continue;
    if (/^npm_/i.test(key) && !/^npm_config_(cache|registry|userconfig)$/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/** What the installed command sees: a PATH (for `#!/usr/bin/env node`) and a home, no DIDIT_* at all. */
function binEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir() };
  for (const key of ["SystemRoot", "USERPROFILE", "APPDATA", "TEMP", "TMP"]) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

function npm(args: string[], cwd: string): string {
  const result = spawnSync(NPM, args, {
    cwd,
    env: npmEnv(),
    encoding: "utf8",
    shell: WINDOWS,
    timeout: INSTALL_TIMEOUT_MS,
  });
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(" ")} failed (${result.status ?? result.signal}):\n${result.stderr}`);
  }
  return result.stdout;
}

interface PackedFile {
  path: string;
  size: number;
}

let packDir: string;
let installDir: string;
let files: string[];
let tarballSize: number;
let installedRoot: string;
let bin: string;

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(WINDOWS ? `${bin}.cmd` : bin, args, {
    cwd: installDir,
    env: binEnv(),
    encoding: "utf8",
    shell: WINDOWS,
    timeout: 30_000,
  });
}

beforeAll(() => {
  expect(existsSync(path.join(ROOT, "dist", "index.js")), "dist/ is built (npm test builds first)").toBe(
    true,
  );
  packDir = mkdtempSync(path.join(tmpdir(), "didit-pack-"));
  installDir = mkdtempSync(path.join(tmpdir(), "didit-install-"));

  const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", packDir], ROOT)) as {
    filename: string;
    size: number;
    files: PackedFile[];
  }[];
  if (!packed) throw new Error("npm pack --json printed no package");
  files = packed.files.map((f) => f.path.replace(/\\/g, "/")).sort();
  tarballSize = packed.size;

  writeFileSync(
    path.join(installDir, "package.json"),
    `${JSON.stringify({ name: "didit-pack-check", version: "0.0.0", private: true }, null, 2)}\n`,
  );
  npm(
    ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(packDir, packed.filename)],
    installDir,
  );
  installedRoot = path.join(installDir, "node_modules", pkg.name);
  bin = path.join(installDir, "node_modules", ".bin", pkg.name);
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  for (const dir of [packDir, installDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the published package", { timeout: INSTALL_TIMEOUT_MS }, () => {
  it("holds only what runs: compiled JavaScript, the sample, the docs and the metadata", () => {
    for (const file of [
      "package.json",
      "README.md",
      "SKILL.md",
      "LICENSE",
      "server.json",
      "dist/index.js",
      "dist/server.js",
      "dist/cli.js",
      "samples/selfie.jpg",
      "samples/NOTICE.md",
    ]) {
      expect(files).toContain(file);
    }
    const topLevel = new Set(["package.json", "README.md", "SKILL.md", "LICENSE", "server.json"]);
    for (const file of files) {
      const allowed =
        topLevel.has(file) ||
        (file.startsWith("dist/") && file.endsWith(".js")) ||
        file.startsWith("samples/");
      expect(allowed, `unexpected file in the tarball: ${file}`).toBe(true);
      expect(file).not.toMatch(/^(src|test|scripts|bench|coverage|node_modules)\//);
      expect(file).not.toMatch(/\.(ts|mts|cts|map|tgz)$/);
      expect(file).not.toMatch(/(^|\/)tsconfig[^/]*\.json$/);
    }
    // A selfie, a few dozen small modules and the docs; anything much bigger means something leaked in.
    expect(tarballSize).toBeLessThan(1_000_000);
  });

  it("installs into an empty folder with its command on the bin path", () => {
    expect(existsSync(path.join(installedRoot, "dist", "index.js"))).toBe(true);
    expect(existsSync(WINDOWS ? `${bin}.cmd` : bin)).toBe(true);
  });

  it("prints the package version", () => {
    const result = run(["--version"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it("explains a warning tag offline", () => {
    const result = run(["explain", "LOW_LIVENESS_SCORE"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("LOW_LIVENESS_SCORE");
  });

  it("checks the bundled sample in sandbox mode without a key", () => {
    const result = run(["check", path.join(installedRoot, "samples", "selfie.jpg"), "--sandbox", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const verdict = JSON.parse(result.stdout) as { sandbox?: boolean; status: string; next_action: string };
    expect(verdict).toMatchObject({ sandbox: true, status: "Approved", next_action: "proceed" });
  });

  it("refuses a real check without a key: exit 3 and not_configured", () => {
    const result = run(["check", path.join(installedRoot, "samples", "selfie.jpg")]);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("not_configured");
  });
});
