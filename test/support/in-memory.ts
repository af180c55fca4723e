import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { Config } from "../../src/config/config.js";
import type { LogLevel } from "../../src/core/log.js";
import { createRedactor } from "../../src/core/redact.js";
import { createDiditClient, type DiditClient } from "../../src/didit/client.js";
import { createServer, type ServerDeps } from "../../src/server/server.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "./didit-double.js";

export interface InMemorySession {
  client: Client;
  logs: { level: LogLevel; message: string }[];
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({
    apiKey: undefined,
    baseUrl: "http://127.0.0.1:9",
    timeoutMs: 5_000,
    allowedDirs: [],
    maxChecksPerMinute: 1_000,
    confirmUploads: false,
    sandbox: false,
    precheckModelsDir: undefined,
    allowHardlinks: false,
    allowedUrlHosts: [],
    urlAllowOnly: false,
    viewThumbnails: true,
    ...overrides,
  });
}

/** A real MCP Client talking to createServer() over the SDK's in-memory transport, tools listed first. */
export async function startInMemory(
  config: Config,
  clientOverride?: DiditClient,
  deps: Partial<Pick<ServerDeps, "thumbnails" | "callerId">> = {},
): Promise<InMemorySession> {
  const redact = createRedactor([config.apiKey]);
  const logs: { level: LogLevel; message: string }[] = [];
  const diditClient =
    clientOverride ??
    (config.apiKey
      ? createDiditClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, timeoutMs: config.timeoutMs })
      : undefined);
  const server = createServer({
    config,
    client: diditClient,
    logger: { log: (level, message) => logs.push({ level, message: redact(message) }) },
    redact,
    version: "0.0.0-test",
    ...deps,
  });
  const client = new Client({ name: "in-memory-test", version: "1.0.0" });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  // Listing first makes the client cache output schemas and validate structuredContent against them.
  await client.listTools();
  return {
    client,
    logs,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
      await diditClient?.close();
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

export const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

/**
 * The set-up most tool tests share, as vitest hooks: the loopback double as Didit, a keyed session reading
 * test/fixtures, the double reset after each test. Read `double` and `session` inside tests, not at import.
 */
export function useDoubleSession(): { readonly double: DiditDouble; readonly session: InMemorySession } {
  const state = {} as { double: DiditDouble; session: InMemorySession };
  beforeAll(async () => {
    state.double = await startDiditDouble();
    state.session = await startInMemory(
      testConfig({ apiKey: TEST_API_KEY, baseUrl: state.double.url, allowedDirs: [FIXTURES] }),
    );
  });
  afterEach(() => state.double.reset());
  afterAll(async () => {
    await state.session?.close();
    await state.double?.close();
  });
  return state;
}
