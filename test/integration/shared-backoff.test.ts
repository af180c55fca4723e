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
