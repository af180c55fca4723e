import { describe, expect, it } from "vitest";
import { parseFaceMatchResponse, parseLivenessResponse } from "../../src/didit/client.js";
import { MAY_HAVE_BEEN_BILLED_HINT } from "../../src/didit/error-mapping.js";
import { DOCUMENTED_FACE, documentedLivenessBody } from "../support/didit-double.js";
import { failureOf } from "../support/expectations.js";

// Issue 18: "never proceed on an answer we do not understand". A 200 outside the ranges the OpenAPI documents is
// not a verdict (contract, "Ranges a real 200 keeps"): invalid_response, with the may-have-been-billed hint.

/** The contract's documented spoof example, verbatim. */
const DOCUMENTED_SPOOF =
  '{"request_id":"f1c8c9b2-d3e4-4f5a-9b8c-7d6e5f4a3b2c","liveness":{"status":"Declined","method":"PASSIVE","score":12.5,"user_image":{"entities":[{"bbox":[100,120,420,540],"confidence":0.81,"age":30.1,"gender":"female","race":null}],"best_angle":0},"warnings":[{"risk":"LOW_LIVENESS_SCORE","feature":"LIVENESS","additional_data":null,"log_type":"error","short_description":"Low liveness score","long_description":"The liveness check resulted in a low score, indicating potential use of non-live facial representations or poor-quality biometric data."},{"risk":"LIVENESS_FACE_ATTACK","feature":"LIVENESS","additional_data":null,"log_type":"error","short_description":"Liveness Face Attack","long_description":"The system detected a potential attempt to bypass the liveness check."}],"face_quality":72.4,"face_luminance":48.2},"vendor_data":"user-123","metadata":null,"created_at":"2026-06-12T01:04:42.763237+00:00"}';

const FACE = DOCUMENTED_FACE;
const approvedLiveness = documentedLivenessBody;

describe("parseLivenessResponse: documented ranges", () => {
  it("accepts the documented spoof example verbatim", () => {
    expect(parseLivenessResponse(DOCUMENTED_SPOOF).liveness.status).toBe("Declined");
  });

  it("accepts the newest form, a no-face decline and every documented best_angle", () => {
    for (const best_angle of [0, 90, 180, 270]) {
      const body = approvedLiveness({ user_image: { entities: [FACE], best_angle } });
      expect(parseLivenessResponse(JSON.stringify(body)).liveness.user_image?.best_angle).toBe(best_angle);
    }
    const noFace = approvedLiveness({
      status: "Declined",
      score: null,
      user_image: { entities: [], best_angle: null },
      warnings: [{ risk: "NO_FACE_DETECTED", feature: "LIVENESS", additional_data: null, log_type: "error" }],
      face_quality: null,
      face_luminance: null,
    });
    expect(parseLivenessResponse(JSON.stringify(noFace)).liveness.score).toBeNull();
    expect(
      parseLivenessResponse(JSON.stringify(approvedLiveness({ score: 0, face_quality: 100 }))).request_id,
    ).toBe("a1b2c3d4-e5f6-7890-1234-567890abcdef");
  });

  it.each<[string, unknown]>([
    ["an Approved with no face and no score", { request_id: "r", liveness: { status: "Approved" } }],
    ["an Approved without a score", approvedLiveness({ score: null })],
    ["an Approved with no entities", approvedLiveness({ user_image: { entities: [], best_angle: 0 } })],
    ["a score of 150", approvedLiveness({ score: 150 })],
    ["a negative score", approvedLiveness({ score: -1 })],
    ["face_quality 101", approvedLiveness({ face_quality: 101 })],
    ["face_luminance -5", approvedLiveness({ face_luminance: -5 })],
    [
      "a 2-number bbox",
      approvedLiveness({ user_image: { entities: [{ ...FACE, bbox: [1, 2] }], best_angle: 0 } }),
    ],
    [
      "a 5-number bbox",
      approvedLiveness({ user_image: { entities: [{ ...FACE, bbox: [1, 2, 3, 4, 5] }], best_angle: 0 } }),
    ],
    [
      "confidence 1.5",
      approvedLiveness({ user_image: { entities: [{ ...FACE, confidence: 1.5 }], best_angle: 0 } }),
    ],
    ["a best_angle of 45", approvedLiveness({ user_image: { entities: [FACE], best_angle: 45 } })],
    ["a face without best_angle", approvedLiveness({ user_image: { entities: [FACE], best_angle: null } })],
  ])("refuses %s with invalid_response and the billed hint", (_what, body) => {
    const f = failureOf(() => parseLivenessResponse(JSON.stringify(body)));
    expect(f.code).toBe("invalid_response");
    expect(f.hint).toBe(MAY_HAVE_BEEN_BILLED_HINT);
  });
});

const USER = { entities: [{ bbox: [661, 728, 1688, 2188], confidence: 0.99 }], best_angle: 0 };
const REF = { entities: [{ bbox: [212, 148, 498, 510], confidence: 0.98 }], best_angle: 0 };
const match = (faceMatch: Record<string, unknown> = {}) => ({
  request_id: "b1b2c3d4-e5f6-7890-1234-567890abcdef",
  face_match: {
    status: "Approved",
    score: 87.5,
    user_image: USER,
    ref_image: REF,
    warnings: [],
    ...faceMatch,
  },
  vendor_data: null,
  metadata: null,
  created_at: "2026-01-01T00:00:00Z",
});
const NO_REF = { entities: [], best_angle: null };
const noReference = {
  risk: "NO_REFERENCE_IMAGE",
  feature: "FACEMATCH",
  additional_data: null,
  log_type: "error",
};

describe("parseFaceMatchResponse: documented ranges", () => {
  it.each<[string, unknown]>([
    ["the documented Approved shape", match()],
    ["the older form (no vendor_data or metadata)", { request_id: "r", face_match: match().face_match }],
    ["an In Review (older skill text)", match({ status: "In Review", score: 45 })],
    [
      "a faceless pair scored null",
      match({ status: "Declined", score: null, ref_image: NO_REF, warnings: [noReference] }),
    ],
    [
      "a faceless pair scored 0",
      match({ status: "Declined", score: 0, ref_image: NO_REF, warnings: [noReference] }),
    ],
    ["unknown extra fields", { ...match({ extra: 1, user_image: { ...USER, more: true } }), new_field: [] }],
  ])("accepts %s", (_what, body) => {
    expect(parseFaceMatchResponse(JSON.stringify(body)).request_id).toBeTruthy();
  });

  it.each<[string, unknown]>([
    ["an Approved without a score", match({ score: null })],
    ["an Approved with no face in the reference", match({ ref_image: NO_REF })],
    ["an Approved with no image objects", match({ user_image: undefined, ref_image: undefined })],
    ["a score of 101", match({ score: 101 })],
    ["a negative score", match({ status: "Declined", score: -3 })],
    [
      "a 2-number bbox",
      match({ user_image: { entities: [{ bbox: [1, 2], confidence: 0.9 }], best_angle: 0 } }),
    ],
    [
      "confidence 2",
      match({ ref_image: { entities: [{ bbox: [1, 2, 3, 4], confidence: 2 }], best_angle: 0 } }),
    ],
    ["a best_angle of 45", match({ ref_image: { ...REF, best_angle: 45 } })],
  ])("refuses %s with invalid_response and the billed hint", (_what, body) => {
    const f = failureOf(() => parseFaceMatchResponse(JSON.stringify(body)));
    expect(f.code).toBe("invalid_response");
    expect(f.hint).toBe(MAY_HAVE_BEEN_BILLED_HINT);
  });
});
