import { describe, expect, it } from "vitest";
import {
  DOCUMENTED_TAGS,
  findWarning,
  LOCAL_ONLY_TAGS,
  normalizeTag,
  WARNING_CATALOG,
} from "../../src/warnings/catalog.js";
import type { NextAction, Severity } from "../../src/warnings/types.js";

type Row = [tag: string, severity: Severity, declines: boolean, next: NextAction];

/** The 11 tags Didit documents for passive liveness, then the 2 face-match ones, in contract order. */
const DOCUMENTED: ReadonlyArray<Row> = [
  ["NO_FACE_DETECTED", "error", true, "retake"],
  ["LIVENESS_FACE_ATTACK", "error", true, "reject"],
  ["LOW_LIVENESS_SCORE", "error", true, "retake"],
  ["FACE_IN_BLOCKLIST", "error", true, "reject"],
  ["POSSIBLE_FACE_IN_BLOCKLIST", "error", true, "review"],
  // Issue 18: a warning, not a decline, but a second face is what a replay beside a live face looks like.
  ["MULTIPLE_FACES_DETECTED", "warning", false, "review"],
  ["DUPLICATED_FACE", "information", false, "review"],
  ["POSSIBLE_DUPLICATED_FACE", "information", false, "review"],
  ["LOW_FACE_QUALITY", "configurable", false, "retake"],
  ["LOW_FACE_LUMINANCE", "configurable", false, "retake"],
  ["HIGH_FACE_LUMINANCE", "configurable", false, "retake"],
  ["LOW_FACE_MATCH_SIMILARITY", "error", true, "review"],
  ["NO_REFERENCE_IMAGE", "error", true, "retake"],
];
/** Which results each tag can come back in (the rest: liveness only). */
const APPLIES_TO: Record<string, string[]> = {
  NO_FACE_DETECTED: ["liveness", "face_match"],
  LOW_FACE_MATCH_SIMILARITY: ["face_match"],
  NO_REFERENCE_IMAGE: ["face_match"],
  FACE_TOO_SMALL: ["liveness", "face_match"],
};
/** Raised only by the on-device pre-check (precheck_face_image), after the documented tags. */
const LOCAL_ONLY: ReadonlyArray<Row> = [
  ["FACE_TOO_SMALL", "warning", false, "retake"],
  ["SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION", "warning", false, "retake"],
];
const EXPECTED: ReadonlyArray<Row> = [...DOCUMENTED, ...LOCAL_ONLY];

