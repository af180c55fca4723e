import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentedForm, expectTheFiveTools, startAsHost } from "../support/install-forms.js";
import {
  binEnv,
  ENGINE_SPECS,
  emptyProject,
  npm,
  type Packed,
  packProject,
  pkg,
  ROOT,
  readyLine,
  WINDOWS,
} from "../support/packed.js";

// Packs the project as npm would publish it (dist/ must already be built: `npm test` builds first), installs the
// tarball into an empty folder and runs the installed command, with no DIDIT_API_KEY anywhere. Then starts the
// clone and installed forms of the README's table as a host does and lists their tools (the tarball under npx:
// package-npx.test.ts, in the full set; the MCPB bundle: mcpb.test.ts). The optional pre-check engine is not installed here (300 MB); `npm run
// test:install` installs it and runs a real pre-check.

const INSTALL_TIMEOUT_MS = 120_000;
const MODEL_FILES = [
  "models/minifasnet/LICENSE",
  "models/minifasnet/MiniFASNetV1SE.onnx",
  "models/minifasnet/MiniFASNetV2.onnx",
  "models/minifasnet/NOTICE",
];

let packed: Packed;
let installDir: string;
let installedRoot: string;
let bin: string;
/** A folder that is neither the clone nor the install: where a host starts its servers from. */
let hostDir: string;

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
  packed = packProject(INSTALL_TIMEOUT_MS);
  installDir = emptyProject("didit-install-");
  npm(
    ["install", "--no-audit", "--no-fund", "--prefer-offline", packed.tarball],
    installDir,
    INSTALL_TIMEOUT_MS,
  );
  installedRoot = path.join(installDir, "node_modules", pkg.name);
  bin = path.join(installDir, "node_modules", ".bin", pkg.name);
  hostDir = mkdtempSync(path.join(tmpdir(), "didit-host-"));
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  for (const dir of [packed && path.dirname(packed.tarball), installDir, hostDir]) {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

describe("the published package", { timeout: INSTALL_TIMEOUT_MS }, () => {
  it("holds only what runs: compiled JavaScript, the sample, the spoof models, the docs and the metadata", () => {
    const { files } = packed;
    for (const file of [
      "package.json",
      "README.md",
      "docs/tools.md",
      "docs/security.md",
      "SKILL.md",
      "LICENSE",
      "server.json",
      "dist/index.js",
      "dist/server/server.js",
      "dist/cli/main.js",
      "samples/selfie.jpg",
      "samples/NOTICE.md",
      "dist/view/verdict.html",
      "docs/view-screenshot.png",
      ...MODEL_FILES,
    ]) {
      expect(files).toContain(file);
    }
    const topLevel = new Set(["package.json", "README.md", "SKILL.md", "LICENSE", "server.json"]);
    for (const file of files) {
      const allowed =
        topLevel.has(file) ||
        (file.startsWith("dist/") && file.endsWith(".js")) ||
        file === "dist/view/verdict.html" ||
        file.startsWith("samples/") ||
        /^docs\/[\w-]+\.(md|png)$/.test(file) ||
        MODEL_FILES.includes(file);
      expect(allowed, `unexpected file in the tarball: ${file}`).toBe(true);
      expect(file).not.toMatch(/^(src|test|scripts|bench|coverage|node_modules)\//);
      expect(file).not.toMatch(/\.(ts|mts|cts|map|tgz)$/);
      expect(file).not.toMatch(/(^|\/)tsconfig[^/]*\.json$/);
    }
    // The two models (3.4 MB, barely compressible), a selfie, the bundle and its lazy chunks, the module tree the
    // scripts import, and the docs (3.71 MB in all with HTTP mode and calibrate; 4.02 MB with the verdict view's
    // HTML, 114 KB gzipped, and its 86 KB screenshot); anything much bigger means something leaked in.
    expect(packed.size).toBeLessThan(4_250_000);
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

  it("without the engine: the ready line says so, and precheck exits 3 with the pinned install command", async () => {
    const line = await readyLine(WINDOWS ? `${bin}.cmd` : bin, [], binEnv(), installDir);
    expect(line).toMatch(
      /, pre-check engine not installed \(the package\(s\) @vladmandic\/human, .* cannot be found\)\)$/,
    );
    const result = run(["precheck", path.join(installedRoot, "samples", "selfie.jpg")]);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^Error \[not_configured\]: The on-device pre-check engine is not installed/,
    );
    expect(result.stderr).toContain(`npm i ${ENGINE_SPECS.join(" ")}`);
  });

  it("run from npx's cache, the hint gives the npx form that brings the engine", () => {
    // npx installs into <cache>/_npx/<hash>/node_modules: the same files seen through such a path (symlinks kept).
    const npxRoot = path.join(installDir, "_npx", "0123abcd");
    mkdirSync(npxRoot, { recursive: true });
    symlinkSync(path.join(installDir, "node_modules"), path.join(npxRoot, "node_modules"), "junction");
    const result = spawnSync(
      process.execPath,
      [
        "--preserve-symlinks",
        "--preserve-symlinks-main",
        path.join(npxRoot, "node_modules", pkg.name, "dist", "index.js"),
        "precheck",
        "selfie.jpg",
      ],
      { cwd: path.join(installedRoot, "samples"), env: binEnv(), encoding: "utf8", timeout: 30_000 },
    );
    expect(result.status).toBe(3);
    const npxForm = `npx -y -p ${pkg.name} ${ENGINE_SPECS.map((s) => `-p ${s}`).join(" ")} ${pkg.name}`;
    expect(result.stderr).toContain(npxForm);
    expect(result.stderr).not.toContain("npm i ");
  });
});

describe("each install form the README documents, started as a host starts it", {
  timeout: INSTALL_TIMEOUT_MS,
}, () => {
  it("from a clone: node /abs/path/to/clone/dist/index.js, from another folder, answers tools/list", async () => {
    const argv = documentedForm("From a clone").map((word) =>
      word.startsWith("/abs/path/to/clone/")
        ? path.join(ROOT, word.slice("/abs/path/to/clone/".length))
        : word,
    );
    expect(argv).toEqual(["node", path.join(ROOT, "dist", "index.js")]);
    await expectTheFiveTools(await startAsHost(argv, binEnv(), hostDir));
  });

  it("installed from the tarball: its command answers tools/list", async () => {
    await expectTheFiveTools(await startAsHost([WINDOWS ? `${bin}.cmd` : bin], binEnv(), hostDir));
  });
});
