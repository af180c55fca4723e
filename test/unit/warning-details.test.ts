import { describe, expect, it } from "vitest";
import { assessFaceMatch } from "../../src/flows/face-match/assess.js";
import { faceMatchResultSchema } from "../../src/flows/face-match/result.js";
import { assessLiveness } from "../../src/flows/liveness/assess.js";
import { livenessResultSchema } from "../../src/flows/liveness/result.js";
import { explainWarning } from "../../src/warnings/explain.js";

// Issue 18: warnings carry feature and additional_data (the session a blocklist or duplicate hit points to). They
// were dropped, so a reviewer could not find that session. Kept, bounded, in the result and its output schema.

const BLOCKLIST_DATA = {
  blocklisted_session_id: "882c42d5-8a4d-4d20-8080-a22f57822c86",
  blocklisted_session_number: 3242,
  api_service: null,
};

const liveness = (warnings: Record<string, unknown>[], status = "Declined") => ({
  request_id: "a1b2c3d4-e5f6-7890-1234-567890abcdef",
  liveness: {
    status,
    method: "PASSIVE",
    score: 96,
    user_image: { entities: [{ bbox: [1, 2, 30, 40], confidence: 0.9 }], best_angle: 0 },
    warnings: warnings.map((w) => ({
      log_type: "error",
      short_description: "s",
      long_description: "l",
      ...w,
    })) as unknown as { risk: string }[],
    face_quality: 80,
    face_luminance: 50,
  },
});

function deep(levels: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
}

describe("warning feature and additional_data", () => {
  it("keeps a blocklist hit's feature and additional_data in the liveness result and its output schema", () => {
    const a = assessLiveness(
      liveness([{ risk: "FACE_IN_BLOCKLIST", feature: "LIVENESS", additional_data: BLOCKLIST_DATA }]),
      { includeFaceAttributes: false },
    );
    expect(a.warnings[0]).toMatchObject({ feature: "LIVENESS", additional_data: BLOCKLIST_DATA });
    expect(livenessResultSchema.parse(a).warnings[0]?.additional_data).toEqual(BLOCKLIST_DATA);
  });

  it("says null for both when Didit sent none (the older form)", () => {
    const a = assessLiveness(liveness([{ risk: "LOW_LIVENESS_SCORE" }]), { includeFaceAttributes: false });
    expect(a.warnings[0]).toMatchObject({ feature: null, additional_data: null });
  });

  it("keeps a duplicate's session in a face-match result's warnings too", () => {
    const data = { duplicated_session_id: "11111111-2222-3333-4444-555555555555" };
    const a = assessFaceMatch({
      request_id: "r",
      face_match: {
        status: "Declined",
        score: 12,
        warnings: [
          {
            risk: "LOW_FACE_MATCH_SIMILARITY",
            log_type: "error",
            feature: "FACEMATCH",
            additional_data: data,
          },
        ],
      },
    });
    expect(a.warnings[0]).toMatchObject({ feature: "FACEMATCH", additional_data: data });
    expect(faceMatchResultSchema.parse(a).warnings[0]?.additional_data).toEqual(data);
  });

  it.each<[string, unknown]>([
    [
      "10,000 levels deep",
      { blocklisted_session_id: "keep-me", blocklisted_session_number: 7, extra: deep(10_000) },
    ],
    [
      "5,000 keys",
      {
        blocklisted_session_id: "keep-me",
        blocklisted_session_number: 7,
        ...Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, { i }])),
      },
    ],
    [
      "a 100 KB text",
      { blocklisted_session_id: "keep-me", blocklisted_session_number: 7, blob: "x".repeat(100_000) },
    ],
  ])("bounds additional_data %s and still keeps the session it points to", (_what, additional_data) => {
    const a = assessLiveness(liveness([{ risk: "FACE_IN_BLOCKLIST", additional_data }]), {
      includeFaceAttributes: false,
    });
    const kept = a.warnings[0]?.additional_data as Record<string, unknown>;
    expect(kept.blocklisted_session_id).toBe("keep-me");
    expect(kept.blocklisted_session_number).toBe(7);
    expect(JSON.stringify(a).length).toBeLessThan(8_000);
    expect(() => livenessResultSchema.parse(a)).not.toThrow();
  });

  it("drops an additional_data that is not an object, and never lets a __proto__ key become a prototype", () => {
    for (const additional_data of [["a"], "text", 5, true]) {
      const a = assessLiveness(liveness([{ risk: "FACE_IN_BLOCKLIST", additional_data }]), {
        includeFaceAttributes: false,
      });
      expect(a.warnings[0]?.additional_data).toBeNull();
    }
    const polluted = JSON.parse(`{"__proto__": {"polluted": 1}, "blob": "${"y".repeat(10_000)}"}`);
    const a = assessLiveness(liveness([{ risk: "FACE_IN_BLOCKLIST", additional_data: polluted }]), {
      includeFaceAttributes: false,
    });
    const kept = a.warnings[0]?.additional_data as Record<string, unknown>;
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["FACE_IN_BLOCKLIST", "blocklisted_session_id"],
    ["POSSIBLE_FACE_IN_BLOCKLIST", "blocklisted_session_id"],
    ["DUPLICATED_FACE", "duplicated_session_id"],
    ["POSSIBLE_DUPLICATED_FACE", "duplicated_session_id"],
  ])(
    "explain_warning %s tells a reviewer that additional_data.%s points to the matching session",
    (tag, field) => {
      const e = explainWarning(tag);
      expect(e.explanation).toContain("additional_data");
      expect(`${e.explanation} ${e.agent_guidance}`).toContain(field);
      expect(e.user_message).not.toContain("additional_data");
    },
  );
});
