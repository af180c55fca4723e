#!/usr/bin/env node
// Renders server.json's environmentVariables and the README's Configuration rows for them from the env schema's descriptions (src/config/env-docs.ts, attached to
// the schema in src/config/config.ts), as the tools reference is rendered from the live tool definitions. Reads
// dist/ (run `npm run build` first). `--write` updates server.json and README.md; without it, prints the list.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const SERVER_JSON = path.join(ROOT, "server.json");
const README = path.join(ROOT, "README.md");
export const ENV_TABLE_START = "<!-- env-table:start -->";
export const ENV_TABLE_END = "<!-- env-table:end -->";

async function settings() {
  const { envSettings } = await import(path.join(ROOT, "dist", "config", "config.js"));
  return envSettings();
}

/**
 * The README with its Configuration table's variable rows rendered (between the markers): the flag rows stay as
 * written, then one row per variable the README documents, in the schema's order.
 */
export async function renderReadme(readme) {
  const start = readme.indexOf(ENV_TABLE_START);
  const end = readme.indexOf(ENV_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks ${ENV_TABLE_START} ... ${ENV_TABLE_END}`);
  const rows = readme.slice(start + ENV_TABLE_START.length, end).split("\n");
  const kept = rows.filter((row) => row.startsWith("|") && !row.startsWith("| `DIDIT_"));
  const env = (await settings())
    .filter((s) => s.readme !== undefined)
    .map((s) => `| \`${s.name}\` | ${s.readme.default} | ${s.readme.meaning} |`);
  return `${readme.slice(0, start + ENV_TABLE_START.length)}\n\n${[...kept, ...env].join("\n")}\n\n${readme.slice(end)}`;
}

/** server.json's environmentVariables: every variable the server reads, optional, secrets marked. */
export async function renderServerEnv() {
  return (await settings()).map((s) => ({
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
    writeFileSync(README, await renderReadme(readFileSync(README, "utf8")));
  } else {
    process.stdout.write(`${JSON.stringify(env, null, 2)}\n`);
  }
}
