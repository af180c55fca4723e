import { existsSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "./package-root.js";

/**
 * How this copy of the server was installed, read off where its package root sits, so advice (the pre-check
 * install command, where the key goes) fits the copy the person runs:
 * - `mcpb`: unpacked by Claude Desktop from the bundle (build-mcpb.mjs puts the manifest beside package.json);
 * - `npx`: npx's cache (`.../_npx/<hash>/node_modules/<name>`), where `npm i` would not reach;
 * - `global`: `npm i -g` (`<prefix>/lib/node_modules/<name>`, or `<prefix>\node_modules\<name>` beside its .cmd);
 * - `local`: a project's `node_modules/<name>`;
 * - `clone`: a git checkout (the package root holds `.git`);
 * - `unknown`: anything else, e.g. a copied folder.
 */
export type InstallKind =
  | { kind: "mcpb"; root: string }
  | { kind: "npx"; root: string }
  | { kind: "global"; root: string; prefix: string }
  | { kind: "local"; root: string; project: string }
  | { kind: "clone"; root: string }
  | { kind: "unknown"; root: string };

export function installKind(root: string = packageRoot()): InstallKind {
  if (existsSync(path.join(root, "manifest.json")) && !existsSync(path.join(root, ".git"))) {
    return { kind: "mcpb", root };
  }
  if (/[\\/]_npx[\\/]/.test(root)) return { kind: "npx", root };
  const modules = path.dirname(root);
  if (path.basename(modules) === "node_modules") {
    const above = path.dirname(modules);
    if (path.basename(above) === "lib" && process.platform !== "win32") {
      return { kind: "global", root, prefix: path.dirname(above) };
    }
    if (process.platform === "win32" && existsSync(path.join(above, `${path.basename(root)}.cmd`))) {
      return { kind: "global", root, prefix: above };
    }
    return { kind: "local", root, project: above };
  }
  if (existsSync(path.join(root, ".git"))) return { kind: "clone", root };
  return { kind: "unknown", root };
}

/** Where the Didit API key goes for this copy: the extension's settings in Claude Desktop, else the environment. */
export function apiKeyHint(install: InstallKind = installKind()): string {
  return install.kind === "mcpb"
    ? "In Claude Desktop open Settings > Extensions > Didit Passive Liveness > Configure, enter your Didit API key (Didit Business Console, API & Webhooks) or turn on Sandbox mode for mocked, offline results, and save; Claude Desktop restarts the extension."
    : "Set DIDIT_API_KEY in the server's environment (get a key from the Didit Business Console, API & Webhooks) and restart the server; or start it with --sandbox (DIDIT_SANDBOX=1) for mocked, offline results.";
}
