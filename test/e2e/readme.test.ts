import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  END_MARKER,
  extractBlock,
  renderReference,
  START_MARKER,
} from "../../scripts/render-tools-reference.mjs";
import { ERROR_CODES } from "../../src/errors.js";
import { SANDBOX_OUTCOMES } from "../../src/sandbox/sandbox-client.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SERVER_ENTRY = path.join(ROOT, "dist", "index.js");
const PACKAGE_NAME = "didit-passive-liveness-mcp";
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

const readme = read("README.md");
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
  expect(start, `README section "## ${heading}"`).toBeGreaterThanOrEqual(0);
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

/** Every place the README runs the server or CLI: shell lines (npx, claude mcp add, the bin, node dist/index.js) and JSON configs. */
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
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i] ?? "";
      if (word === "npx") {
        const pkgName = argv.slice(i + 1).find((w) => !w.startsWith("-"));
        npxPackages.push(pkgName ?? "(none)");
      }
      // `npx -p didit-passive-liveness-mcp -p <engine package> ... didit-passive-liveness-mcp`: the first is a package.
      if (word === PACKAGE_NAME && (argv[i - 1] === "-p" || argv[i - 1] === "--package")) continue;
      if (word === PACKAGE_NAME || (word === "dist/index.js" && argv[i - 1] === "node")) {
        const rest = argv.slice(i + 1);
        const stop = rest.findIndex((w) => ["|", "||", "&&", ";", ">", "<", "2>"].includes(w));
        runs.push({ where, args: stop === -1 ? rest : rest.slice(0, stop) });
        return;
      }
    }
  };
  for (const [index, block] of codeBlocks(readme).entries()) {
    const where = `code block #${index + 1} (${block.lang || "plain"})`;
    if (block.lang === "json") {
      const entries: { where: string; argv: string[] }[] = [];
      serverEntries(JSON.parse(block.body), where, entries);
      for (const entry of entries) {
        jsonEntries++;
        expect(entry.argv, `${where}: every server entry runs ${PACKAGE_NAME}`).toContain(PACKAGE_NAME);
        fromArgv(entry.argv, where);
      }
      continue;
    }
    const logical = block.body.replace(/\\\n\s*/g, " ").split("\n");
    for (const line of logical) {
      const words = shellWords(line);
      if (line.includes("claude mcp add")) {
        claudeAdds++;
        expect(line, `${where}: claude mcp add runs the package through npx`).toContain(
          `npx -y ${PACKAGE_NAME}`,
        );
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
          expect(entry.argv, `${where}: every server entry runs ${PACKAGE_NAME}`).toContain(PACKAGE_NAME);
          fromArgv(entry.argv, where);
        }
      }
      fromArgv(words, where);
    }
  }
  return { runs, npxPackages, jsonEntries, claudeAdds };
}

describe("README", () => {
  it("holds the tools reference generated from the live definitions (run `npm run docs` after changing one)", async () => {
    expect(readme.indexOf(START_MARKER)).toBeGreaterThan(-1);
    expect(readme.indexOf(END_MARKER)).toBeGreaterThan(readme.indexOf(START_MARKER));
    expect(extractBlock(readme)).toBe(await renderReference());
  });

  it("has its sections in the required order", () => {
    const h2 = proseLines(readme).filter((line) => line.startsWith("## "));
    expect(h2).toEqual([
      "## What it is",
      "## Quick start",
      "## Install",
      "## Remote (HTTP)",
      "## Configuration",
      "## Scripted use",
      "## Sandbox mode",
      "## On-device pre-check",
      "## Selfie vs ID",
      "## Tools and resources reference",
      "## Security and privacy",
      "## Troubleshooting",
      "## Performance",
      "## Development",
    ]);
    const install = section(readme, "Install").filter((line) => line.startsWith("### "));
    expect(install).toEqual([
      "### Claude Desktop",
      "### Claude Code",
      "### Cursor",
      "### VS Code",
      "### OpenClaw",
    ]);
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
    expect(new Set(npxPackages)).toEqual(new Set([PACKAGE_NAME]));
    for (const run of runs) {
      for (const word of run.args) {
        if (/^--?[a-zA-Z]/.test(word)) expect(flags, `${run.where}: ${word}`).toContain(word);
      }
    }
  });

  it("documents every environment variable src/config.ts reads, and no other", () => {
    const config = read("src/config.ts");
    const schema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(config)?.[1];
    expect(schema, "envSchema in src/config.ts").toBeDefined();
    const fromSchema = new Set([...(schema ?? "").matchAll(/^ {2}(DIDIT_[A-Z_]+):/gm)].map((m) => m[1]));
    expect(fromSchema.size).toBeGreaterThanOrEqual(7);

    const rows = section(readme, "Configuration").filter((line) => line.startsWith("| "));
    const settings = rows.map((row) => row.split("|")[1]?.trim() ?? "");
    const fromTable = new Set(
      settings.flatMap((cell) => [...cell.matchAll(/`(DIDIT_[A-Z_]+)`/g)].map((m) => m[1])),
    );
    expect(fromTable).toEqual(fromSchema);

    // The flags in the table are the server's flags, all of which --help lists.
    const flags = helpFlags();
    const tableFlags = settings.flatMap((cell) =>
      [...cell.matchAll(/`(--?[a-z][a-z-]*)/g)].map((m) => m[1] ?? ""),
    );
    expect(tableFlags).toEqual(expect.arrayContaining(["--allow-dir", "--sandbox", "--help", "--version"]));
    for (const flag of tableFlags) expect(flags).toContain(flag);
  });

  it("lists every sandbox outcome and every error code", () => {
    const sandbox = section(readme, "Sandbox mode").join("\n");
    for (const outcome of SANDBOX_OUTCOMES) expect(sandbox).toContain(`\`sandbox:${outcome}\``);
    const reference = section(readme, "Tools and resources reference").join("\n");
    for (const code of ERROR_CODES) expect(reference).toContain(`\`${code}\``);
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
    expect(server.packages).toHaveLength(1);
    const [npm] = server.packages;
    expect(npm).toMatchObject({
      registryType: "npm",
      identifier: pkg.name,
      version: pkg.version,
      transport: { type: "stdio" },
    });
  });

  it("server.json declares the same environment variables as src/config.ts, the key secret and optional", () => {
    const config = read("src/config.ts");
    const schema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(config)?.[1] ?? "";
    const fromSchema = [...schema.matchAll(/^ {2}(DIDIT_[A-Z_]+):/gm)].map((m) => m[1]);
    const env = server.packages[0]?.environmentVariables ?? [];
    expect(new Set(env.map((e) => e.name))).toEqual(new Set(fromSchema));
    expect(env.find((e) => e.name === "DIDIT_API_KEY")).toMatchObject({ isSecret: true, isRequired: false });
  });

  it("SKILL.md carries the package version and the OpenClaw key requirement", () => {
    const skill = read("SKILL.md");
    expect(skill).toMatch(new RegExp(`^version: ${pkg.version.replace(/\./g, "\\.")}$`, "m"));
    expect(skill).toMatch(/^ {4}primaryEnv: DIDIT_API_KEY$/m);
    expect(skill).toMatch(/^ {6}env:\n {8}- DIDIT_API_KEY$/m);
  });
});
