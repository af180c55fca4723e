/**
 * Fault injection over stdio: one spawned server session against one Didit double, each fault followed by a
 * check on the same session that must succeed. The server reaches the double through a transparent TCP tap
 * (test/support/tcp-tap.ts) so the tests can see when the server closes an in-flight connection.
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type DiditDouble,
  delayed,
  type Outcome,
  startDiditDouble,
  TEST_API_KEY,
  throttled,
} from "../support/didit-double.js";
import { baseEnv, type SpawnedSession, spawnServer, textOf } from "../support/spawn.js";
import { startTcpTap, type TcpTap, within } from "../support/tcp-tap.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const IMAGE = "syn_astronaut.jpg";
/** Long enough that an ordinary check on a loaded 2-core machine finishes inside it; the hang test waits it out. */
const TIMEOUT_MS = 3000;
const BILLED = /may have reached Didit and been billed/;

let double: DiditDouble;
let tap: TcpTap;
let session: SpawnedSession;

beforeAll(async () => {
  double = await startDiditDouble();
  tap = await startTcpTap(double.url);
  session = await spawnServer({
    env: baseEnv({
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: tap.url,
      DIDIT_TIMEOUT_MS: String(TIMEOUT_MS),
      // More calls than the default 30/min budget are made here; the budget is not under test.
      DIDIT_MAX_CHECKS_PER_MINUTE: "1000",
    }),
    args: ["--allow-dir", FIXTURES],
  });
});
afterEach(() => double.reset());
afterAll(async () => {
  await session?.close();
  await tap?.close();
  await double?.close();
  expect(session.resultTexts.join("\n")).not.toContain(TEST_API_KEY);
  expect(session.stderr()).not.toContain(TEST_API_KEY);
  expect(session.transportErrors).toEqual([]);
  expect(session.stderr()).not.toMatch(/internal_error|Unhandled|uncaught|transport:/i);
});

function check(args: Record<string, unknown> = { image_path: IMAGE }): Promise<CallToolResult> {
  return session.call("check_passive_liveness", args);
}

function expectError(result: CallToolResult, code: string): string {
  const text = textOf(result);
  expect(result.isError, text).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  expect(text).toMatch(new RegExp(`^Error \\[${code}\\]: .+\\nHint: .+`, "s"));
  return text;
}

/** The first run of 8 characters of the key found in text, with whitespace skipped; none may ever be found. */
function keyFragmentIn(text: string): string | undefined {
  const squeezed = text.replace(/\s+/g, "");
  for (let i = 0; i + 8 <= TEST_API_KEY.length; i++) {
    const fragment = TEST_API_KEY.slice(i, i + 8);
    if (text.includes(fragment) || squeezed.includes(fragment)) return fragment;
  }
  return undefined;
}

/** The next call on the same session succeeds and costs exactly one more request; returns its duration. */
async function expectNextCallSucceeds(requestsBefore: number): Promise<number> {
  const started = performance.now();
  const result = await check();
  const ms = performance.now() - started;
  expect(result.isError, textOf(result)).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ status: "Approved", next_action: "proceed" });
  // Also proves nothing was resent late, after the failed call had returned.
  expect(double.requests).toHaveLength(requestsBefore + 1);
  return ms;
}

