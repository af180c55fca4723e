import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  binEnv,
  ENGINE_SPECS,
  emptyProject,
  npm,
  npx,
  type Packed,
  packProject,
  pkg,
  ROOT,
  readyLine,
  WINDOWS,
} from "../support/packed.js";

// The two documented ways to get the pre-check engine, from the packed tarball in empty places: `npm i` next to
// the server, and the `npx -p` form. Each must give a real spoof estimate from the models shipped in the package.
// npm 11 skips install scripts by default here: nothing in the engine needs one (sharp's binary is a prebuilt
// optional dependency, the rest is WASM), which this test proves by running it.

const STEP_TIMEOUT_MS = 600_000;
const FIXTURES = path.join(ROOT, "test", "fixtures");
const FACE = "live_silentface_T1.jpg";

let packed: Packed;
const cleanup: string[] = [];

/** Wall time of a synchronous step, printed so the README's install table can be re-measured. */
function timed<T>(what: string, step: () => T): T {
  const started = performance.now();
  const result = step();
  console.warn(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

function duMegabytes(dir: string): string {
  const du = spawnSync("du", ["-sm", dir], { encoding: "utf8" });
  return du.status === 0 ? `${du.stdout.split("\t")[0]} MB` : "n/a";
}

beforeAll(() => {
  expect(
    existsSync(path.join(ROOT, "dist", "index.js")),
    "dist/ is built (npm run test:install builds)",
  ).toBe(true);
  packed = packProject(STEP_TIMEOUT_MS);
  cleanup.push(path.dirname(packed.tarball));
  console.warn(`tarball: ${(packed.size / 1e6).toFixed(2)} MB`);
});

afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

describe("the pre-check engine installed with the packed server", () => {
  it("npm i <tarball> <engine packages>: precheck_face_image over MCP gives a spoof estimate", async () => {
    const dir = emptyProject("didit-engine-");
    cleanup.push(dir);
    timed("npm i tarball + engine", () =>
      npm(
        ["install", "--no-audit", "--no-fund", "--prefer-offline", packed.tarball, ...ENGINE_SPECS],
        dir,
        STEP_TIMEOUT_MS,
      ),
    );
    console.warn(`node_modules with the engine: ${duMegabytes(path.join(dir, "node_modules"))}`);
    const bin = path.join(dir, "node_modules", ".bin", WINDOWS ? `${pkg.name}.cmd` : pkg.name);
    expect(await readyLine(bin, [], binEnv(), dir)).toMatch(/, pre-check engine and models available\)$/);

    const transport = new StdioClientTransport({
      command: bin,
      args: ["--allow-dir", FIXTURES],
      env: binEnv() as Record<string, string>,
      cwd: dir,
      stderr: "pipe",
    });
    const client = new Client({ name: "engine-install-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      await client.listTools();
      const result = (await client.callTool(
        { name: "precheck_face_image", arguments: { image_path: FACE } },
        undefined,
        {
          timeout: 120_000,
        },
      )) as CallToolResult;
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const analysis = result.structuredContent as { spoof_estimate: number | null; spoof_model: string };
      expect(analysis.spoof_estimate).toEqual(expect.any(Number));
      expect(analysis.spoof_model).not.toMatch(/^unavailable/);
    } finally {
      await client.close();
    }
  });

  it("the npx -p form from the README: `precheck --json` gives a spoof estimate", () => {
    const dir = emptyProject("didit-npx-");
    cleanup.push(dir);
    const args = ["-y", "--prefer-offline", "-p", packed.tarball, ...ENGINE_SPECS.flatMap((s) => ["-p", s])];
    const stdout = timed("npx -p tarball -p engine ... precheck (first run, installs)", () =>
      npx([...args, pkg.name, "precheck", path.join(FIXTURES, FACE), "--json"], dir, STEP_TIMEOUT_MS),
    );
    const analysis = JSON.parse(stdout) as { ready: boolean; spoof_estimate: number | null };
    expect(analysis.spoof_estimate).toEqual(expect.any(Number));
    expect(analysis.ready).toBe(true);
    timed("the same npx command again (cached)", () =>
      npx([...args, pkg.name, "precheck", path.join(FIXTURES, FACE), "--json"], dir, STEP_TIMEOUT_MS),
    );
  });
});
