/**
 * The Didit client against the loopback double: what an upstream error body may carry back (never the key, not
 * even cut), what a bad configuration turns into (not a billed network failure), and a base URL with a path.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatFailure } from "../../src/core/errors.js";
import { createDiditClient, type DiditClient } from "../../src/didit/client.js";
import type { LoadedImage } from "../../src/images/load-image.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { rejectionOf } from "../support/expectations.js";

const JPEG = path.resolve(import.meta.dirname, "../fixtures/syn_astronaut.jpg");

let double: DiditDouble;
let image: LoadedImage;
const clients: DiditClient[] = [];

function client(overrides: { baseUrl?: string; apiKey?: string } = {}): DiditClient {
  const c = createDiditClient({
    baseUrl: overrides.baseUrl ?? double.url,
    apiKey: overrides.apiKey ?? TEST_API_KEY,
    timeoutMs: 5_000,
    wait: async () => {},
  });
  clients.push(c);
  return c;
}

/** Every run of 8 characters of the key: none may reach a message, whitespace or not. */
function keyFragmentIn(text: string, key = TEST_API_KEY): string | undefined {
  const squeezed = text.replace(/\s+/g, "");
  for (let i = 0; i + 8 <= key.length; i++) {
    const fragment = key.slice(i, i + 8);
    if (text.includes(fragment) || squeezed.includes(fragment)) return fragment;
  }
  return undefined;
}

beforeAll(async () => {
  double = await startDiditDouble();
  const bytes = new Uint8Array(await readFile(JPEG));
  image = { bytes, mime: "image/jpeg", filename: "image.jpg", label: "syn_astronaut.jpg" };
});
afterEach(() => double.reset());
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await double.close();
});

describe("an upstream error body that echoes the API key", () => {
  // The old code cut the excerpt to 300 characters and only then redacted the whole key: a key starting at 290
  // was cut to its first 9 characters, which no longer matched and were quoted.
  const pad = (n: number) => "e".repeat(n);
  const cases: Array<[string, number, string]> = [
    ["400 {detail}", 400, JSON.stringify({ detail: `${pad(290)}${TEST_API_KEY}`, code: "bad" })],
    ["400 field map", 400, JSON.stringify({ user_image: [`${pad(276)}${TEST_API_KEY}`] })],
    ["400 bare array", 400, JSON.stringify([`${pad(289)}${TEST_API_KEY}`])],
    ["401 {detail}", 401, JSON.stringify({ detail: `Invalid API key ${TEST_API_KEY}.` })],
    ["403 {detail}", 403, JSON.stringify({ detail: `Key ${TEST_API_KEY} not allowed from this IP.` })],
    ["500 text", 500, `Internal Server Error\n${pad(250)} x-api-key: ${TEST_API_KEY}\n`],
    [
      "500 text, key split by a newline",
      500,
      `${pad(250)} ${TEST_API_KEY.slice(0, 12)}\n${TEST_API_KEY.slice(12)}`,
    ],
    ["418 text", 418, `${pad(289)}${TEST_API_KEY}`],
  ];

  it.each(cases)("%s: no 8-character run of the key in the failure", async (_what, status, body) => {
    double.enqueue({ kind: "status", status, body, contentType: "text/plain" });
    const failure = await rejectionOf(client().checkPassiveLiveness(image, {}));
    const text = formatFailure(failure);
    expect(keyFragmentIn(text), text).toBeUndefined();
    expect(double.requests).toHaveLength(1);
  });

  it.each([401, 403])("%i: the upstream body is not quoted at all", async (status) => {
    double.enqueue({ kind: "status", status, body: JSON.stringify({ detail: "UPSTREAM-TEXT here" }) });
    const failure = await rejectionOf(client().checkPassiveLiveness(image, {}));
    expect(failure.message).not.toContain("UPSTREAM-TEXT");
  });
});

describe("a request that cannot be built", () => {
  it("an API key with a control character -> not_configured, nothing was sent", async () => {
    const failure = await rejectionOf(
      client({ apiKey: "bad-key\r\nx-injected: 1" }).checkPassiveLiveness(image, {}),
    );
    expect(failure.code).toBe("not_configured");
    expect(failure.message).toMatch(/nothing was sent/i);
    expect(formatFailure(failure)).not.toMatch(/billed/);
    expect(formatFailure(failure)).not.toContain("bad-key");
    expect(double.requests).toHaveLength(0);
  });
});

describe("DIDIT_BASE_URL with a path prefix", () => {
  let proxied: DiditDouble;
  beforeAll(async () => {
    proxied = await startDiditDouble({ pathPrefix: "/didit" });
  });
  afterAll(() => proxied.close());

  it("posts to <prefix>/v3/passive-liveness/ and gets the verdict, twice on one client", async () => {
    expect(proxied.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/didit$/);
    const c = client({ baseUrl: proxied.url });
    const first = await c.checkPassiveLiveness(image, {});
    const second = await c.checkPassiveLiveness(image, {});
    expect(first.liveness.status).toBe("Approved");
    expect(second.liveness.status).toBe("Approved");
    expect(proxied.requests.map((r) => r.path)).toEqual([
      "/didit/v3/passive-liveness/",
      "/didit/v3/passive-liveness/",
    ]);
  });
});
