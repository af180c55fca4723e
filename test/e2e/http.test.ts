import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  THUMBNAIL_TOOL_NAME,
  VIEW_META_KEY,
  VIEW_MIME_TYPE,
  VIEW_URI,
  type ViewMeta,
} from "../../src/view/contract.js";
import { type DiditDouble, delayed, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import {
  type HttpServerProcess,
  INITIALIZE,
  mcpHeaders,
  rawRequest,
  spawnHttpServer,
} from "../support/http-spawn.js";
import { LISTED_TOOLS } from "../support/install-forms.js";
import { baseEnv, textOf } from "../support/spawn.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-fedcba9876543210";

let double: DiditDouble;
let server: HttpServerProcess;
let client: Client;
let image: string;

const call = async (c: Client, name: string, args: Record<string, unknown>) =>
  (await c.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult;

beforeAll(async () => {
  image = (await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"))).toString("base64");
  double = await startDiditDouble();
  server = await spawnHttpServer({
    env: baseEnv({
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: double.url,
      DIDIT_MCP_TOKENS: `${TOKEN_A}, ${TOKEN_B}`,
      DIDIT_MAX_CHECKS_PER_MINUTE: "1000",
    }),
  });
  client = await server.connect(TOKEN_A);
});

afterAll(async () => {
  await server?.stop();
  await double?.close();
  // Neither the Didit key nor a client token ever reaches the logs.
  for (const secret of [TEST_API_KEY, TOKEN_A, TOKEN_B]) expect(server.stderr()).not.toContain(secret);
});

describe("remote mode: Streamable HTTP at /mcp", () => {
  it("prints the URL with the real port, on loopback by default", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(server.url).not.toContain(":0/");
  });

  it("lists the same tools, resources and prompts as stdio, and every tool answers", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(LISTED_TOOLS);
    expect((await client.listResources()).resources.length).toBeGreaterThan(0);
    expect((await client.listPrompts()).prompts.length).toBeGreaterThan(0);

    const check = await call(client, "check_passive_liveness", {
      image_base64: image,
      vendor_data: "user-1",
    });
    expect(check.isError).toBeFalsy();
    expect(check.structuredContent).toMatchObject({ status: "Approved", vendor_data: "user-1" });
    const explained = await call(client, "explain_warning", { tag: "NO_FACE_DETECTED" });
    expect(explained.isError).toBeFalsy();
    // Not an image: answered by the tool (fast, without loading the on-device engine), over HTTP.
    const precheck = await call(client, "precheck_face_image", {
      image_base64: Buffer.from("not an image at all, just text").toString("base64"),
    });
    expect(precheck.isError).toBe(true);
    expect(textOf(precheck)).toMatch(/^Error \[\w+\]/);
  });

  it("serves the verdict view, and a thumbnail only to the token whose check it was", async () => {
    const read = await client.readResource({ uri: VIEW_URI });
    expect(read.contents[0]).toMatchObject({
      mimeType: VIEW_MIME_TYPE,
      text: expect.stringMatching(/^<!doctype html>/),
    });
    const check = await call(client, "check_passive_liveness", { image_base64: image });
    const handle = (check._meta?.[VIEW_META_KEY] as ViewMeta | undefined)?.images[0]?.thumbnail as string;
    // Each HTTP request gets a server of its own; the handle outlives it, in the process's store.
    const thumbnail = await call(client, THUMBNAIL_TOOL_NAME, { handle });
    expect(thumbnail.content[0]).toMatchObject({ type: "image", mimeType: "image/jpeg" });
    const other = await server.connect(TOKEN_B);
    try {
      expect((await call(other, THUMBNAIL_TOOL_NAME, { handle })).isError).toBe(true);
    } finally {
      await other.close();
    }
  });

  it("disables image_path without --allow-dir: no client roots over HTTP", async () => {
    const result = await call(client, "check_passive_liveness", {
      image_path: path.join(FIXTURES, "live_silentface_T1.jpg"),
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("Reading images from paths is disabled");
  });

  it("streams progress as SSE when the request carries a progress token", async () => {
    double.enqueue(delayed(50));
    const progress: string[] = [];
    const result = (await client.callTool(
      { name: "check_passive_liveness", arguments: { image_base64: image } },
      undefined,
      { timeout: 60_000, onprogress: (p) => progress.push(p.message ?? "") },
    )) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(progress.length).toBeGreaterThan(0);
  });

  it("answers JSON (not SSE) by default", async () => {
    const response = await rawRequest(server.url, {
      method: "POST",
      headers: mcpHeaders({ authorization: `Bearer ${TOKEN_A}` }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(response.body)).toMatchObject({
      id: 1,
      result: { serverInfo: { name: expect.any(String) } },
    });
  });

  it("answers 401 with a Bearer challenge without a token and with a wrong one", async () => {
    for (const authorization of [undefined, "Bearer wrong-token-0123456789", `Basic ${TOKEN_A}`]) {
      const response = await rawRequest(server.url, {
        method: "POST",
        headers: mcpHeaders(authorization ? { authorization } : {}),
        body: JSON.stringify(INITIALIZE),
      });
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers["www-authenticate"]).toMatch(/^Bearer /);
      expect(JSON.parse(response.body)).toMatchObject({ jsonrpc: "2.0", error: { code: -32001 } });
    }
    // And through the SDK client: connecting fails.
    await expect(server.connect("wrong-token-0123456789")).rejects.toThrow();
  });

  it("answers 403 for a Host it does not serve (DNS rebinding) and for a foreign browser Origin", async () => {
    const auth = { authorization: `Bearer ${TOKEN_A}` };
    const badHost = await rawRequest(server.url, {
      method: "POST",
      headers: mcpHeaders({ ...auth, host: "evil.example:80" }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(badHost.status).toBe(403);
    expect(JSON.parse(badHost.body).error.message).toContain("Host");
    const badOrigin = await rawRequest(server.url, {
      method: "POST",
      headers: mcpHeaders({ ...auth, origin: "https://evil.example" }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(badOrigin.status).toBe(403);
    expect(JSON.parse(badOrigin.body).error.message).toContain("Origin");
    // A page served from this machine's own loopback origin is fine, as is localhost as the Host.
    const local = await rawRequest(server.url, {
      method: "POST",
      headers: mcpHeaders({
        ...auth,
        host: `localhost:${new URL(server.url).port}`,
        origin: "http://localhost:3000",
      }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(local.status).toBe(200);
  });

  it("answers 413 with a JSON-RPC error for a 9 MB body", async () => {
    const big = JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "check_passive_liveness", arguments: { image_base64: "A".repeat(9 * 1024 * 1024) } },
    });
    // Declared up front (Content-Length), and found while reading (chunked).
    for (const chunked of [false, true]) {
      const response = await rawRequest(server.url, {
        method: "POST",
        headers: mcpHeaders({ authorization: `Bearer ${TOKEN_A}` }),
        body: big,
        chunked,
      });
      expect(response.status, `chunked: ${chunked}`).toBe(413);
      expect(JSON.parse(response.body)).toMatchObject({ jsonrpc: "2.0", error: { code: -32600 } });
    }
  });

  it("refuses GET and DELETE on /mcp with 405: stateless, no stream and no session", async () => {
    for (const method of ["GET", "DELETE"]) {
      const response = await rawRequest(server.url, {
        method,
        headers: { accept: "text/event-stream", authorization: `Bearer ${TOKEN_A}` },
      });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe("POST");
    }
  });

  it("runs 50 concurrent checks with no cross-talk: each gets its own vendor_data back", async () => {
    double.setDefault(delayed(100));
    try {
      const other = await server.connect(TOKEN_B);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          call(i % 2 === 0 ? client : other, "check_passive_liveness", {
            image_base64: image,
            vendor_data: `person-${i}`,
            metadata: { n: i },
          }),
        ),
      );
      results.forEach((result, i) => {
        expect(result.isError, textOf(result)).toBeFalsy();
        expect(result.structuredContent).toMatchObject({ vendor_data: `person-${i}`, metadata: { n: i } });
      });
    } finally {
      double.setDefault({ kind: "approved" });
    }
  });

  it("serves /healthz, /readyz and Prometheus /metrics that count the calls and hold no data", async () => {
    expect((await rawRequest(`${server.origin}/healthz`, {})).status).toBe(200);
    const ready = await rawRequest(`${server.origin}/readyz`, {});
    expect(ready.status).toBe(200);
    const metrics = await rawRequest(`${server.origin}/metrics`, {});
    expect(metrics.status).toBe(200);
    const approved =
      /didit_mcp_tool_calls_total\{tool="check_passive_liveness",outcome="approved"\} (\d+)/.exec(
        metrics.body,
      );
    expect(Number(approved?.[1])).toBeGreaterThanOrEqual(52);
    expect(metrics.body).toMatch(/didit_mcp_tool_calls_total\{tool="explain_warning",outcome="ok"\} 1/);
    expect(metrics.body).toMatch(/didit_mcp_upstream_latency_seconds_count \d+/);
    expect(metrics.body).toMatch(/didit_mcp_http_in_flight \d/);
    expect(metrics.body).toContain("didit_mcp_rate_limit_refusals_total");
    expect(metrics.body).toMatch(/didit_mcp_http_requests_total\{route="mcp",status="401"\} \d+/);
    for (const secret of ["person-", "user-1", TEST_API_KEY, TOKEN_A, image.slice(0, 40)]) {
      expect(metrics.body).not.toContain(secret);
      expect(server.stderr()).not.toContain(secret);
    }
  });

  it("logs one JSON line per MCP request: request id, token id (not the token), tool, outcome, duration", async () => {
    await server.waitForLog((l) => l.tool === "explain_warning");
    const calls = server
      .logLines()
      .filter((l) => l.msg === "request" && l.tool === "check_passive_liveness" && l.outcome === "approved");
    expect(calls.length).toBeGreaterThanOrEqual(52);
    const line = calls[0] as Record<string, unknown>;
    expect(line).toMatchObject({ level: "info", method: "tools/call", status: 200 });
    expect(line.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(line.token_id).toMatch(/^t:[0-9a-f]{8}$/);
    expect(typeof line.duration_ms).toBe("number");
    expect(Date.parse(String(line.time))).not.toBeNaN();
    const ids = new Set(calls.map((l) => l.token_id));
    expect(ids.size).toBe(2);
  });
});
