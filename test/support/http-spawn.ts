import { type ChildProcess, spawn } from "node:child_process";
import { type ClientRequest, request } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SERVER_ENTRY } from "./spawn.js";

export interface HttpServerProcess {
  /** The /mcp URL from the ready line (the real port when started with --port 0). */
  url: string;
  /** http://host:port */
  origin: string;
  child: ChildProcess;
  stderr(): string;
  /** The JSON lines the server logged on stderr so far. */
  logLines(): Record<string, unknown>[];
  /** Resolves with the first logged JSON line that matches (the line is written just after the response). */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** An MCP client over Streamable HTTP, with a bearer token when given. */
  connect(token?: string): Promise<Client>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Spawns `node dist/index.js --http --port 0 ...` and waits for its ready line. */
export async function spawnHttpServer(options: {
  env: Record<string, string>;
  args?: string[];
}): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, [SERVER_ENTRY, "--http", "--port", "0", ...(options.args ?? [])], {
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const match = /"msg":"ready","url":"([^"]+)"/.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before ready: ${stderr}`)));
  });
  const clients: Client[] = [];
  return {
    url,
    origin: new URL(url).origin,
    child,
    stderr: () => stderr,
    logLines: () =>
      stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    waitForLog(match) {
      const lines = () =>
        stderr
          .split("\n")
          .filter((l) => l.startsWith("{") && l.endsWith("}"))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      return new Promise((resolve) => {
        const check = () => {
          const found = lines().find(match);
          if (found === undefined) return;
          child.stderr?.off("data", check);
          resolve(found);
        };
        child.stderr?.on("data", check);
        check();
      });
    },
    async connect(token) {
      const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
      });
      const client = new Client({ name: "e2e-http", version: "1.0.0" });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    exited,
    async stop() {
      for (const c of clients) await c.close().catch(() => {});
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request with any headers (fetch cannot set Host), for the guards in front of /mcp. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean },
): Promise<RawResponse> {
  const { req, response } = openRequest(url, options);
  if (options.chunked && options.body !== undefined) {
    // No Content-Length: the server only learns the size while reading.
    const body = Buffer.from(options.body);
    for (let at = 0; at < body.length; at += 1024 * 1024) req.write(body.subarray(at, at + 1024 * 1024));
    req.end();
  } else req.end(options.body);
  return response;
}

/** A request whose body the caller writes (or drips, or abandons with `req.destroy()`); `response` is its answer. */
export function openRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string> },
): { req: ClientRequest; response: Promise<RawResponse> } {
  let resolveResponse: (response: RawResponse) => void = () => {};
  let rejectResponse: (error: Error) => void = () => {};
  const response = new Promise<RawResponse>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  const req = request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () =>
      resolveResponse({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      }),
    );
  });
  req.on("error", rejectResponse);
  return { req, response };
}

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

/** The headers a Streamable HTTP client sends with a JSON-RPC POST. */
export function mcpHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { "content-type": "application/json", accept: "application/json, text/event-stream", ...extra };
}
