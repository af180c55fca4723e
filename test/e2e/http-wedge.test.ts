/**
 * Remote mode against someone trying to wedge a replica or be billed for nothing: requests past their deadline,
 * clients that disconnect or cancel, bodies that drip, one token taking every slot, batches. Each test spawns the
 * built server (`node dist/index.js --http`) with a loopback Didit double and a loopback image server.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import {
  type HttpServerProcess,
  INITIALIZE,
  mcpHeaders,
  openRequest,
  type RawResponse,
  rawRequest,
  spawnHttpServer,
} from "../support/http-spawn.js";
import { type ImageServer, serveBytes, startImageServer } from "../support/image-server.js";
import { baseEnv, textOf } from "../support/spawn.js";

const jpeg = await readFile(path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg"));
const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-fedcba9876543210";

let double: DiditDouble;
let images: ImageServer;
const servers: HttpServerProcess[] = [];

/** Image requests held open until released (or until the server gives up on them and closes the connection). */
interface HeldImage {
  res: ServerResponse;
  /** Resolves when the fetching side closed the connection. */
  closed: Promise<void>;
}
const held: HeldImage[] = [];
const heldWaiters: { count: number; resolve: () => void }[] = [];
const holdImage = (_req: IncomingMessage, res: ServerResponse) => {
  held.push({ res, closed: new Promise((resolve) => res.once("close", () => resolve())) });
  for (const w of heldWaiters.splice(0)) {
    if (held.length >= w.count) w.resolve();
    else heldWaiters.push(w);
  }
};
const imagesHeld = (count: number) =>
  held.length >= count
    ? Promise.resolve()
    : new Promise<void>((resolve) => heldWaiters.push({ count, resolve }));
const releaseHeldImages = () => {
  for (const { res } of held) {
    if (!res.destroyed && !res.headersSent) res.writeHead(200, { "content-type": "image/jpeg" }).end(jpeg);
  }
};

beforeAll(async () => {
  double = await startDiditDouble();
  images = await startImageServer();
  images.route("/hold/1.jpg", holdImage);
  images.route("/face.jpg", serveBytes(jpeg));
});

afterEach(() => {
  releaseHeldImages();
  held.length = 0;
  double.reset();
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  await images?.close();
  await double?.close();
});

const start = async (env: Record<string, string>, args: string[] = []) => {
  const server = await spawnHttpServer({
    env: baseEnv({
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: double.url,
      DIDIT_MAX_CHECKS_PER_MINUTE: "1000",
      ...env,
    }),
    args: ["--allow-url-host", "127.0.0.1", ...args],
  });
  servers.push(server);
  return server;
};

const toolCall = (id: number, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

const post = (server: HttpServerProcess, body: string, token?: string) =>
  rawRequest(server.url, {
    method: "POST",
    headers: mcpHeaders(token ? { authorization: `Bearer ${token}` } : {}),
    body,
  });

/** Resolves with `what` when `promise` settles within `ms`, else with "hung" (the wall clock only tells the two apart). */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | "hung"> =>
  Promise.race([promise, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms).unref())]);

/** A POST to /mcp whose body arrives only as far as `sent` of `declared` bytes; `abort()` drops the connection. */
function drip(server: HttpServerProcess, token?: string, declared = 1000, sent = 10) {
  const { req, response } = openRequest(server.url, {
    method: "POST",
    headers: mcpHeaders({
      "content-length": String(declared),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    }),
  });
  req.flushHeaders();
  req.write("x".repeat(sent));
  response.catch(() => {});
  return { response, abort: () => req.destroy() };
}

/** The value of one Prometheus sample line, or undefined. */
const sample = async (server: HttpServerProcess, pattern: RegExp) => {
  const body = (await rawRequest(`${server.origin}/metrics`, {})).body;
  const match = pattern.exec(body);
  return match ? Number(match[1]) : undefined;
};

