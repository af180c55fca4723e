import { describe, expect, it } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";
import type { DiditLivenessResponse } from "../../src/didit/response-schema.js";
import { assessLiveness, deriveNextAction } from "../../src/flows/liveness/assess.js";
import type { NextAction } from "../../src/warnings/types.js";

/** A warning as Didit sends it; usable both as a LivenessWarning and inside a raw response. */
function w(risk: string, log_type = "error") {
  return {
    risk,
    log_type,
    short_description: `${risk} short`,
    long_description: `${risk} long`,
    feature: null,
    additional_data: null,
  };
}

/** The documented log_type of each tag on this endpoint (configurable ones arrive as whatever the operator set). */
const LOG_TYPE: Record<string, string> = {
  NO_FACE_DETECTED: "error",
  LIVENESS_FACE_ATTACK: "error",
  LOW_LIVENESS_SCORE: "error",
  FACE_IN_BLOCKLIST: "error",
  POSSIBLE_FACE_IN_BLOCKLIST: "error",
  MULTIPLE_FACES_DETECTED: "warning",
  DUPLICATED_FACE: "information",
  POSSIBLE_DUPLICATED_FACE: "information",
  LOW_FACE_QUALITY: "warning",
  LOW_FACE_LUMINANCE: "warning",
  HIGH_FACE_LUMINANCE: "warning",
};

// [tag, next_action when Declined, next_action when Approved], written out by hand from the catalog's rules.
const TABLE: ReadonlyArray<[tag: string, declined: NextAction, approved: NextAction]> = [
  ["NO_FACE_DETECTED", "retake", "review"],
  ["LIVENESS_FACE_ATTACK", "reject", "reject"],
  ["LOW_LIVENESS_SCORE", "retake", "review"],
  ["FACE_IN_BLOCKLIST", "reject", "reject"],
  ["POSSIBLE_FACE_IN_BLOCKLIST", "review", "review"],
  ["MULTIPLE_FACES_DETECTED", "review", "review"],
  ["DUPLICATED_FACE", "review", "review"],
  ["POSSIBLE_DUPLICATED_FACE", "review", "review"],
  ["LOW_FACE_QUALITY", "retake", "proceed"],
  ["LOW_FACE_LUMINANCE", "retake", "proceed"],
  ["HIGH_FACE_LUMINANCE", "retake", "proceed"],
];

describe("deriveNextAction: one documented tag", () => {
  it("covers all 11 documented tags", () => {
    expect(TABLE).toHaveLength(11);
  });

  it.each(TABLE)("%s: Declined -> %s, Approved -> %s", (tag, declined, approved) => {
    const warning = w(tag, LOG_TYPE[tag]);
    expect(deriveNextAction("Declined", [warning])).toBe(declined);
    expect(deriveNextAction("Approved", [warning])).toBe(approved);
  });

  it("does not depend on log_type for a known tag, except an error-level retake tag on Approved", () => {
    for (const [tag, declined, approved] of TABLE) {
      for (const logType of ["error", "warning", "information"]) {
        expect(deriveNextAction("Declined", [w(tag, logType)]), `${tag}/${logType}`).toBe(declined);
        const isRetakeTag = declined === "retake";
        const expected = isRetakeTag ? (logType === "error" ? "review" : "proceed") : approved;
        expect(deriveNextAction("Approved", [w(tag, logType)]), `${tag}/${logType}`).toBe(expected);
      }
    }
  });

  it("matches tags case- and separator-insensitively", () => {
    expect(deriveNextAction("Declined", [w("liveness-face-attack")])).toBe("reject");
    expect(deriveNextAction("Declined", [w(" low liveness score ")])).toBe("retake");
  });
});

