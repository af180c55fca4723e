#!/usr/bin/env node
// Records the README's session from a real run: the built server in sandbox mode (no key, nothing uploaded) started
// over stdio with the SDK's client, making the same call as the MCP Inspector CLI line shown above the output. The
// output keeps some fields of structuredContent, as they come. Part of `npm run docs`; the doc test compares.
//
//   node scripts/record-session.mjs           print the block
//   node scripts/record-session.mjs --write   replace it in README.md between the markers
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

export const SESSION_START = "<!-- recorded-session:start -->";
export const SESSION_END = "<!-- recorded-session:end -->";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const README = path.join(ROOT, "README.md");
/** The fields shown, in this order: the verdict, what to do, what to relay, then the measurements. */
const FIELDS = [
  "status",
  "is_live",
  "next_action",
  "summary",
  "score",
  "face_quality",
  "face_luminance",
  "warnings",
  "faces_detected",
  "sandbox",
];
const COMMAND = [
  "$ npm run build",
  "$ npx -y @modelcontextprotocol/inspector --cli node dist/index.js --sandbox --allow-dir samples \\",
  "    --method tools/call --tool-name check_passive_liveness --tool-arg image_path=selfie.jpg",
];

/** The console block (fences included), from a real call to the built server. */
export async function renderSession() {
  const client = new Client({ name: "record-session", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [path.join(ROOT, "dist", "index.js"), "--sandbox", "--allow-dir", "samples"],
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? ROOT },
      stderr: "ignore",
    }),
  );
  try {
    const result = await client.callTool({
      name: "check_passive_liveness",
      arguments: { image_path: "selfie.jpg" },
    });
    if (result.isError) throw new Error(`the recorded call failed: ${JSON.stringify(result.content)}`);
    const shown = Object.fromEntries(FIELDS.map((field) => [field, result.structuredContent?.[field]]));
    const output = JSON.stringify({ structuredContent: shown }, null, 2);
    return ["```console", ...COMMAND, output, "```"].join("\n");
  } finally {
    await client.close();
  }
}

/** The text between the markers (exclusive, trimmed), or undefined. */
export function extractSession(markdown) {
  const start = markdown.indexOf(SESSION_START);
  const end = markdown.indexOf(SESSION_END);
  if (start === -1 || end < start) return undefined;
  return markdown.slice(start + SESSION_START.length, end).trim();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const block = await renderSession();
  if (process.argv.includes("--write")) {
    const readme = await readFile(README, "utf8");
    const start = readme.indexOf(SESSION_START);
    const end = readme.indexOf(SESSION_END);
    if (start === -1 || end < start) throw new Error(`README.md lacks ${SESSION_START} ... ${SESSION_END}`);
    await writeFile(
      README,
      `${readme.slice(0, start + SESSION_START.length)}\n${block}\n${readme.slice(end)}`,
    );
  } else process.stdout.write(`${block}\n`);
}
