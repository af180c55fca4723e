import { afterAll, beforeAll, expect, it } from "vitest";
import { createDiditClient } from "../../src/didit/client.js";
import { createSharedBackoff } from "../../src/didit/shared-backoff.js";
import type { LoadedImage } from "../../src/images/load-image.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY, throttled } from "../support/didit-double.js";

let double: DiditDouble;
beforeAll(async () => {
  double = await startDiditDouble();
});
afterAll(() => double.close());

const image: LoadedImage = {
  bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
  mime: "image/jpeg",
  filename: "image.jpg",
  label: "t",
};

it("a 429 to one caller holds the next request of every caller sharing the backoff", async () => {
  double.enqueue(throttled(1));
  const client = createDiditClient({
    baseUrl: double.url,
    apiKey: TEST_API_KEY,
    timeoutMs: 10_000,
    backoff: createSharedBackoff(),
  });
  try {
    let throttledAt = 0;
    let second: Promise<unknown> | undefined;
    const secondStarted = new Promise<void>((resolve) => {
      const first = client.checkPassiveLiveness(
        image,
        {},
        {
          onProgress: (message) => {
            if (!message.startsWith("Didit is rate limiting") || second) return;
            throttledAt = performance.now();
            second = client.checkPassiveLiveness(image, {});
            resolve();
          },
        },
      );
      void first.catch(() => undefined);
    });
    await secondStarted;
    // The throttled request and one more: whichever comes next must wait out the Retry-After.
    await double.waitForRequests(2);
    const waited = performance.now() - throttledAt;
    expect(waited).toBeGreaterThanOrEqual(900);
    await second;
    await double.waitForRequests(3);
  } finally {
    await client.close();
  }
});

it("a 429 with X-RateLimit-Reset but no Retry-After pauses for the reset, in seconds or as an epoch second", async () => {
  const paused: number[] = [];
  const recording = { pauses: 0, pause: (ms: number) => paused.push(ms), ready: async () => {} };
  const client = createDiditClient({
    baseUrl: double.url,
    apiKey: TEST_API_KEY,
    timeoutMs: 10_000,
    backoff: recording,
    wait: async () => {},
  });
  const resetOnly = (reset: string) => {
    const { headers, ...rest } = throttled(1) as Extract<ReturnType<typeof throttled>, { kind: "status" }>;
    const { "retry-after": _, ...others } = headers ?? {};
    return { ...rest, headers: { ...others, "x-ratelimit-reset": reset } };
  };
  try {
    double.enqueue(resetOnly("4"), resetOnly(String(Math.floor(Date.now() / 1000) + 7)));
    await client.checkPassiveLiveness(image, {});
    expect(paused[0]).toBe(4_000);
    // An epoch second 7 s ahead: 6-8 s, by where in its second the clock is.
    expect(paused[1]).toBeGreaterThanOrEqual(6_000);
    expect(paused[1]).toBeLessThanOrEqual(8_000);
  } finally {
    await client.close();
  }
});
