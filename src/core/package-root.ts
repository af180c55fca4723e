import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "didit-passive-liveness-mcp";
let cached: string | undefined;

/**
 * The folder holding our package.json (and models/). Found by walking up from this module rather than by a fixed
 * "../..", because the same code runs from src/, from tsc's dist/ tree and from the esbuild bundle's chunks.
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && readName(manifest) === PACKAGE_NAME) {
      cached = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}: package.json not found above ${start}`);
  }
}

function readName(manifest: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
  } catch {
    return undefined;
  }
}