describe("WARNING_CATALOG", () => {
  it("holds exactly the 13 documented tags, once each, in contract order, then the local-only ones", () => {
    const tags = WARNING_CATALOG.map((e) => e.tag);
    expect(tags).toEqual(EXPECTED.map(([tag]) => tag));
    expect(new Set(tags).size).toBe(15);
  });

  it("says which results each tag applies to", () => {
    for (const e of WARNING_CATALOG) {
      expect([...e.applies_to], e.tag).toEqual(APPLIES_TO[e.tag] ?? ["liveness"]);
    }
  });

  it("DOCUMENTED_TAGS lists the 13 documented tags; LOCAL_ONLY_TAGS the pre-check's own", () => {
    expect(DOCUMENTED_TAGS).toEqual(DOCUMENTED.map(([tag]) => tag));
    expect(DOCUMENTED_TAGS).toHaveLength(13);
    expect(LOCAL_ONLY_TAGS).toEqual(["FACE_TOO_SMALL", "SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION"]);
    expect(Object.isFrozen(DOCUMENTED_TAGS)).toBe(true);
    expect(Object.isFrozen(LOCAL_ONLY_TAGS)).toBe(true);
  });

  it("local-only tags say so in their explanation and never decline", () => {
    for (const tag of LOCAL_ONLY_TAGS) {
      const e = findWarning(tag);
      expect(e?.explanation, tag).toMatch(/^Local-only tag/);
      expect(e?.explanation, tag).toMatch(/never returned by Didit/);
      expect(e?.declines, tag).toBe(false);
    }
  });

  it("DOCUMENTED_TAGS lists the documented tags in catalog order, without the local-only ones", () => {
    expect(DOCUMENTED_TAGS).toEqual(DOCUMENTED.map(([tag]) => tag));
  });

  it.each(EXPECTED)("%s has severity %s, declines %s, next_action %s", (tag, severity, declines, next) => {
    const e = WARNING_CATALOG.find((w) => w.tag === tag);
    expect(e).toBeDefined();
    expect(e?.severity).toBe(severity);
    expect(e?.declines).toBe(declines);
    expect(e?.next_action).toBe(next);
  });

  it.each(WARNING_CATALOG.map((e) => [e.tag, e] as const))("%s has every field filled", (_tag, e) => {
    for (const field of ["tag", "title", "explanation", "agent_guidance", "user_message"] as const) {
      expect(e[field].trim(), field).not.toBe("");
    }
    expect(e.likely_causes.length).toBeGreaterThanOrEqual(2);
    expect(e.likely_causes.length).toBeLessThanOrEqual(5);
    for (const cause of e.likely_causes) expect(cause.trim()).not.toBe("");
  });

  it("configurable tags say in the explanation that an operator can make them decline", () => {
    for (const e of WARNING_CATALOG.filter((w) => w.severity === "configurable")) {
      expect(e.explanation, e.tag).toMatch(/operator/i);
      expect(e.explanation, e.tag).toMatch(/decline/i);
    }
  });

  it("reject and review user messages reveal nothing about fraud detection", () => {
    const guarded = WARNING_CATALOG.filter((e) => e.next_action === "reject" || e.next_action === "review");
    expect(guarded.map((e) => e.tag).sort()).toEqual(
      [
        "DUPLICATED_FACE",
        "FACE_IN_BLOCKLIST",
        "LIVENESS_FACE_ATTACK",
        "LOW_FACE_MATCH_SIMILARITY",
        "MULTIPLE_FACES_DETECTED",
        "POSSIBLE_DUPLICATED_FACE",
        "POSSIBLE_FACE_IN_BLOCKLIST",
      ].sort(),
    );
    for (const e of guarded) {
      expect(e.user_message, e.tag).not.toMatch(/spoof|attack|blocklist|fraud|duplicate/i);
    }
  });

  it("is deeply frozen", () => {
    const first = WARNING_CATALOG[0];
    if (!first) throw new Error("empty catalog");
    expect(Object.isFrozen(WARNING_CATALOG)).toBe(true);
    expect(Object.isFrozen(DOCUMENTED_TAGS)).toBe(true);
    for (const e of WARNING_CATALOG) {
      expect(Object.isFrozen(e), e.tag).toBe(true);
      expect(Object.isFrozen(e.likely_causes), e.tag).toBe(true);
    }
    expect(() => {
      (WARNING_CATALOG as WarningEntryArray)[0] = first;
    }).toThrow(TypeError);
    expect(() => {
      (WARNING_CATALOG as WarningEntryArray).push(first);
    }).toThrow(TypeError);
    expect(() => {
      first.severity = "information";
    }).toThrow(TypeError);
    expect(() => {
      first.likely_causes.push("x");
    }).toThrow(TypeError);
    expect(() => {
      first.likely_causes[0] = "x";
    }).toThrow(TypeError);
    expect(() => {
      (DOCUMENTED_TAGS as string[])[0] = "X";
    }).toThrow(TypeError);
    expect(first.severity).toBe("error");
  });
});

type WarningEntryArray = (typeof WARNING_CATALOG)[number][];

describe("normalizeTag", () => {
  it.each([
    ["LOW_FACE_LUMINANCE", "LOW_FACE_LUMINANCE"],
    ["low_face_luminance", "LOW_FACE_LUMINANCE"],
    ["Low_Face_Luminance", "LOW_FACE_LUMINANCE"],
    ["low face luminance", "LOW_FACE_LUMINANCE"],
    ["low-face-luminance", "LOW_FACE_LUMINANCE"],
    [" low-face luminance ", "LOW_FACE_LUMINANCE"],
    ["\tno  face -- detected\n", "NO_FACE_DETECTED"],
    ["no__face___detected", "NO_FACE_DETECTED"],
    ["no _-face", "NO_FACE"],
    ["", ""],
  ])("%j -> %j", (input, expected) => {
    expect(normalizeTag(input)).toBe(expected);
  });
});

describe("findWarning", () => {
  it("finds every tag by its exact name", () => {
    for (const e of WARNING_CATALOG) expect(findWarning(e.tag)).toBe(e);
  });

  it("finds tags written loosely", () => {
    expect(findWarning(" low-face luminance ")?.tag).toBe("LOW_FACE_LUMINANCE");
    expect(findWarning("liveness face attack")?.tag).toBe("LIVENESS_FACE_ATTACK");
  });

  it("returns undefined for unknown tags", () => {
    expect(findWarning("FACE_MATCH_SOMETHING")).toBeUndefined();
    expect(findWarning("SOMETHING_NEW")).toBeUndefined();
    expect(findWarning("")).toBeUndefined();
    expect(findWarning("toString")).toBeUndefined();
    expect(findWarning("__proto__")).toBeUndefined();
  });
});
