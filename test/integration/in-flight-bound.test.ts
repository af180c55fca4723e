/**
 * Checks in flight are bounded by the Didit pool size (16): against a hanging Didit the 17th check waits before
 * its image is loaded, and a waiting check the client cancels leaves the queue and never uploads.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createInFlightLimit, type InFlightLimit, MAX_CHECKS_IN_FLIGHT } from "../../src/core/in-flight.js";
import { createRedactor } from "../../src/core/redact.js";
import { createDiditClient, type DiditClient } from "../../src/didit/client.js";
import { createServer } from "../../src/server/server.js";
import { type DiditDouble, requestIdFor, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { testConfig, textOf } from "../support/in-memory.js";

let double: DiditDouble;
let didit: DiditClient;
let client: Client;
let closeServer: () => Promise<void>;
let base: Buffer;
const limit = createInFlightLimit();
/** Every acquire the server makes, so the test can wait for a call to reach the bound without sleeping. */
const acquires: { settled: Promise<unknown>; released: Promise<void> }[] = [];
let onAcquire: (() => void) | undefined;
const observed: InFlightLimit = {
  get active() {
    return limit.active;
  },
  get waiting() {
    return limit.waiting;
  },
  acquire(signal) {
    const granted = limit.acquire(signal);
    // Resolves when the server gives the slot back (or never got one): a cancelled call's handler ends after the client's promise.
    let gaveBack = () => {};
    const released = new Promise<void>((resolve) => {
      gaveBack = resolve;
    });
    granted.catch(() => gaveBack());
    acquires.push({ settled: granted.catch((error: unknown) => error), released });
    onAcquire?.();
    return granted.then((release) => () => {
      release();
      gaveBack();
    });
  },
};

function acquiresReach(count: number): Promise<void> {
  return new Promise((resolve) => {
    onAcquire = () => {
      if (acquires.length >= count) resolve();
    };
    onAcquire();
  });
}

beforeAll(async () => {
  double = await startDiditDouble();
  base = await readFile(path.resolve(import.meta.dirname, "../fixtures/syn_astronaut.jpg"));
  const config = testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url, timeoutMs: 30_000 });
  didit = createDiditClient({ baseUrl: double.url, apiKey: TEST_API_KEY, timeoutMs: 30_000 });
  const server = createServer({
    config,
    client: didit,
    logger: { log: () => {} },
    redact: createRedactor([TEST_API_KEY]),
    version: "test",
    inFlight: observed,
  });
  client = new Client({ name: "in-flight-test", version: "1" });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(b), client.connect(a)]);
  closeServer = () => server.close();
});
afterAll(async () => {
  await client.close();
  await closeServer();
  await didit.close();
  await double.close();
});

/** A distinct image per call, so each upload is attributable by its hash. */
const imageFor = (i: number) => Buffer.concat([base, Buffer.from(`#${i}`.padEnd(8, " "))]);
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

function check(i: number, signal?: AbortSignal): Promise<CallToolResult> {
  return client.callTool(
    { name: "check_passive_liveness", arguments: { image_base64: imageFor(i).toString("base64") } },
    undefined,
    signal ? { signal } : undefined,
  ) as Promise<CallToolResult>;
}

it("the 17th check waits for a slot before loading its image; cancelled while waiting, it never uploads", async () => {
  expect(MAX_CHECKS_IN_FLIGHT).toBe(16);
  double.setDefault({ kind: "hang" });
  const holders = Array.from({ length: MAX_CHECKS_IN_FLIGHT }, (_, i) => {
    const controller = new AbortController();
    return { controller, result: check(i, controller.signal).catch((error: unknown) => error) };
  });
  await double.waitForRequests(MAX_CHECKS_IN_FLIGHT);
  expect(limit.active).toBe(MAX_CHECKS_IN_FLIGHT);

  const waiter = new AbortController();
  const cancelled = check(100, waiter.signal).catch((error: unknown) => error);
  await acquiresReach(MAX_CHECKS_IN_FLIGHT + 1);
  expect(limit.waiting).toBe(1);
  waiter.abort();
  await cancelled;
  // The server side of the cancellation: the waiter is rejected as cancelled and leaves the queue.
  expect(await acquires[MAX_CHECKS_IN_FLIGHT]?.settled).toMatchObject({ code: "cancelled" });
  expect(limit.waiting).toBe(0);

  double.setDefault({ kind: "approved" });
  const later = check(200);
  await acquiresReach(MAX_CHECKS_IN_FLIGHT + 2);
  holders[0]?.controller.abort();
  const result = await later;
  expect(result.isError, textOf(result)).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ request_id: requestIdFor(imageFor(200)) });
  expect(double.requests.map((r) => r.file?.sha256)).not.toContain(sha256(imageFor(100)));

  for (const holder of holders) holder.controller.abort();
  await Promise.all(holders.map((h) => h.result));
  await Promise.all(acquires.map((a) => a.released));
  // Every slot is given back once the burst is over.
  expect([limit.active, limit.waiting]).toEqual([0, 0]);
});