describe("deriveNextAction: combinations", () => {
  const cases: ReadonlyArray<[string, "Approved" | "Declined", string[], NextAction]> = [
    ["reject beats retake", "Declined", ["LOW_LIVENESS_SCORE", "LIVENESS_FACE_ATTACK"], "reject"],
    ["reject beats review", "Declined", ["POSSIBLE_FACE_IN_BLOCKLIST", "FACE_IN_BLOCKLIST"], "reject"],
    [
      "reject beats review and retake",
      "Declined",
      ["NO_FACE_DETECTED", "DUPLICATED_FACE", "FACE_IN_BLOCKLIST"],
      "reject",
    ],
    ["review beats retake", "Declined", ["LOW_LIVENESS_SCORE", "POSSIBLE_FACE_IN_BLOCKLIST"], "review"],
    ["review (information) beats retake", "Declined", ["LOW_FACE_QUALITY", "DUPLICATED_FACE"], "review"],
    // Was "retake beats proceed" -> retake before issue 18, when MULTIPLE_FACES_DETECTED proceeded.
    [
      "review (multiple faces) beats retake",
      "Declined",
      ["MULTIPLE_FACES_DETECTED", "LOW_LIVENESS_SCORE"],
      "review",
    ],
    ["retake beats proceed", "Declined", ["LOW_LIVENESS_SCORE"], "retake"],
    ["two retakes stay retake", "Declined", ["LOW_FACE_LUMINANCE", "LOW_LIVENESS_SCORE"], "retake"],
    [
      "review on Approved beats proceed",
      "Approved",
      ["MULTIPLE_FACES_DETECTED", "POSSIBLE_DUPLICATED_FACE"],
      "review",
    ],
    ["reject on Approved", "Approved", ["DUPLICATED_FACE", "LIVENESS_FACE_ATTACK"], "reject"],
    [
      "retake tags on Approved are ignored",
      "Approved",
      ["LOW_FACE_QUALITY", "HIGH_FACE_LUMINANCE"],
      "proceed",
    ],
    [
      "retake ignored on Approved, review kept",
      "Approved",
      ["LOW_FACE_QUALITY", "DUPLICATED_FACE"],
      "review",
    ],
  ];

  it.each(cases)("%s", (_what, status, tags, expected) => {
    const warnings = tags.map((t) => w(t, LOG_TYPE[t]));
    expect(deriveNextAction(status, warnings)).toBe(expected);
    expect(deriveNextAction(status, [...warnings].reverse())).toBe(expected);
  });
});

describe("deriveNextAction: unknown tags and unexplained declines", () => {
  it("sends an unknown tag with log_type error to review, whatever the status", () => {
    expect(deriveNextAction("Declined", [w("FUTURE_DEEPFAKE_SIGNAL", "error")])).toBe("review");
    expect(deriveNextAction("Approved", [w("FUTURE_DEEPFAKE_SIGNAL", "error")])).toBe("review");
  });

  // Was proceed before issue 18: an unknown tag is something we do not understand, whatever its level.
  it("sends an unknown warning- or information-level tag on Approved to review", () => {
    expect(deriveNextAction("Approved", [w("FUTURE_HINT", "warning")])).toBe("review");
    expect(deriveNextAction("Approved", [w("FUTURE_HINT", "information")])).toBe("review");
  });

  it("sends a Declined with only an unknown warning-level tag to review", () => {
    expect(deriveNextAction("Declined", [w("FUTURE_HINT", "warning")])).toBe("review");
  });

  it("does not let an unknown error tag lower a reject", () => {
    expect(deriveNextAction("Declined", [w("FUTURE_X", "error"), w("FACE_IN_BLOCKLIST")])).toBe("reject");
  });

  it("lets an unknown error tag raise a retake to review", () => {
    expect(deriveNextAction("Declined", [w("LOW_LIVENESS_SCORE"), w("FUTURE_X", "error")])).toBe("review");
  });

  it("sends a Declined with no warnings to review", () => {
    expect(deriveNextAction("Declined", [])).toBe("review");
  });

  it("sends a Declined with only MULTIPLE_FACES_DETECTED to review", () => {
    expect(deriveNextAction("Declined", [w("MULTIPLE_FACES_DETECTED", "warning")])).toBe("review");
  });

  it("lets an Approved with no warnings proceed", () => {
    expect(deriveNextAction("Approved", [])).toBe("proceed");
  });
});

function response(
  liveness: Partial<DiditLivenessResponse["liveness"]> & { status: string },
  extra: Partial<DiditLivenessResponse> = {},
): DiditLivenessResponse {
  return {
    request_id: "a1b2c3d4-e5f6-7890-1234-567890abcdef",
    liveness: {
      method: "PASSIVE",
      score: 95,
      user_image: {
        entities: [{ bbox: [661, 728, 1688, 2188], confidence: 0.73, age: 26.91, gender: "male" }],
        best_angle: 0,
      },
      warnings: [],
      face_quality: 84.21,
      face_luminance: 50.33,
      ...liveness,
    },
    created_at: "2026-06-12T01:04:42.763237+00:00",
    ...extra,
  };
}

const FORBIDDEN_WORDS = ["spoof", "attack", "blocklist", "fraud", "duplicate"];

