import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const DIST = path.resolve(import.meta.dirname, "../../dist");
const ENTRY = path.join(DIST, "index.js");
// The bundle's own static imports of its chunks (esbuild writes `import{a as b}from"./chunks/x.js"`, or a bare one).
const STATIC_IMPORT = /(?:^|[;}\s])import\s*(?:[^"();]*?from\s*)?"(\.[^"]+)"/g;

/** dist/index.js and every chunk it loads before running: what a server start reads and compiles. */
function eagerFiles(): string[] {
  const seen = new Set<string>();
  const queue = [ENTRY];
  while (queue.length > 0) {
    const file = queue.pop() ?? "";
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(STATIC_IMPORT))
      queue.push(path.join(path.dirname(file), spec ?? ""));
  }
  return [...seen];
}

describe("server bundle", () => {
  it("the server's start path loads no CLI-only code: calibrate, doctor and batch stay in lazy chunks", () => {
    expect(existsSync(ENTRY), "dist/ is built (npm test builds first)").toBe(true);
    const eager = eagerFiles();
    // "BPCER" is calibrate's report vocabulary: in the CLI, never in what the MCP server loads to start.
    for (const file of eager)
      expect(readFileSync(file, "utf8"), path.relative(DIST, file)).not.toContain("BPCER");
    const chunks = readdirSync(path.join(DIST, "chunks")).filter((f) => f.endsWith(".js"));
    const lazy = chunks.map((f) => path.join(DIST, "chunks", f)).filter((f) => !eager.includes(f));
    expect(
      lazy.some((file) => readFileSync(file, "utf8").includes("BPCER")),
      "the CLI is in a lazy chunk",
    ).toBe(true);
  });
});
