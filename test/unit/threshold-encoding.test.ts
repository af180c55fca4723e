/**
 * The decline threshold goes into a multipart text field as String(value): every value the tool accepts must come
 * out as a plain decimal within 0-100 that reads back as the same number (1e-320 went out as "1e-320").
 */

import { readFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeMultipart } from "../../src/didit/multipart.js";
import { validThreshold } from "../../src/flows/liveness/threshold.js";
import { checkInputSchema } from "../../src/server/tools/check-passive-liveness.js";
import { startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { startInMemory, testConfig, textOf } from "../support/in-memory.js";

const PLAIN_DECIMAL = /^(?:0|[1-9]\d?|100)(?:\.\d{1,6})?$/;

const accepts = (value: number) =>
  checkInputSchema.safeParse({ image_base64: "eA==", face_liveness_score_decline_threshold: value }).success;

const candidates = fc.oneof(
  fc.double({ min: 0, max: 100, noNaN: true }),
  fc.double(),
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: 100_000_000 }).map((n) => n / 1_000_000),
  fc.constantFrom(1e-320, 5e-324, Number.MIN_VALUE, 1e-7, 1e-6, 0.1 + 0.2, -0, 100, 99.999999, 33.3333333),
);

describe("face_liveness_score_decline_threshold is sent in plain decimal", () => {
  it("every threshold the schema accepts encodes as a plain decimal that reads back as the same number", async () => {
    await fc.assert(
      fc.asyncProperty(candidates, async (value) => {
        if (!accepts(value)) return;
        const text = String(validThreshold(value));
        expect(text).toMatch(PLAIN_DECIMAL);
        expect(Number(text)).toBe(value === 0 ? 0 : value);
        // Read back by an independent multipart parser, as Didit would.
        const body = encodeMultipart([["face_liveness_score_decline_threshold", text]], {
          field: "user_image",
          filename: "image.jpg",
          contentType: "image/jpeg",
          bytes: new Uint8Array([0xff, 0xd8, 0xff]),
        });
        const form = await new Response(Buffer.concat(body.chunks), {
          headers: { "content-type": body.contentType },
        }).formData();
        expect(form.get("face_liveness_score_decline_threshold")).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses 1e-320 and other values that would print in exponent form or lose digits", () => {
    for (const value of [1e-320, 5e-324, 1e-7, 0.1 + 0.2, 33.3333333]) {
      expect(accepts(value), String(value)).toBe(false);
      expect(() => validThreshold(value)).toThrow(/at most 6 decimal places/);
    }
  });

  it("keeps integers, halves and six-place values", () => {
    for (const value of [0, 30, 100, 42.5, 0.000001, 99.999999])
      expect(accepts(value), String(value)).toBe(true);
  });
});

describe("over MCP, against the loopback Didit", () => {
  it("1e-320 is refused and nothing is sent; 0.000001 and 42.5 arrive as written", async () => {
    const double = await startDiditDouble();
    const session = await startInMemory(testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url }));
    const image_base64 = (
      await readFile(path.resolve(import.meta.dirname, "../fixtures/syn_astronaut.jpg"))
    ).toString("base64");
    try {
      const refused = await session.call("check_passive_liveness", {
        image_base64,
        face_liveness_score_decline_threshold: 1e-320,
      });
      expect(textOf(refused)).toMatch(/^Error \[invalid_input\]: .*decimal places/s);
      expect(double.requests).toHaveLength(0);
      for (const value of [0.000001, 42.5]) {
        const sent = await session.call("check_passive_liveness", {
          image_base64,
          face_liveness_score_decline_threshold: value,
        });
        expect(sent.isError, textOf(sent)).toBeFalsy();
      }
      expect(double.requests.map((r) => r.fields.face_liveness_score_decline_threshold)).toEqual([
        "0.000001",
        "42.5",
      ]);
    } finally {
      await session.close();
      await double.close();
    }
  });
});
