import { readFileSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { expect } from "vitest";
import { ROOT } from "./packed.js";

// The README's install forms, started as an MCP host starts them (package.test.ts, package-npx.test.ts).

/** The tools every install form lists, sorted: the five, and the verdict view's thumbnail tool. */
export const LISTED_TOOLS = [
  "check_passive_liveness",
  "explain_warning",
  "match_faces",
  "precheck_face_image",
  "verify_selfie",
  "view_face_thumbnail",
];

/** The `command` and `args` cells of one row of the README's install-forms table, as a host config holds them. */
export function documentedForm(form: string): string[] {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const row = readme.split("\n").find((line) => line.startsWith(`| ${form} `));
  expect(row, `the README's install-forms table has a "${form}" row`).toBeDefined();
  const [, , , command = "", args = ""] = (row ?? "").split("|");
  const words = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? "");
  const argv = [...words(command), ...words(args)];
  // SKILL.md gives the agent the same command, with its `--allow-dir` after it.
  expect(readFileSync(path.join(ROOT, "SKILL.md"), "utf8")).toContain(`\`${argv.join(" ")} --allow-dir`);
  return argv;
}

/** Starts a server as an MCP host does (stdio, its own env and cwd, no key) and connects the SDK's client. */
export async function startAsHost(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs = 30_000,
): Promise<Client> {
  const [command = "", ...args] = argv;
  const transport = new StdioClientTransport({
    command,
    args,
    cwd,
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const client = new Client({ name: "package-test", version: "1.0.0" });
  try {
    await client.connect(transport, { timeout: timeoutMs });
  } catch (error) {
    throw new Error(`${argv.join(" ")} did not answer initialize: ${String(error)}\n${stderr}`);
  }
  return client;
}

/** tools/list gives the five tools (and the view's thumbnail tool) with their schemas; a call and the view answer. */
export async function expectTheFiveTools(client: Client): Promise<void> {
  try {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(LISTED_TOOLS);
    for (const tool of tools) {
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).not.toHaveLength(0);
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      expect(Object.keys(tool.outputSchema?.properties ?? {}), tool.name).not.toHaveLength(0);
    }
    const explained = await client.callTool({
      name: "explain_warning",
      arguments: { tag: "low-face-luminance" },
    });
    expect(explained.isError).toBeFalsy();
    expect(explained.structuredContent).toMatchObject({ tag: "LOW_FACE_LUMINANCE", known: true });
    // The verdict view ships as dist/view/verdict.html and is read from the installed package.
    const view = await client.readResource({ uri: "ui://didit-passive-liveness/verdict.html" });
    expect(view.contents[0]).toMatchObject({ mimeType: "text/html;profile=mcp-app" });
    expect(String((view.contents[0] as { text?: string }).text)).toMatch(/^<!doctype html>/);
  } finally {
    await client.close();
  }
}
