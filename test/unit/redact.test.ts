import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { truncate } from "../../src/core/errors.js";
import { createRedactor, REDACTED } from "../../src/core/redact.js";

const KEY = "sk_live_9f8e7d6c5b4a3210ZyXw";

/** Every 8-character run of the key; none may survive redaction, with or without whitespace between its characters. */
function fragmentsOf(key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 8 <= key.length; i++) out.push(key.slice(i, i + 8));
  return out;
}

function survivingFragment(output: string, key: string): string | undefined {
  const squeezed = output.replace(/\s+/g, "");
  return fragmentsOf(key).find((f) => output.includes(f) || squeezed.includes(f));
}

describe("createRedactor: fragments of the key", () => {
  const redact = createRedactor([KEY]);

  // The attacker's finding: a 300-char cut kept 15 of 17 characters of the key, which value-only redaction missed.
  it("redacts a prefix of the key cut off at the end of the text", () => {
    const cut = `${"x".repeat(20)} ${KEY.slice(0, 15)}…`;
    expect(survivingFragment(redact(cut), KEY)).toBeUndefined();
    expect(redact(cut)).toBe(`${"x".repeat(20)} ${REDACTED}…`);
  });

  it("redacts a suffix of the key at the start of the text, and a fragment from its middle", () => {
    expect(redact(`${KEY.slice(-10)} tail`)).toBe(`${REDACTED} tail`);
    expect(redact(`a ${KEY.slice(5, 17)} z`)).toBe(`a ${REDACTED} z`);
  });

  it("redacts the key with whitespace or a newline inside it", () => {
    const split = `key: ${KEY.slice(0, 11)}\n${KEY.slice(11, 20)} ${KEY.slice(20)}.`;
    expect(redact(split)).toBe(`key: ${REDACTED}.`);
    expect(survivingFragment(truncate(split, 500), KEY)).toBe(KEY.slice(0, 8));
    expect(survivingFragment(redact(truncate(split, 500)), KEY)).toBeUndefined();
  });

  it("leaves runs of fewer than 8 key characters alone", () => {
    const text = `${KEY.slice(0, 7)} and ${KEY.slice(10, 17)}`;
    expect(redact(text)).toBe(text);
  });

  it("still gives one marker per whole occurrence", () => {
    expect(redact(`${KEY}${KEY} x ${KEY}`)).toBe(`${REDACTED}${REDACTED} x ${REDACTED}`);
  });

  it("redacts a 1 MB text with the key in it", () => {
    const big = `${"ab cd ".repeat(170_000)}${KEY}${"y".repeat(1000)}`;
    const out = redact(big);
    expect(out).toContain(REDACTED);
    expect(survivingFragment(out, KEY)).toBeUndefined();
  });
});

describe("createRedactor: property, the key cut anywhere", () => {
  const keyArb = fc
    .stringMatching(/^[A-Za-z0-9_-]{16,64}$/)
    // The marker itself reads "REDACTED": a key containing it cannot be told apart from the marker.
    .filter((k) => !k.includes("REDACTED"));
  const noise = fc.string({
    unit: fc.constantFrom(...'ab01_-xyZ {}":,.\n\t'.split("")),
    maxLength: 400,
  });
  const whitespace = fc.constantFrom(" ", "\n", "\r\n", "\t", "  \n ");

  /** The key with whitespace inserted at random places, between random text, possibly twice. */
  const embedded = fc
    .record({
      key: keyArb,
      before: noise,
      after: noise,
      inserts: fc.array(fc.tuple(fc.nat(), whitespace), { maxLength: 4 }),
      twice: fc.boolean(),
    })
    .map(({ key, before, after, inserts, twice }) => {
      let spaced = key;
      for (const [at, ws] of inserts) {
        const i = 1 + (at % (spaced.length - 1));
        spaced = `${spaced.slice(0, i)}${ws}${spaced.slice(i)}`;
      }
      return { key, text: `${before}${spaced}${after}${twice ? ` ${spaced}` : ""}` };
    });

  it("no 8-character run of the key survives, whether the text is cut before or after redaction", () => {
    fc.assert(
      fc.property(embedded, fc.nat(), fc.nat(), ({ key, text }, a, b) => {
        const redact = createRedactor([key]);
        const start = a % (text.length + 1);
        const end = start + (b % (text.length - start + 1));
        const max = 2 + (b % (text.length + 2));
        for (const output of [
          redact(text),
          truncate(redact(text), max),
          redact(truncate(text, max)),
          redact(text.slice(start, end)),
        ]) {
          expect(survivingFragment(output, key)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });
});
