import { readFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "./package-root.js";

/** The package version, read from our package.json (wherever the running code sits below it). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
