#!/usr/bin/env node
// Renders the tools/resources/prompts reference from the LIVE definitions: it builds the server from dist/ (run
// `npm run build` first), lists everything over an in-memory MCP connection, and prints markdown. The full
// reference goes to docs/tools.md, a compact list (one line per tool, resource and prompt) to README.md, each
// between the same markers.
//
//   node scripts/render-tools-reference.mjs           print the full reference
//   node scripts/render-tools-reference.mjs --write   replace the blocks between the markers in both files
//   node scripts/render-tools-reference.mjs --check   exit 1 when either block is out of date
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";

export const START_MARKER = "<!-- tools-reference:start -->";
export const END_MARKER = "<!-- tools-reference:end -->";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const README_PATH = path.join(ROOT, "README.md");
export const TOOLS_DOC_PATH = path.join(ROOT, "docs", "tools.md");
const SERVER_MODULE = path.join(ROOT, "dist", "server", "server.js");

/** The configuration the reference is rendered with: no key, no directories, defaults everywhere. */
const DOCS_CONFIG = Object.freeze({
  apiKey: undefined,
  baseUrl: "https://verification.didit.me",
  timeoutMs: 30000,
  allowedDirs: Object.freeze([]),
  maxChecksPerMinute: 30,
  confirmUploads: false,
  sandbox: false,
  allowHardlinks: false,
  allowedUrlHosts: [],
  urlAllowOnly: false,
  viewThumbnails: true,
});

/** The full reference (docs/tools.md): every tool's annotations, input and output fields, resources, prompts. */
export async function renderReference() {
  return render(await listDefinitions());
}

/** The compact list (README.md): one line per tool, resource kind and prompt, linking to the full reference. */
export async function renderSummary() {
  return summarize(await listDefinitions());
}

/** The tools a model is offered: all but those only an MCP App view may call (`_meta.ui.visibility: ["app"]`). */
export function modelVisibleTools(tools) {
  return tools.filter((tool) => {
    const visibility = tool._meta?.ui?.visibility;
    return !(Array.isArray(visibility) && visibility.length === 1 && visibility[0] === "app");
  });
}

/** Lists the live server's tools, resources, resource templates and prompts. */
export async function listDefinitions() {
  if (!existsSync(SERVER_MODULE)) {
    throw new Error(`${path.relative(ROOT, SERVER_MODULE)} is missing: run \`npm run build\` first.`);
  }
  const { createServer } = await import(pathToFileURL(SERVER_MODULE).href);
  const server = createServer({
    config: DOCS_CONFIG,
    client: undefined,
    logger: { log() {} },
    redact: (text) => text,
    version: "docs",
  });
  const client = new Client({ name: "render-tools-reference", version: "1.0.0" });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  try {
    const { tools } = await client.listTools();
    const { resources } = await client.listResources();
    const { resourceTemplates } = await client.listResourceTemplates();
    const { prompts } = await client.listPrompts();
    return { tools, resources, resourceTemplates, prompts };
  } finally {
    await client.close();
    await server.close();
  }
}

function summarize({ tools, resources, resourceTemplates, prompts }) {
  const out = [
    "_Generated from the live definitions by `npm run docs`; do not edit by hand. Every field of every tool, " +
      "resource and prompt: [docs/tools.md](docs/tools.md)._",
    "",
    "| tool | title | read-only | open-world | input fields (required in bold) |",
    "|---|---|---|---|---|",
  ];
  const hint = (value) => (value === undefined ? "unset" : value ? "yes" : "no");
  for (const tool of tools) {
    const a = tool.annotations ?? {};
    const required = new Set(tool.inputSchema?.required ?? []);
    const fields = Object.keys(tool.inputSchema?.properties ?? {}).map((name) =>
      required.has(name) ? `**${code(name)}**` : code(name),
    );
    out.push(
      `| ${code(tool.name)} | ${tool.title ?? a.title ?? ""} | ${hint(a.readOnlyHint)} | ${hint(a.openWorldHint)} | ` +
        `${fields.length > 0 ? fields.join(", ") : "none"} |`,
    );
  }
  const [catalog, ...perTag] = resources;
  out.push(
    "",
    `Resources: ${catalog ? code(catalog.uri) : "none"}` +
      (perTag.length > 0 ? ` and ${perTag.length} more, one per warning tag` : "") +
      `; resource templates: ${resourceTemplates.map((t) => code(t.uriTemplate)).join(", ") || "none"}; ` +
      `prompts: ${prompts.map((p) => code(p.name)).join(", ") || "none"}.`,
    "",
  );
  return `${out.join("\n").trimEnd()}\n`;
}

