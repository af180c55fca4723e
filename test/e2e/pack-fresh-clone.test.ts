import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectTheFiveTools, startAsHost } from "../support/install-forms.js";
import { binEnv, ENGINE_SPECS, npm, pkg, ROOT, WINDOWS } from "../support/packed.js";

// The tarball form from nothing but a fresh clone of the committed tree, as a person makes it: `npm ci`, then
// `npm pack` (whose prepack script builds dist/), then a global install of the tarball into an empty prefix. Before
// prepack, the tarball had no dist/ and the installed command was "not found". In the full set (`npm run test:all`):
// a clone, an `npm ci` and a build (~1 min on 2 cores).

const TIMEOUT_MS = 300_000;
let work: string;
let prefix: string;
let bin: string;
let tarball: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "didit-fresh-pack-"));
  const clone = path.join(work, "clone");
  const cloned = spawnSync("git", ["clone", "-q", ROOT, clone], { encoding: "utf8" });
  expect(cloned.status, cloned.stderr).toBe(0);
  npm(["ci", "--no-audit", "--no-fund", "--prefer-offline"], clone, TIMEOUT_MS);
  expect(existsSync(path.join(clone, "dist")), "npm ci alone builds nothing").toBe(false);
  npm(["pack", "--pack-destination", work], clone, TIMEOUT_MS);
  const [file] = readdirSync(work).filter((f) => f.endsWith(".tgz"));
  expect(file).toBe(`${pkg.name}-${pkg.version}.tgz`);
  tarball = path.join(work, file ?? "");
  prefix = path.join(work, "prefix");
  npm(
    ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline", tarball],
    work,
    TIMEOUT_MS,
  );
  bin = WINDOWS ? path.join(prefix, `${pkg.name}.cmd`) : path.join(prefix, "bin", pkg.name);
}, TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(args: string[]) {
  return spawnSync(bin, args, {
    cwd: work,
    env: binEnv(),
    encoding: "utf8",
    shell: WINDOWS,
    timeout: 30_000,
  });
}

describe("npm pack on a fresh clone, installed globally", { timeout: TIMEOUT_MS }, () => {
  it("the tarball's command prints the version", () => {
    const result = run(["--version"]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe(pkg.version);
    expect(result.status).toBe(0);
  });

  it("started as a host starts it, it answers tools/list with the five tools", async () => {
    await expectTheFiveTools(await startAsHost([bin], binEnv(), work));
  });

  it("without the engine, precheck's hint is the global install into this prefix (npm i beside it would not help)", () => {
    const installed = path.join(prefix, WINDOWS ? "" : "lib", "node_modules", pkg.name);
    const result = run(["precheck", path.join(installed, "samples", "selfie.jpg")]);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(`npm i -g --prefix ${prefix} ${ENGINE_SPECS.join(" ")}`);
  });
});
