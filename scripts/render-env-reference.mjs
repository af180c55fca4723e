#!/usr/bin/env node
// Renders server.json's environmentVariables from the env schema's descriptions (src/config/env-docs.ts, attached to
// the schema in src/config/config.ts), as the tools reference is rendered from the live tool definitions. Reads
// dist/ (run `npm run build` first). `--write` updates server.json; without it, prints the list.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const SERVER_JSON = path.join(ROOT, "server.json");

/** server.json's environmentVariables: every variable the server reads, optional, secrets marked. */
export async function renderServerEnv() {
  const { envSettings } = await import(path.join(ROOT, "dist", "config", "config.js"));
  return envSettings().map((s) => ({
    name: s.name,
    description: s.description,
    format: s.format,
    isRequired: false,
    ...(s.default !== undefined ? { default: s.default } : {}),
    ...(s.secret === true ? { isSecret: true } : {}),
  }));
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const env = await renderServerEnv();
  if (process.argv.includes("--write")) {
    const server = JSON.parse(readFileSync(SERVER_JSON, "utf8"));
    // The npm package reads them all; the container entry lists its own few (set for a deployment).
    for (const pkg of server.packages) if (pkg.registryType === "npm") pkg.environmentVariables = env;
    writeFileSync(SERVER_JSON, `${JSON.stringify(server, null, 2)}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(env, null, 2)}\n`);
  }
}