function render({ tools, resources, resourceTemplates, prompts }) {
  const out = [
    "_Generated from the live tool, resource and prompt definitions by `npm run docs`; do not edit by hand._",
    "",
    "### Tools",
    "",
  ];
  for (const tool of tools) out.push(...renderTool(tool));
  out.push("### Resources", "");
  out.push(
    ...table(
      ["URI", "name", "title", "MIME type", "description"],
      resources.map((r) => [code(r.uri), code(r.name), r.title ?? "", r.mimeType ?? "", r.description ?? ""]),
    ),
    "",
  );
  out.push("### Resource templates", "");
  out.push(
    ...table(
      ["URI template", "name", "title", "MIME type", "description"],
      resourceTemplates.map((t) => [
        code(t.uriTemplate),
        code(t.name),
        t.title ?? "",
        t.mimeType ?? "",
        t.description ?? "",
      ]),
    ),
    "",
  );
  out.push("### Prompts", "");
  for (const prompt of prompts) {
    out.push(`#### \`${prompt.name}\``, "");
    if (prompt.title) out.push(`**${prompt.title}**`, "");
    if (prompt.description) out.push(oneLine(prompt.description), "");
    const args = prompt.arguments ?? [];
    if (args.length === 0) {
      out.push("Arguments: none.", "");
    } else {
      out.push(
        ...table(
          ["argument", "required", "description"],
          args.map((a) => [code(a.name), a.required ? "yes" : "no", a.description ?? ""]),
        ),
        "",
      );
    }
  }
  return `${out.join("\n").trimEnd()}\n`;
}

function renderTool(tool) {
  const out = [`#### \`${tool.name}\``, ""];
  const title = tool.title ?? tool.annotations?.title;
  if (title) out.push(`**${title}**`, "");
  if (tool.description) out.push(oneLine(tool.description), "");
  const a = tool.annotations ?? {};
  const hint = (value) => (value === undefined ? "unset" : value ? "yes" : "no");
  out.push(
    `Annotations: read-only ${hint(a.readOnlyHint)} · destructive ${hint(a.destructiveHint)} · ` +
      `idempotent ${hint(a.idempotentHint)} · open-world ${hint(a.openWorldHint)}`,
    "",
  );

  const input = tool.inputSchema ?? {};
  const required = new Set(input.required ?? []);
  const inputRows = Object.entries(input.properties ?? {}).map(([name, schema]) => [
    code(name),
    withLimits(typeOf(schema), schema),
    required.has(name) ? "yes" : "no",
    schema.description ?? "",
  ]);
  out.push("Input:", "");
  out.push(
    ...(inputRows.length > 0
      ? table(["field", "type", "required", "description"], inputRows)
      : ["No arguments."]),
    "",
  );
  if (input.additionalProperties === false && inputRows.length > 0) {
    out.push("Unknown fields are rejected.", "");
  }

  if (tool.outputSchema) {
    out.push("Output (`structuredContent`, also sent as JSON text):", "");
    out.push(...table(["field", "type", "description"], outputRows(tool.outputSchema, "")), "");
  }
  return out;
}

/** One row per output field; fields of objects inside arrays follow their parent as `parent[].field`. */
function outputRows(schema, prefix) {
  const rows = [];
  const required = new Set(schema.required ?? []);
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const key = `${prefix}${name}`;
    const type = typeOf(field) + (required.has(name) ? "" : ", optional");
    rows.push([code(key), type, field.description ?? ""]);
    const items = itemSchema(field);
    if (items?.properties) rows.push(...outputRows(items, `${key}[].`));
    else if (field.properties) rows.push(...outputRows(field, `${key}.`));
  }
  return rows;
}

