import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { extractSession, renderSession } from "../../scripts/record-session.mjs";
import {
  END_MARKER,
  extractBlock,
  listDefinitions,
  modelVisibleTools,
  renderReference,
  renderSummary,
  START_MARKER,
} from "../../scripts/render-tools-reference.mjs";
import { envSchema } from "../../src/config/config.js";
import { ERROR_CODES } from "../../src/core/errors.js";
import { SANDBOX_OUTCOMES } from "../../src/didit/sandbox-client.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SERVER_ENTRY = path.join(ROOT, "dist", "index.js");
const PACKAGE_NAME = "didit-passive-liveness-mcp";
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

const readme = read("README.md");
/** The docs/ pages the README links to for everything moved out of it, by file name. */
const docs = new Map(
  readdirSync(path.join(ROOT, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => [file, read(`docs/${file}`)] as const),
);
const doc = (file: string) => {
  const text = docs.get(file);
  expect(text, `docs/${file}`).toBeDefined();
  return text ?? "";
};
/** The MCP Inspector CLI, which the README's recorded session runs the server under. */
const INSPECTOR = "@modelcontextprotocol/inspector";
/** The Inspector's own options: they follow the server's command line and end it. */
const INSPECTOR_OPTIONS = ["--method", "--tool-name", "--tool-arg", "--target"];
const pkg = JSON.parse(read("package.json")) as { name: string; version: string; mcpName: string };

interface CodeBlock {
  lang: string;
  body: string;
}

/** Fenced code blocks, including ones indented inside list items. */
function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i] ?? "");
    if (!open) continue;
    const indent = open[1] ?? "";
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] ?? ""); i++) {
      body.push(
        (lines[i] ?? "").startsWith(indent) ? (lines[i] ?? "").slice(indent.length) : (lines[i] ?? ""),
      );
    }
    blocks.push({ lang: open[2] ?? "", body: body.join("\n") });
  }
  return blocks;
}

/** The markdown outside fenced code, so `#` lines in shell snippets are not taken for headings. */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** The lines of one `## ` section, without its heading. */
function section(markdown: string, heading: string): string[] {
  const lines = proseLines(markdown);
  const start = lines.indexOf(`## ${heading}`);
  expect(start, `section "## ${heading}"`).toBeGreaterThanOrEqual(0);
  const next = lines.findIndex((line, i) => i > start && line.startsWith("## "));
  return lines.slice(start + 1, next === -1 ? undefined : next);
}

/** Splits a shell line into words, honouring single and double quotes; stops at a comment. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: "'" | '"' | undefined;
  let inWord = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (ch === "#" && !inWord) {
      break;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Flags the installed command documents: everything `--help` prints that looks like an option. */
function helpFlags(): string[] {
  const help = execFileSync(process.execPath, [SERVER_ENTRY, "--help"], { encoding: "utf8" });
  return [...new Set(help.match(/(?<![\w-])--?[a-z][a-z-]*/g) ?? [])].sort();
}

interface Invocation {
  where: string;
  /** Words after the command itself. */
  args: string[];
}

/** `command`/`args` entries found anywhere in a parsed JSON value (host configs, `openclaw mcp set` values). */
function serverEntries(value: unknown, where: string, out: { where: string; argv: string[] }[]): void {
  if (Array.isArray(value)) {
    for (const item of value) serverEntries(item, where, out);
  } else if (value !== null && typeof value === "object") {
    const entry = value as Record<string, unknown>;
    if (typeof entry.command === "string") {
      const args = Array.isArray(entry.args) ? entry.args.map(String) : [];
      out.push({ where, argv: [entry.command, ...args] });
    }
    for (const child of Object.values(entry)) serverEntries(child, where, out);
  }
}

/** The clone's entry as host snippets write it (README's install-forms table). */
const CLONE_ENTRY = "/abs/path/to/clone/dist/index.js";

