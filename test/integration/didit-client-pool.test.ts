/**
 * A connection pool that could not be created once must not poison the client: the failed attempt is not kept,
 * so the next check builds a new pool and succeeds. undici's Pool is made to fail on its first construction.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { formatFailure } from "../../src/core/errors.js";
import { createDiditClient } from "../../src/didit/client.js";
import type { LoadedImage } from "../../src/images/load-image.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { rejectionOf } from "../support/expectations.js";

const poolFailures = vi.hoisted(() => ({ remaining: 1 }));

vi.mock("undici", async (importOriginal) => {
  const real = await importOriginal<typeof import("undici")>();
  class FlakyPool extends real.Pool {
    constructor(...args: ConstructorParameters<typeof real.Pool>) {
      if (poolFailures.remaining > 0) {
        poolFailures.remaining--;
        throw new Error("simulated failure creating the pool");
      }
      super(...args);
    }
  }
  return { ...real, Pool: FlakyPool };
});

let double: DiditDouble;
let image: LoadedImage;

beforeAll(async () => {
  double = await startDiditDouble();
  const bytes = new Uint8Array(
    await readFile(path.resolve(import.meta.dirname, "../fixtures/syn_astronaut.jpg")),
  );
  image = { bytes, mime: "image/jpeg", filename: "image.jpg", label: "syn_astronaut.jpg" };
});
afterAll(() => double.close());

it("a failed pool creation says nothing was sent, and the next check on the same client succeeds", async () => {
  const client = createDiditClient({ baseUrl: double.url, apiKey: TEST_API_KEY, timeoutMs: 5_000 });
  try {
    const failure = await rejectionOf(client.checkPassiveLiveness(image, {}));
    expect(formatFailure(failure)).toMatch(/nothing was sent/i);
    expect(formatFailure(failure)).not.toMatch(/billed/);
    expect(double.requests).toHaveLength(0);
    const result = await client.checkPassiveLiveness(image, {});
    expect(result.liveness.status).toBe("Approved");
    expect(double.requests).toHaveLength(1);
  } finally {
    await client.close();
  }
});
