import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { editDistance, nearestOption } from "../../src/config/known-options.js";

describe("nearestOption", () => {
  const names = ["threshold", "liveness-threshold", "match-threshold", "rotate", "json", "out", "yes"];

  it("suggests the one option a typo is close to, or the one a prefix begins", () => {
    expect(nearestOption("--treshold", names)).toBe("--threshold");
    expect(nearestOption("--thresold", names)).toBe("--threshold");
    expect(nearestOption("--rotaet", names)).toBe("--rotate"); // two neighbours swapped: one edit
    expect(nearestOption("--liveness", names)).toBe("--liveness-threshold");
    expect(nearestOption("--jsn", names)).toBe("--json");
  });

  it("suggests nothing when nothing is close, two are equally close, or the word is mostly edits", () => {
    expect(nearestOption("--frobnicate", names)).toBeUndefined();
    expect(nearestOption("--ou", ["out", "our"])).toBeUndefined();
    expect(nearestOption("--x", names)).toBeUndefined();
  });
});

describe("editDistance", () => {
  it("is zero only for equal words, symmetric, and at most the longer length", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(d === 0).toBe(a === b);
        expect(editDistance(b, a)).toBe(d);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});