/** A host entry runs the package: by name (npx, the installed bin) or as `node` on a clone's dist/index.js. */
function runsThePackage(argv: string[]): boolean {
  return argv.includes(PACKAGE_NAME) || (argv[0] === "node" && argv[1] === CLONE_ENTRY);
}

/** Every place the README or a docs/ page runs the server or CLI: shell lines (npx, claude mcp add, the bin, node dist/index.js) and JSON configs. */
function invocations(): {
  runs: Invocation[];
  npxPackages: string[];
  jsonEntries: number;
  claudeAdds: number;
} {
  const runs: Invocation[] = [];
  const npxPackages: string[] = [];
  let jsonEntries = 0;
  let claudeAdds = 0;
  const fromArgv = (argv: string[], where: string) => {
    const underInspector = argv.includes(INSPECTOR);
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i] ?? "";
      if (word === "npx") {
        const pkgName = argv.slice(i + 1).find((w) => !w.startsWith("-"));
        npxPackages.push(pkgName ?? "(none)");
      }
      // `npx -p didit-passive-liveness-mcp -p <engine package> ... didit-passive-liveness-mcp`: the first is a package.
      if (word === PACKAGE_NAME && (argv[i - 1] === "-p" || argv[i - 1] === "--package")) continue;
      // The clone form runs `node <clone>/dist/index.js` (`/abs/path/to/clone/dist/index.js` in host snippets).
      if (word === PACKAGE_NAME || (/(^|\/)dist\/index\.js$/.test(word) && argv[i - 1] === "node")) {
        const rest = argv.slice(i + 1);
        const stop = rest.findIndex(
          (w) =>
            ["|", "||", "&&", ";", ">", "<", "2>"].includes(w) ||
            (underInspector && INSPECTOR_OPTIONS.includes(w)),
        );
        runs.push({ where, args: stop === -1 ? rest : rest.slice(0, stop) });
        return;
      }
    }
  };
  const pages: [string, string][] = [
    ["README.md", readme],
    ...[...docs].map(([f, t]) => [`docs/${f}`, t] as [string, string]),
  ];
  for (const [page, markdown] of pages)
    for (const [index, block] of codeBlocks(markdown).entries()) {
      const where = `${page} code block #${index + 1} (${block.lang || "plain"})`;
      if (block.lang === "json") {
        const entries: { where: string; argv: string[] }[] = [];
        serverEntries(JSON.parse(block.body), where, entries);
        for (const entry of entries) {
          jsonEntries++;
          expect(runsThePackage(entry.argv), `${where}: every server entry runs ${PACKAGE_NAME}`).toBe(true);
          fromArgv(entry.argv, where);
        }
        continue;
      }
      const logical = block.body.replace(/\\\n\s*/g, " ").split("\n");
      for (const line of logical) {
        const words = shellWords(line);
        if (line.includes("claude mcp add")) {
          claudeAdds++;
          expect(
            line.includes(`npx -y ${PACKAGE_NAME}`) || line.includes(`-- node ${CLONE_ENTRY}`),
            `${where}: claude mcp add runs the package (through npx, or node on a clone's dist/index.js)`,
          ).toBe(true);
        }
        for (const word of words) {
          if (!word.startsWith("{")) continue;
          const entries: { where: string; argv: string[] }[] = [];
          let parsed: unknown;
          try {
            parsed = JSON.parse(word);
          } catch {
            continue;
          }
          serverEntries(parsed, where, entries);
          for (const entry of entries) {
            jsonEntries++;
            expect(runsThePackage(entry.argv), `${where}: every server entry runs ${PACKAGE_NAME}`).toBe(
              true,
            );
            fromArgv(entry.argv, where);
          }
        }
        fromArgv(words, where);
      }
    }
  return { runs, npxPackages, jsonEntries, claudeAdds };
}