/** Polls /metrics (bounded: 200 tries, 25 ms apart) until the sample passes `test`. */
const metricUntil = async (server: HttpServerProcess, pattern: RegExp, test: (value: number) => boolean) => {
  for (let i = 0; i < 200; i++) {
    if (test((await sample(server, pattern)) ?? 0)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
};
const metricReaches = (server: HttpServerProcess, pattern: RegExp, atLeast: number) =>
  metricUntil(server, pattern, (v) => v >= atLeast);
const IN_FLIGHT = /^didit_mcp_http_in_flight (\d+)$/m;
const VERIFY_ENDED = /^didit_mcp_tool_calls_total\{tool="verify_selfie",outcome="\w+"\} (\d+)$/m;
const VERIFY_CANCELLED = /^didit_mcp_tool_calls_total\{tool="verify_selfie",outcome="cancelled"\} (\d+)$/m;

/**
 * The selfie download was dropped at once (before the fix it went on), then released: whichever way the
 * verify_selfie call ended, it ended `cancelled`, with nothing sent to Didit (before: both checks went out).
 */
async function expectCancelledBeforeUpload(server: HttpServerProcess) {
  const abandoned = await within(Promise.all(held.map((h) => h.closed)), 5_000);
  releaseHeldImages();
  await metricReaches(server, VERIFY_ENDED, 1);
  expect(double.requests.map((r) => r.path)).toEqual([]);
  expect(await sample(server, VERIFY_CANCELLED)).toBe(1);
  expect(abandoned).not.toBe("hung");
}

describe("remote mode: no one can wedge a replica", () => {
  it("gives a request's slot back at its deadline (504, logged), and says so while slots are full", async () => {
    // 16 image checks hold every image slot on URLs that never answer; the 17th waits for one past its deadline
    // (DIDIT_TIMEOUT_MS + 10 s = 11 s). All 17 in-flight slots are then taken.
    const server = await start({
      DIDIT_TIMEOUT_MS: "1000",
      DIDIT_HTTP_MAX_IN_FLIGHT: "17",
      DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN: "17",
    });
    const url = `${images.origin}/hold/1.jpg`;
    const hogs = Array.from({ length: 16 }, (_, i) =>
      post(server, toolCall(i + 1, "check_passive_liveness", { image_url: url })),
    );
    await imagesHeld(16);
    const late = post(server, toolCall(99, "check_passive_liveness", { image_url: url }));
    expect(await metricReaches(server, IN_FLIGHT, 17)).toBe(true);
    const ready = await rawRequest(`${server.origin}/readyz`, {});
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).reason).toMatch(/17 of 17 requests in flight/);

    const answer = await late;
    expect(answer.status).toBe(504);
    await Promise.all(hogs);
    expect(await metricUntil(server, IN_FLIGHT, (v) => v === 0)).toBe(true);
    // Its slot came back: a new request is served, and /readyz is ready again.
    expect((await post(server, JSON.stringify(INITIALIZE))).status).toBe(200);
    expect((await rawRequest(`${server.origin}/readyz`, {})).status).toBe(200);
    const logged = await within(
      server.waitForLog((l) => l.msg === "request" && l.status === 504),
      5_000,
    );
    expect(logged).toMatchObject({
      outcome: "deadline",
      method: "tools/call",
      tool: "check_passive_liveness",
    });
    // The 17th's own image fetch was abandoned with it.
    expect(await within(Promise.all(held.map((h) => h.closed)), 10_000)).not.toBe("hung");
  }, 40_000);

  it("does not upload anything for a verify_selfie whose client disconnects while its selfie URL downloads", async () => {
    const server = await start({});
    const body = toolCall(5, "verify_selfie", {
      user_image_url: `${images.origin}/hold/1.jpg`,
      ref_image_url: `${images.origin}/face.jpg`,
    });
    const { req, response } = openRequest(server.url, { method: "POST", headers: mcpHeaders() });
    response.catch(() => {});
    req.end(body);
    await imagesHeld(1);
    req.destroy();
    await expectCancelledBeforeUpload(server);
    const line = await within(
      server.waitForLog((l) => l.msg === "request" && l.tool === "verify_selfie"),
      5_000,
    );
    expect(line).toMatchObject({ outcome: "client_closed" });
  });

  it("does not upload anything for a verify_selfie the client cancels (notifications/cancelled)", async () => {
    const server = await start({ DIDIT_MCP_TOKENS: TOKEN_A });
    const client = await server.connect(TOKEN_A);
    const controller = new AbortController();
    const result = client.callTool(
      {
        name: "verify_selfie",
        arguments: {
          user_image_url: `${images.origin}/hold/1.jpg`,
          ref_image_url: `${images.origin}/face.jpg`,
        },
      },
      undefined,
      { signal: controller.signal, timeout: 60_000 },
    ) as Promise<CallToolResult>;
    await imagesHeld(1);
    controller.abort("the user changed their mind");
    await expect(result).rejects.toThrow();
    await expectCancelledBeforeUpload(server);
    // The same client goes on working.
    const explained = (await client.callTool({
      name: "explain_warning",
      arguments: { tag: "NO_FACE_DETECTED" },
    })) as CallToolResult;
    expect(explained.isError, textOf(explained)).toBeFalsy();
  });

  it("ends a body that drips past DIDIT_HTTP_BODY_TIMEOUT_MS with 408 and gives its slot back", async () => {
    const server = await start({
      DIDIT_HTTP_BODY_TIMEOUT_MS: "1000",
      DIDIT_HTTP_MAX_IN_FLIGHT: "2",
      DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN: "10",
    });
    const drips = [drip(server), drip(server)];
    expect(await metricReaches(server, IN_FLIGHT, 2)).toBe(true);
    expect((await post(server, JSON.stringify(INITIALIZE))).status).toBe(503);
    expect((await rawRequest(`${server.origin}/readyz`, {})).status).toBe(503);
    const answers = await within(Promise.all(drips.map((d) => d.response)), 10_000);
    expect(answers).not.toBe("hung");
    for (const answer of answers as RawResponse[]) {
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body)).toMatchObject({ jsonrpc: "2.0", error: { code: -32600 } });
    }
    expect((await post(server, JSON.stringify(INITIALIZE))).status).toBe(200);
    expect(server.logLines().filter((l) => l.msg === "request" && l.outcome === "body_timeout")).toHaveLength(
      2,
    );
  });

  it("gives one token only its share of the in-flight slots (DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN)", async () => {
    const server = await start({
      DIDIT_MCP_TOKENS: `${TOKEN_A},${TOKEN_B}`,
      DIDIT_HTTP_MAX_IN_FLIGHT: "4",
      DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN: "2",
    });
    const drips = [drip(server, TOKEN_A), drip(server, TOKEN_A)];
    try {
      expect(await metricReaches(server, IN_FLIGHT, 2)).toBe(true);
      const refused = await post(server, JSON.stringify(INITIALIZE), TOKEN_A);
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe("1");
      expect(JSON.parse(refused.body).error.message).toContain("DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN");
      // Another token still has the rest.
      expect((await post(server, JSON.stringify(INITIALIZE), TOKEN_B)).status).toBe(200);
    } finally {
      for (const d of drips) d.abort();
    }
    // A dropped connection gives its slots back too.
    expect(await metricUntil(server, IN_FLIGHT, (v) => v === 0)).toBe(true);
    expect((await post(server, JSON.stringify(INITIALIZE), TOKEN_A)).status).toBe(200);
  });

  it("refuses a JSON-RPC batch with -32600 (MCP 2025-06-18 removed batching) and runs none of it", async () => {
    const server = await start({});
    const batch = `[${toolCall(1, "explain_warning", { tag: "NO_FACE_DETECTED" })},${toolCall(2, "check_passive_liveness", { image_base64: jpeg.toString("base64") })}]`;
    const response = await post(server, batch);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: expect.stringMatching(/batch/i) },
    });
    expect(double.requests).toHaveLength(0);
    const line = await within(
      server.waitForLog((l) => l.msg === "request" && l.status === 400),
      5_000,
    );
    expect(line).toMatchObject({ outcome: "batch_refused" });
  });
});