function itemSchema(schema) {
  if (schema.items && !Array.isArray(schema.items)) return schema.items;
  for (const option of schema.anyOf ?? []) {
    if (option.items && !Array.isArray(option.items)) return option.items;
  }
  return undefined;
}

/** A JSON Schema fragment as a short type: `string`, `number \| null`, `object[]`, an enum's values, `any`. */
function typeOf(schema) {
  if (!schema || typeof schema !== "object") return "any";
  if (Array.isArray(schema.enum))
    return schema.enum.map((v) => code(JSON.stringify(v).replace(/^"|"$/g, ""))).join(" \\| ");
  if ("const" in schema) return code(JSON.stringify(schema.const));
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options)) return options.map(typeOf).join(" \\| ");
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return "any";
  return types
    .map((t) => {
      if (t === "array") return `${schema.items ? typeOf(schema.items) : "any"}[]`;
      return t;
    })
    .join(" \\| ");
}

/** Appends the limits and default a field declares, e.g. `number, 0 to 100` or `boolean, default false`. */
function withLimits(type, schema) {
  const parts = [type];
  const { minLength, maxLength, minimum, maximum } = schema;
  if (minLength !== undefined || maxLength !== undefined) {
    if (minLength !== undefined && maxLength !== undefined) parts.push(`${minLength} to ${maxLength} chars`);
    else if (maxLength !== undefined) parts.push(`at most ${maxLength} chars`);
    else parts.push(`at least ${minLength} chars`);
  }
  if (minimum !== undefined || maximum !== undefined) {
    if (minimum !== undefined && maximum !== undefined) parts.push(`${minimum} to ${maximum}`);
    else if (maximum !== undefined) parts.push(`at most ${maximum}`);
    else parts.push(`at least ${minimum}`);
  }
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(", ");
}

function code(text) {
  return `\`${text}\``;
}

function oneLine(text) {
  return String(text).replace(/\s+/g, " ").trim();
}

/** A markdown table; pipes inside cells are escaped (already-escaped ones are kept). */
function table(headers, rows) {
  const cell = (text) => oneLine(text).replace(/(?<!\\)\|/g, "\\|");
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
}

/** The text between the markers (exclusive), or undefined when the markers are missing or out of order. */
export function extractBlock(markdown) {
  const start = markdown.indexOf(START_MARKER);
  const end = markdown.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) return undefined;
  return markdown.slice(start + START_MARKER.length, end).replace(/^\r?\n/, "");
}

export function replaceBlock(markdown, reference) {
  const start = markdown.indexOf(START_MARKER);
  const end = markdown.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`The file needs the markers ${START_MARKER} and ${END_MARKER}, in that order.`);
  }
  return `${markdown.slice(0, start + START_MARKER.length)}\n${reference}${markdown.slice(end)}`;
}

async function main(argv) {
  const targets = [
    { file: README_PATH, text: await renderSummary() },
    { file: TOOLS_DOC_PATH, text: await renderReference() },
  ];
  if (argv.includes("--write")) {
    for (const { file, text } of targets) {
      const markdown = await readFile(file, "utf8");
      const next = replaceBlock(markdown, text);
      if (next !== markdown) await writeFile(file, next);
      const name = path.relative(ROOT, file);
      process.stdout.write(next === markdown ? `${name} is up to date.\n` : `${name} updated.\n`);
    }
    return 0;
  }
  if (argv.includes("--check")) {
    let stale = 0;
    for (const { file, text } of targets) {
      const name = path.relative(ROOT, file);
      if (extractBlock(await readFile(file, "utf8")) !== text) {
        process.stderr.write(`${name}'s tools reference is out of date: run \`npm run docs\`.\n`);
        stale++;
      } else {
        process.stdout.write(`${name}'s tools reference is up to date.\n`);
      }
    }
    return stale > 0 ? 1 : 0;
  }
  process.stdout.write(targets[1].text);
  return 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(
        `render-tools-reference: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