describe("README", () => {
  it("stays under 25 KB: the details live in docs/", () => {
    expect(Buffer.byteLength(readme, "utf8")).toBeLessThan(25_000);
  });

  it("holds the tool list generated from the live definitions, and docs/tools.md the full reference (run `npm run docs` after changing one)", async () => {
    for (const [name, markdown] of [
      ["README.md", readme],
      ["docs/tools.md", doc("tools.md")],
    ] as const) {
      expect(markdown.indexOf(START_MARKER), name).toBeGreaterThan(-1);
      expect(markdown.indexOf(END_MARKER), name).toBeGreaterThan(markdown.indexOf(START_MARKER));
    }
    expect(extractBlock(readme)).toBe(await renderSummary());
    expect(extractBlock(doc("tools.md"))).toBe(await renderReference());
    expect(readme).toContain("](docs/tools.md)");
  });

  it("has its sections in the required order", () => {
    const h2 = proseLines(readme).filter((line) => line.startsWith("## "));
    expect(h2).toEqual([
      "## What it is",
      "## Quick start",
      "## Install",
      "## Configuration",
      "## Tools and resources reference",
      "## CLI",
      "## Sandbox mode",
      "## On-device pre-check",
      "## Security and privacy",
      "## Troubleshooting",
      "## More documentation",
      "## Development",
    ]);
    const install = section(readme, "Install").filter((line) => line.startsWith("### "));
    expect(install).toEqual([
      "### Claude Desktop",
      "### Claude Code",
      "### Cursor",
      "### VS Code",
      "### OpenClaw",
      "### Other hosts and remote agents",
    ]);
  });

  it("shows a recorded session of the real server, made with the MCP Inspector CLI", () => {
    // In "What it is", before the quick start.
    const at = readme.indexOf(`npx -y ${INSPECTOR} --cli node dist/index.js --sandbox`);
    expect(at).toBeGreaterThan(readme.indexOf("## What it is"));
    expect(at).toBeLessThan(readme.indexOf("## Quick start"));
    // The recorded output is a real structured result: the sandbox banner and a next_action.
    const session = codeBlocks(readme).find((block) => block.body.includes(INSPECTOR));
    expect(session?.body).toContain('"next_action": "proceed"');
    expect(session?.body).toContain("[Sandbox: mocked result, not a real verdict]");
  });

  it("its recorded session is the output of a real call today (`npm run docs` records it again)", async () => {
    expect(extractSession(readme), "README.md's recorded-session markers").toBeDefined();
    expect(extractSession(readme)).toBe(await renderSession());
  });

  it("gives each host a form that works before the package is published, and marks the npx form", () => {
    for (const host of ["Claude Desktop", "Claude Code", "Cursor", "VS Code", "OpenClaw"]) {
      const lines = readme.split("\n");
      const start = lines.indexOf(`### ${host}`);
      const end = lines.findIndex((line, i) => i > start && line.startsWith("#"));
      const text = lines.slice(start, end).join("\n");
      const now =
        text.includes(CLONE_ENTRY) || text.includes("config ") || text.includes("same `mcpServers` entry");
      expect(now, `README ### ${host}: a form that works now`).toBe(true);
      if (text.includes(`npx -y ${PACKAGE_NAME}`) || text.includes(`"${PACKAGE_NAME}"`))
        expect(text, `README ### ${host}: the npx form is marked`).toMatch(/once published/i);
    }
    const install = doc("install.md");
    expect(install.split("\n")[0]).toBe("# Install");
    expect(readme).toContain("](docs/install.md)");
    expect(install).toContain("config claude-desktop --allow-dir");
    // Every npx host snippet on the page follows an "Once published" mark.
    for (const [index, block] of codeBlocks(install).entries()) {
      if (!block.body.includes(`"-y", "${PACKAGE_NAME}"`) && !block.body.includes(`npx -y ${PACKAGE_NAME}`))
        continue;
      const at = install.indexOf(block.body);
      expect(install.slice(Math.max(0, at - 400), at), `docs/install.md block #${index + 1}`).toMatch(
        /once published/i,
      );
    }
  });

  it("moved its long sections to docs/ pages that exist, keep their content and are linked", () => {
    // Every relative link from the README resolves.
    for (const [, target] of readme.matchAll(/\]\(((?:docs\/)?[^)#:\s]+)(?:#[^)]*)?\)/g)) {
      expect(existsSync(path.join(ROOT, target ?? "")), `README link ${target}`).toBe(true);
    }
    for (const [file, heading] of [
      ["remote.md", "# Remote (HTTP)"],
      ["performance.md", "# Performance"],
      ["selfie-vs-id.md", "# Selfie vs ID"],
      ["batch.md", "# Many images (batch mode)"],
      ["security.md", "# Security and privacy"],
      ["precheck.md", "# On-device pre-check"],
      ["cli.md", "# CLI"],
      ["sandbox.md", "# Sandbox mode"],
      ["configuration.md", "# Configuration"],
      ["troubleshooting.md", "# Troubleshooting"],
      ["openclaw.md", "# OpenClaw"],
      ["development.md", "# Development"],
      ["tools.md", "# Tools and resources reference"],
      ["install.md", "# Install"],
    ] as const) {
      expect(doc(file).split("\n")[0], `docs/${file}`).toBe(heading);
      expect(readme, `README links docs/${file}`).toContain(`](docs/${file})`);
      // Relative links inside docs/ resolve too (README anchors, sibling pages, source files).
      for (const [, target] of doc(file).matchAll(/\]\(([^)#:\s]+)(?:#[^)]*)?\)/g)) {
        expect(existsSync(path.join(ROOT, "docs", target ?? "")), `docs/${file} link ${target}`).toBe(true);
      }
    }
    // The bench table (`npm run bench -- --readme`) lives between its markers in docs/performance.md now.
    const performance = doc("performance.md");
    const start = performance.indexOf("<!-- bench:start -->");
    expect(start).toBeGreaterThan(-1);
    expect(performance.indexOf("<!-- bench:end -->")).toBeGreaterThan(start);
    expect(performance.slice(start)).toMatch(/^<!-- bench:start -->\n\| figure \|/);
    expect(readme).not.toContain("<!-- bench:start -->");
    expect(read("bench/run.ts")).toContain('path.join(ROOT, "docs", "performance.md")');
    // The full security rules, the batch options and the selfie-vs-ID flow are there, not lost.
    expect(doc("security.md")).toContain("**The opened file is what is judged, not its name**");
    expect(doc("batch.md")).toContain("`--resume`");
    expect(doc("selfie-vs-id.md")).toContain("`verify_selfie`");
    // What the short README sections summarise is there in full.
    for (const outcome of SANDBOX_OUTCOMES) expect(doc("sandbox.md")).toContain(`\`sandbox:${outcome}\``);
    for (const code of ERROR_CODES) expect(doc("tools.md")).toContain(`\`${code}\``);
    // Every page is small enough to read; the largest is the generated reference.
    for (const file of docs.keys()) {
      expect(statSync(path.join(ROOT, "docs", file)).size, `docs/${file}`).toBeLessThan(60_000);
    }
  });

  it("installs the real package with only flags the command's --help lists", () => {
    const flags = helpFlags();
    expect(flags).toContain("--allow-dir");
    expect(flags).toContain("--sandbox");
    const { runs, npxPackages, jsonEntries, claudeAdds } = invocations();
    // Claude Desktop (2), Cursor, VS Code, OpenClaw (set + JSON) and the pre-installed bin, at least.
    expect(jsonEntries).toBeGreaterThanOrEqual(7);
    expect(claudeAdds).toBeGreaterThanOrEqual(1);
    expect(npxPackages.length).toBeGreaterThanOrEqual(8);
    // Only the package itself, and the MCP Inspector that records the README's session around `node dist/index.js`.
    expect(new Set(npxPackages)).toEqual(new Set([PACKAGE_NAME, INSPECTOR]));
    for (const run of runs) {
      for (const word of run.args) {
        if (/^--?[a-zA-Z]/.test(word)) expect(flags, `${run.where}: ${word}`).toContain(word);
      }
    }
  });

  it("documents every environment variable src/config.ts reads, and no other", () => {
    const schema = envSchema.shape;
    expect(schema, "envSchema in src/config.ts").toBeDefined();
    const fromSchema = new Set(Object.keys(schema));
    expect(fromSchema.size).toBeGreaterThanOrEqual(7);

    // The README's Configuration table has every setting but the HTTP-only ones, which docs/remote.md's
    // "HTTP settings" table has; docs/configuration.md repeats the README table with the long descriptions.
    const settingsOf = (lines: string[]) =>
      lines.filter((line) => line.startsWith("| ")).map((row) => row.split("|")[1]?.trim() ?? "");
    const varsOf = (cells: string[]) =>
      new Set(cells.flatMap((cell) => [...cell.matchAll(/`(DIDIT_[A-Z_]+)`/g)].map((m) => m[1])));
    const flagsOf = (cells: string[]) =>
      cells.flatMap((cell) => [...cell.matchAll(/`(--?[a-z][a-z-]*)/g)].map((m) => m[1] ?? ""));
    const settings = settingsOf(section(readme, "Configuration"));
    const httpSettings = settingsOf(section(doc("remote.md"), "HTTP settings"));
    const fullSettings = settingsOf(doc("configuration.md").split("\n"));
    expect(fullSettings).toEqual(settings);
    const fromReadme = varsOf(settings);
    const fromRemote = varsOf(httpSettings);
    expect(new Set([...fromReadme, ...fromRemote])).toEqual(fromSchema);
    expect([...fromReadme].filter((name) => fromRemote.has(name))).toEqual([]);
    for (const row of section(doc("remote.md"), "HTTP settings").filter((line) => line.startsWith("| `"))) {
      expect(row, "docs/remote.md: an HTTP-only setting").toContain("With `--http`");
    }

    // The flags in the tables are the server's flags, all of which --help lists.
    const flags = helpFlags();
    const tableFlags = flagsOf(settings);
    expect(tableFlags).toEqual(expect.arrayContaining(["--allow-dir", "--sandbox", "--help", "--version"]));
    expect(flagsOf(httpSettings)).toEqual(expect.arrayContaining(["--host", "--port"]));
    for (const flag of [...tableFlags, ...flagsOf(httpSettings)]) expect(flags).toContain(flag);
  });

  it("lists every sandbox outcome and every error code", () => {
    const sandbox = section(readme, "Sandbox mode").join("\n");
    for (const outcome of SANDBOX_OUTCOMES) expect(sandbox).toContain(`\`sandbox:${outcome}\``);
    const reference = section(readme, "Tools and resources reference").join("\n");
    for (const code of ERROR_CODES) expect(reference).toContain(`\`${code}\``);
  });
});

describe("README, SKILL.md and docs/ agree with the live server", () => {
  const skill = read("SKILL.md");
  const pages: [string, string][] = [
    ["README.md", readme],
    ["SKILL.md", skill],
    ...[...docs].map(([file, text]) => [`docs/${file}`, text] as [string, string]),
  ];
  const NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

  it("name every tool and prompt the server lists, no other, and state the right tool count", async () => {
    const { tools, prompts } = await listDefinitions();
    const toolNames = tools.map((t) => t.name);
    expect(toolNames.length).toBeGreaterThanOrEqual(5);
    for (const [page, text] of [pages[0], pages[1]] as [string, string][]) {
      for (const name of toolNames) expect(text, `${page} names ${name}`).toContain(`\`${name}\``);
      for (const { name } of prompts) expect(text, `${page} names prompt ${name}`).toContain(`\`${name}\``);
    }
    // A backticked name shaped like one of ours (verb_object with a tool's verb) must be a live tool (sandbox
    // outcomes such as `match_review` aside).
    const verbs = [...new Set(toolNames.map((name) => name.split("_")[0]))];
    const shaped = new RegExp(`\`((?:${verbs.join("|")})_[a-z_]+)\``, "g");
    for (const [page, text] of pages) {
      for (const [, name] of text.matchAll(shaped)) {
        if ((SANDBOX_OUTCOMES as readonly string[]).includes(name ?? "")) continue; // `match_review` etc.
        expect(toolNames, `${page}: \`${name}\` is not a tool the server lists`).toContain(name);
      }
      // "five tools", "5 tools": the count is the live one.
      for (const [phrase, count] of text.matchAll(/\b(\w+) (?:MCP )?tools\b/gi)) {
        const n = NUMBERS.indexOf((count ?? "").toLowerCase());
        const value = n >= 0 ? n : /^\d+$/.test(count ?? "") ? Number(count) : undefined;
        if (value !== undefined) expect(value, `${page}: "${phrase}"`).toBe(toolNames.length);
      }
    }
  });

  it("SKILL.md names every input field of every tool (it once left out image_url) and runs no unpublished command", async () => {
    const { tools } = await listDefinitions();
    // The tools an agent is offered: the verdict view's app-only thumbnail tool is no business of SKILL.md.
    for (const tool of modelVisibleTools(tools) as {
      name: string;
      inputSchema: { properties?: Record<string, unknown> };
    }[]) {
      for (const field of Object.keys(tool.inputSchema.properties ?? {})) {
        expect(
          skill.includes(`\`${field}\``) || skill.includes(`\`${field}:`),
          `SKILL.md names ${tool.name}'s ${field}`,
        ).toBe(true);
      }
    }
    // The package is not on npm yet: no runnable line may depend on it, and prose marks the npx form.
    for (const block of codeBlocks(skill)) expect(block.body).not.toContain(`npx -y ${PACKAGE_NAME}`);
    for (const line of skill.split("\n").filter((l) => l.includes(`npx -y ${PACKAGE_NAME}`)))
      expect(line, "SKILL.md: the npx form is marked").toMatch(/once (it is |the package is )?published/);
  });

  it("the troubleshooting command for the logs keeps stdin open until the ready line (`< /dev/null` closed it first)", () => {
    const home = mkdtempSync(path.join(tmpdir(), "didit-logs-"));
    try {
      mkdirSync(path.join(home, "selfies"));
      const lines = [readme, doc("troubleshooting.md")].flatMap((text) =>
        [...text.matchAll(/sleep \d+ \| node dist\/index\.js [^`\n]*/g)].map((m) => m[0]),
      );
      expect(lines).toHaveLength(2);
      for (const text of [readme, doc("troubleshooting.md")])
        expect(text).not.toMatch(/(dist\/index\.js|didit-passive-liveness-mcp)[^`\n]*< \/dev\/null/);
      for (const line of new Set(lines)) {
        const result = spawnSync("sh", ["-c", line], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", HOME: home },
          encoding: "utf8",
          timeout: 20_000,
        });
        expect(result.status, line).toBe(0);
        expect(result.stderr, line).toMatch(/\[didit-passive-liveness-mcp\] .*ready \(/);
        expect(result.stderr, line).toContain(path.join(home, "selfies"));
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("mention only environment variables src/config.ts reads", () => {
    const known = new Set(Object.keys(envSchema.shape));
    expect(known.size).toBeGreaterThanOrEqual(7);
    for (const [page, text] of pages) {
      for (const [name] of text.matchAll(/\bDIDIT_[A-Z_]*[A-Z]\b/g)) {
        expect(known.has(name), `${page}: ${name} is not read by src/config.ts`).toBe(true);
      }
    }
  });

  it("show only CLI commands the command's --help lists, and the README's CLI section names them all", () => {
    const help = execFileSync(process.execPath, [SERVER_ENTRY, "--help"], { encoding: "utf8" });
    const commands = new Set(
      [...help.matchAll(new RegExp(`^\\s+${PACKAGE_NAME} ([a-z]+)\\b`, "gm"))].map((m) => m[1] ?? ""),
    );
    expect([...commands]).toEqual(expect.arrayContaining(["check", "explain", "doctor"]));
    const cli = section(readme, "CLI").join("\n");
    for (const command of commands) expect(cli, `README CLI names ${command}`).toContain(`\`${command}\``);
    // `didit-passive-liveness-mcp <word>` and `node dist/index.js <word>` in code: <word> is a flag, a path or a command.
    for (const [page, text] of pages) {
      for (const block of codeBlocks(text)) {
        for (const [, word] of block.body.matchAll(
          new RegExp(
            `(?:(?<![-/@])\\b${PACKAGE_NAME}|node dist/index\\.js) ([a-z][a-z-]*)(?=[\\s"'\\]]|$)`,
            "gm",
          ),
        )) {
          expect(commands, `${page}: \`${word}\` is not a command --help lists`).toContain(word);
        }
      }
    }
  });
});

describe("package metadata", () => {
  const server = JSON.parse(read("server.json")) as {
    name: string;
    version: string;
    packages: {
      registryType: string;
      identifier: string;
      version: string;
      transport: { type: string };
      environmentVariables: { name: string; isSecret?: boolean; isRequired?: boolean }[];
    }[];
  };

  it("server.json matches package.json: name is mcpName, versions agree", () => {
    expect(pkg.mcpName).toBe("io.github.didit-community/didit-passive-liveness-mcp");
    expect(server.name).toBe(pkg.mcpName);
    expect(server.version).toBe(pkg.version);
    // npm, the Claude Desktop bundle (mcpb) and the remote-mode image (oci): mcpb-manifest.test.ts checks the last two.
    expect(server.packages.map((p) => p.registryType)).toEqual(["npm", "mcpb", "oci"]);
    const [npm] = server.packages;
    expect(npm).toMatchObject({
      registryType: "npm",
      identifier: pkg.name,
      version: pkg.version,
      transport: { type: "stdio" },
    });
  });

  it("server.json declares the same environment variables as src/config.ts, the key secret and optional", () => {
    const fromSchema = Object.keys(envSchema.shape);
    const env = server.packages[0]?.environmentVariables ?? [];
    expect(new Set(env.map((e) => e.name))).toEqual(new Set(fromSchema));
    expect(env.find((e) => e.name === "DIDIT_API_KEY")).toMatchObject({ isSecret: true, isRequired: false });
  });

  it("the README's Configuration rows for the variables are the ones rendered from the env schema (npm run docs)", async () => {
    const { renderReadme } = await import("../../scripts/render-env-reference.mjs");
    expect(await renderReadme(readme)).toBe(readme);
  });

  it("server.json's npm environment list is the one rendered from the env schema's descriptions (npm run docs)", async () => {
    const { renderServerEnv } = await import("../../scripts/render-env-reference.mjs");
    const npm = server.packages.find((p) => p.registryType === "npm");
    expect(npm?.environmentVariables).toEqual(await renderServerEnv());
  });

  it("SKILL.md carries the package version and the OpenClaw key requirement", () => {
    const skill = read("SKILL.md");
    expect(skill).toMatch(new RegExp(`^version: ${pkg.version.replace(/\./g, "\\.")}$`, "m"));
    expect(skill).toMatch(/^ {4}primaryEnv: DIDIT_API_KEY$/m);
    expect(skill).toMatch(/^ {6}env:\n {8}- DIDIT_API_KEY$/m);
  });
});