describe("faults between the server and Didit, each followed by a working check on the same session", () => {
  it("hang past the deadline -> timeout, may-have-been-billed hint, no resend, connection aborted", async ({
    annotate,
  }) => {
    double.enqueue({ kind: "hang" });
    const started = performance.now();
    const pending = check();
    await double.waitForRequests();
    const inFlight = tap.inFlight();
    expect(inFlight).toHaveLength(1);
    const result = await pending;
    const elapsed = performance.now() - started;
    const text = expectError(result, "timeout");
    expect(text).toContain(`${TIMEOUT_MS} ms`);
    expect(text.split("\n")[1]).toMatch(BILLED);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    // Generous: without a deadline the call would hang until the test timeout.
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 10_000);
    // The deadline aborted the HTTP request: the hanging connection is closed, not left to linger.
    const [conn] = inFlight;
    const closedMs = conn
      ? (await within(conn.closed, 10_000, "closing the timed-out connection")) - started
      : NaN;
    await annotate(
      `timeout: error after ${elapsed.toFixed(0)} ms, hanging connection closed at ${closedMs.toFixed(0)} ms`,
    );
    expect(double.requests).toHaveLength(1);
    await expectNextCallSucceeds(1);
  });

  it("a slow answer under the deadline (300 ms) succeeds", async () => {
    double.enqueue(delayed(300));
    const started = performance.now();
    const result = await check();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(result.structuredContent).toMatchObject({ status: "Approved" });
    expect(double.requests).toHaveLength(1);
    await expectNextCallSucceeds(1);
  });

  it("connection reset -> network_error, no resend, may-have-been-billed hint", async () => {
    double.enqueue({ kind: "reset" });
    const text = expectError(await check(), "network_error");
    expect(text.split("\n")[1]).toMatch(BILLED);
    expect(double.requests).toHaveLength(1);
    await expectNextCallSucceeds(1);
  });

  it("429 then success -> success after exactly 2 requests", async () => {
    double.enqueue(throttled(0));
    const result = await check();
    expect(result.structuredContent).toMatchObject({ status: "Approved" });
    expect(double.requests).toHaveLength(2);
    await expectNextCallSucceeds(2);
  });

  it("429 three times (Retry-After 0) -> rate_limited after exactly 3 requests", async () => {
    double.enqueue(throttled(0), throttled(0), throttled(0));
    const text = expectError(await check(), "rate_limited");
    expect(text).toContain("429");
    expect(double.requests).toHaveLength(3);
    await expectNextCallSucceeds(3);
  });

  it("429 with Retry-After 120 -> rate_limited at once, 1 request, says to wait 120 s", async ({
    annotate,
  }) => {
    double.enqueue(throttled(120));
    const started = performance.now();
    const text = expectError(await check(), "rate_limited");
    const elapsed = performance.now() - started;
    expect(text).toMatch(/120 s/);
    expect(text.split("\n")[1]).toMatch(/Wait 120 s/);
    expect(double.requests).toHaveLength(1);
    await annotate(`retry-after 120: rate_limited after ${elapsed.toFixed(0)} ms`);
    // Waiting would take 120 s; anything under 10 s is "at once" on a loaded machine.
    expect(elapsed).toBeLessThan(10_000);
    await expectNextCallSucceeds(1);
  });

  it("500 with a long text body -> upstream_error with a bounded excerpt, 1 request", async () => {
    const body = `Internal Server Error\n${"<p>stack frame</p>\n".repeat(2000)}`;
    double.enqueue({ kind: "status", status: 500, body, contentType: "text/plain" });
    const text = expectError(await check(), "upstream_error");
    const [message = "", hint = ""] = text.split("\n");
    expect(message).toContain("500");
    expect(message).toContain("Internal Server Error");
    expect(message.length).toBeLessThan(500);
    expect(hint).toMatch(BILLED);
    expect(double.requests).toHaveLength(1);
    await expectNextCallSucceeds(1);
  });

  // The old code cut an error excerpt to 300 characters before redacting the whole key, so a key starting near
  // the cut was quoted in part (9 of 25 characters here), which value-only redaction no longer recognised.
  it.each([
    [400, "bad_request", JSON.stringify({ detail: `${"e".repeat(290)}${TEST_API_KEY}`, code: "x" })],
    [401, "unauthorized", JSON.stringify({ detail: `${"e".repeat(290)}${TEST_API_KEY}` })],
    [500, "upstream_error", `${"e".repeat(285)} ${TEST_API_KEY.slice(0, 13)}\n${TEST_API_KEY.slice(13)}`],
  ])(
    "%i echoing the key across the excerpt bound -> no 8-character run of it in the result or on stderr",
    async (status, code, body) => {
      double.enqueue({ kind: "status", status, body, contentType: "text/plain" });
      const text = expectError(await check(), code);
      expect(keyFragmentIn(text), text).toBeUndefined();
      expect(keyFragmentIn(session.resultTexts.join("\n"))).toBeUndefined();
      expect(keyFragmentIn(session.stderr())).toBeUndefined();
      expect(double.requests).toHaveLength(1);
      await expectNextCallSucceeds(1);
    },
  );

  it("truncated JSON -> invalid_response", async () => {
    double.enqueue({ kind: "truncated_json" });
    const text = expectError(await check(), "invalid_response");
    expect(text).toContain("not JSON");
    expect(double.requests).toHaveLength(1);
    await expectNextCallSucceeds(1);
  });

  it("a 5 MB body -> invalid_response naming the 1 MB bound, and the session still works", async () => {
    double.enqueue({ kind: "huge_body", bytes: 5 * 1024 * 1024 } satisfies Outcome);
    const text = expectError(await check(), "invalid_response");
    expect(text).toMatch(/larger than 1 MB/);
    expect(double.requests).toHaveLength(1);
    await expectNextCallSucceeds(1);
  });
});

describe("the session itself", () => {
  it("a cancelled tool call aborts the HTTP request at once", async ({ annotate }) => {
    double.enqueue({ kind: "hang" });
    const controller = new AbortController();
    const pending = session.client.callTool(
      { name: "check_passive_liveness", arguments: { image_path: IMAGE } },
      undefined,
      { signal: controller.signal },
    );
    const settled = pending.then(
      () => "resolved",
      () => "rejected",
    );
    await double.waitForRequests();
    const inFlight = tap.inFlight();
    expect(inFlight).toHaveLength(1);
    const [conn] = inFlight;
    const abortedAt = performance.now();
    controller.abort();
    expect(await settled).toBe("rejected");
    const rejectMs = performance.now() - abortedAt;
    // The deadline would close the socket TIMEOUT_MS after the request started; closing well before that shows
    // the cancellation itself reached the HTTP request.
    const closedMs = conn
      ? (await within(conn.closed, TIMEOUT_MS + 2000, "closing the cancelled connection")) - abortedAt
      : NaN;
    const nextMs = await expectNextCallSucceeds(1);
    await annotate(
      `cancel: call rejected ${rejectMs.toFixed(1)} ms after abort, HTTP connection closed after ${closedMs.toFixed(1)} ms, next check took ${nextMs.toFixed(1)} ms`,
    );
    expect(rejectMs).toBeLessThan(10_000);
    expect(closedMs).toBeLessThan(TIMEOUT_MS - 1000);
    expect(nextMs).toBeLessThan(3000);
    expect(session.stderr()).not.toMatch(/internal_error|Unhandled|uncaught|transport:/i);
  });

  it("a 12 MB image_base64 argument -> tool error, nothing sent, and the session survives", async () => {
    const huge = "A".repeat(12 * 1024 * 1024);
    const result = await check({ image_base64: huge });
    const text = textOf(result);
    expect(result.isError).toBe(true);
    expect(text).toMatch(/^Error \[(invalid_input|too_large)\]: .+\nHint: .+/s);
    expect(text.length).toBeLessThan(2000);
    expect(double.requests).toHaveLength(0);
    await expectNextCallSucceeds(0);
  });
});