describe("assessLiveness", () => {
  it("marks Approved as live and copies the fields", () => {
    const a = assessLiveness(
      response({ status: "Approved" }, { vendor_data: "user-123", metadata: { a: 1 } }),
      {
        includeFaceAttributes: false,
      },
    );
    expect(a.is_live).toBe(true);
    expect(a.status).toBe("Approved");
    expect(a.next_action).toBe("proceed");
    expect(a.request_id).toBe("a1b2c3d4-e5f6-7890-1234-567890abcdef");
    expect(a.score).toBe(95);
    expect(a.face_quality).toBe(84.21);
    expect(a.face_luminance).toBe(50.33);
    expect(a.best_angle).toBe(0);
    expect(a.faces_detected).toBe(1);
    expect(a.vendor_data).toBe("user-123");
    expect(a.metadata).toEqual({ a: 1 });
    expect(a.created_at).toBe("2026-06-12T01:04:42.763237+00:00");
    // The summary is relayed to the person as it is, and the prompt says not to disclose scores: it has none.
    expect(a.summary).not.toMatch(/\d/);
  });

  it.each([
    ["Approved", [] as string[]],
    ["Declined", ["LOW_LIVENESS_SCORE"]],
    ["Declined", ["LOW_FACE_LUMINANCE"]],
  ] as const)("a %s summary (%j) carries no score", (status, tags) => {
    const a = assessLiveness(response({ status, score: 27.5, warnings: tags.map((t) => w(t)) }), {
      includeFaceAttributes: false,
    });
    expect(a.score).toBe(27.5);
    expect(a.summary).not.toMatch(/27|score \d|\/100/);
  });

  it("marks Declined as not live, even when the next action is retake", () => {
    const a = assessLiveness(
      response({ status: "Declined", score: 12, warnings: [w("LOW_LIVENESS_SCORE")] }),
      {
        includeFaceAttributes: false,
      },
    );
    expect(a.is_live).toBe(false);
    expect(a.next_action).toBe("retake");
  });

  it("is_live is false for every Declined, whatever the warnings", () => {
    for (const [tag] of TABLE) {
      const a = assessLiveness(response({ status: "Declined", warnings: [w(tag, LOG_TYPE[tag])] }), {
        includeFaceAttributes: false,
      });
      expect(a.is_live, tag).toBe(false);
    }
  });

  it("omits age and gender keys unless includeFaceAttributes", () => {
    const a = assessLiveness(response({ status: "Approved" }), { includeFaceAttributes: false });
    expect(a.faces).toHaveLength(1);
    const face = a.faces[0];
    expect(face).toBeDefined();
    expect(Object.keys(face ?? {}).sort()).toEqual(["bbox", "confidence"]);
    expect("age" in (face ?? {})).toBe(false);
    expect("gender" in (face ?? {})).toBe(false);
    expect(JSON.stringify(a)).not.toMatch(/"age"|"gender"|male/);
  });

  it("includes age and gender when asked", () => {
    const a = assessLiveness(response({ status: "Approved" }), { includeFaceAttributes: true });
    expect(a.faces[0]).toEqual({
      bbox: [661, 728, 1688, 2188],
      confidence: 0.73,
      age: 26.91,
      gender: "male",
    });
  });

  it("includes age and gender as null when asked but absent", () => {
    const a = assessLiveness(
      response({ status: "Approved", user_image: { entities: [{ bbox: [1, 2, 3, 4] }], best_angle: 0 } }),
      { includeFaceAttributes: true },
    );
    expect(a.faces[0]).toEqual({ bbox: [1, 2, 3, 4], confidence: null, age: null, gender: null });
  });

  it("gives nulls and zero faces for a no-face answer", () => {
    const a = assessLiveness(
      response({
        status: "Declined",
        score: null,
        face_quality: null,
        face_luminance: null,
        user_image: { entities: [], best_angle: null },
        warnings: [{ risk: "NO_FACE_DETECTED", log_type: "error" }],
      }),
      { includeFaceAttributes: true },
    );
    expect(a.score).toBeNull();
    expect(a.face_quality).toBeNull();
    expect(a.face_luminance).toBeNull();
    expect(a.best_angle).toBeNull();
    expect(a.faces_detected).toBe(0);
    expect(a.faces).toEqual([]);
    expect(a.is_live).toBe(false);
    expect(a.next_action).toBe("retake");
    expect(a.warnings).toEqual([
      {
        risk: "NO_FACE_DETECTED",
        log_type: "error",
        short_description: "",
        long_description: "",
        feature: null,
        additional_data: null,
      },
    ]);
  });

  it("copes with user_image, warnings and optional top-level fields all missing", () => {
    const a = assessLiveness(
      { request_id: "r", liveness: { status: "Approved", user_image: null, warnings: null } },
      { includeFaceAttributes: false },
    );
    expect(a.faces_detected).toBe(0);
    expect(a.best_angle).toBeNull();
    expect(a.warnings).toEqual([]);
    expect(a.score).toBeNull();
    expect(a.vendor_data).toBeNull();
    expect(a.created_at).toBeNull();
    expect("metadata" in a).toBe(false);
  });

  it.each(["Pending", "In Review", "approved", ""])("refuses status %j with invalid_response", (status) => {
    let thrown: unknown;
    try {
      assessLiveness(response({ status }), { includeFaceAttributes: false });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ToolFailure);
    expect((thrown as ToolFailure).code).toBe("invalid_response");
    expect((thrown as ToolFailure).hint).toMatch(/billed/);
  });

  const summaryCases: ReadonlyArray<[string, "Approved" | "Declined", string[], NextAction]> = [
    ["attack", "Declined", ["LIVENESS_FACE_ATTACK"], "reject"],
    ["blocklist", "Declined", ["FACE_IN_BLOCKLIST"], "reject"],
    ["possible blocklist", "Declined", ["POSSIBLE_FACE_IN_BLOCKLIST"], "review"],
    ["duplicate on Declined", "Declined", ["DUPLICATED_FACE", "LOW_LIVENESS_SCORE"], "review"],
    ["duplicate on Approved", "Approved", ["DUPLICATED_FACE"], "review"],
    ["possible duplicate on Approved", "Approved", ["POSSIBLE_DUPLICATED_FACE"], "review"],
    ["unexplained decline", "Declined", [], "review"],
    ["unknown error tag", "Approved", ["FUTURE_SPOOF_ATTACK_FRAUD"], "review"],
  ];

  it.each(summaryCases)(
    "the %s summary is one line and discloses no fraud signal",
    (_what, status, tags, action) => {
      const a = assessLiveness(
        response({ status, score: 3, warnings: tags.map((t) => w(t, LOG_TYPE[t] ?? "error")) }),
        { includeFaceAttributes: false },
      );
      expect(a.next_action).toBe(action);
      expect(a.summary.trim()).not.toBe("");
      expect(a.summary).not.toMatch(/[\r\n]/);
      for (const word of FORBIDDEN_WORDS) expect(a.summary.toLowerCase()).not.toContain(word);
      expect(a.summary).not.toMatch(/\b3\b/);
    },
  );

  it.each([
    ["proceed", response({ status: "Approved", score: 87.25 })],
    ["retake", response({ status: "Declined", score: 20, warnings: [w("LOW_FACE_LUMINANCE", "error")] })],
    ["retake (no face)", response({ status: "Declined", score: null, warnings: [w("NO_FACE_DETECTED")] })],
  ])("the %s summary is one non-empty line", (_what, r) => {
    const a = assessLiveness(r, { includeFaceAttributes: false });
    expect(a.summary.trim()).not.toBe("");
    expect(a.summary).not.toMatch(/[\r\n]/);
  });

  it("a retake summary relays the neutral user message of the tag", () => {
    const a = assessLiveness(
      response({ status: "Declined", score: 20, warnings: [w("LOW_FACE_LUMINANCE", "error")] }),
      {
        includeFaceAttributes: false,
      },
    );
    expect(a.summary).toMatch(/too dark/);
  });

  it("passes unknown tags through in warnings", () => {
    const a = assessLiveness(response({ status: "Approved", warnings: [w("FUTURE_HINT", "information")] }), {
      includeFaceAttributes: false,
    });
    expect(a.warnings.map((x) => x.risk)).toEqual(["FUTURE_HINT"]);
    // Was proceed before issue 18: an unknown tag goes to a human.
    expect(a.next_action).toBe("review");
  });
});

// Issue 18: never proceed on an answer we do not understand; a second face is what a replay beside a face looks like.
describe("deriveNextAction: what we do not understand is at least review", () => {
  it.each(["error", "warning", "information", "critical", ""])(
    "an unknown tag with log_type %j on Approved goes to review",
    (logType) => {
      expect(deriveNextAction("Approved", [w("FUTURE_SIGNAL", logType)])).toBe("review");
    },
  );

  it.each(["critical", "fatal", "ERROR "])(
    "a known tag with the unknown log_type %j on Approved goes to review",
    (logType) => {
      expect(deriveNextAction("Approved", [w("LOW_FACE_QUALITY", logType)])).toBe("review");
    },
  );

  it("MULTIPLE_FACES_DETECTED (warning, not a decline) on Approved goes to review", () => {
    expect(deriveNextAction("Approved", [w("MULTIPLE_FACES_DETECTED", "warning")])).toBe("review");
  });
});
