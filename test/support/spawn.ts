import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export const SERVER_ENTRY = path.resolve(import.meta.dirname, "../../dist/index.js");

function requireBuild(): void {
  if (!existsSync(SERVER_ENTRY))
    throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` (npm test does).`);
}

/** Only what the server needs: the child must not inherit a developer's real DIDIT_* settings. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface SpawnedSession {
  client: Client;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Errors the client transport saw, e.g. a stdout line that is not JSON-RPC. */
  transportErrors: Error[];
  /** Text of every tool result received in this session, for secret scans. */
  resultTexts: string[];
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Spawns the built server over stdio with an explicit env, as an MCP host would, and lists its tools. */
export async function spawnServer(options: {
  env: Record<string, string>;
  args?: string[];
}): Promise<SpawnedSession> {
  requireBuild();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY, ...(options.args ?? [])],
    env: options.env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const transportErrors: Error[] = [];
  transport.onerror = (error) => transportErrors.push(error);
  const client = new Client({ name: "e2e-test", version: "1.0.0" });
  await client.connect(transport);
  await client.listTools();
  const resultTexts: string[] = [];
  return {
    client,
    stderr: () => stderr,
    transportErrors,
    resultTexts,
    async call(name, args) {
      const result = (await client.callTool({ name, arguments: args }, undefined, {
        timeout: 60_000,
      })) as CallToolResult;
      resultTexts.push(JSON.stringify(result));
      return result;
    },
    close: () => client.close(),
  };
}

/** Runs the server with raw JSON-RPC lines on stdin and returns exactly what it wrote to stdout and stderr. */
export async function runRaw(
  lines: readonly object[],
  options: { env: Record<string, string>; args?: string[]; waitForIds: number },
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  requireBuild();
  const child = spawn(process.execPath, [SERVER_ENTRY, ...(options.args ?? [])], {
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString("utf8");
  });
  const answered = new Promise<void>((resolve) => {
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
      const ids = stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => {
          try {
            return (JSON.parse(l) as { id?: number }).id;
          } catch {
            return undefined;
          }
        });
      if (ids.filter((id) => id !== undefined).length >= options.waitForIds) resolve();
    });
  });
  for (const line of lines) child.stdin.write(`${JSON.stringify(line)}\n`);
  await answered;
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { stdout, stderr, code };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}
