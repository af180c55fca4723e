import { describe, expect, it } from "vitest";
import type { DiditClient } from "../../src/didit/client.js";
import { createSandboxClient } from "../../src/didit/sandbox-client.js";
import { assessFaceMatch } from "../../src/flows/face-match/assess.js";
import { runSelfieVerification } from "../../src/flows/face-match/verify.js";
import { stricterAction } from "../../src/flows/steps.js";
import { rejectionOf } from "../support/expectations.js";

const JPEG_BASE64 = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]).toString(
  "base64",
);

const response = (faceMatch: Record<string, unknown>) => ({
  request_id: "r-1",
  face_match: { status: "Declined", score: null, warnings: [], ...faceMatch },
});
const warn = (risk: string) => ({ risk, log_type: "error" });

describe("assessFaceMatch", () => {
  it("treats the save_api_request=false score 0 of a faceless pair as no score", () => {
    const a = assessFaceMatch(response({ score: 0, warnings: [warn("NO_REFERENCE_IMAGE")] }));
    expect(a).toMatchObject({ score: null, next_action: "retake", is_match: false });
  });

  it("low similarity goes to a human, never reject; unknown statuses are invalid_response", () => {
    expect(
      assessFaceMatch(response({ score: 10, warnings: [warn("LOW_FACE_MATCH_SIMILARITY")] })).next_action,
    ).toBe("review");
    expect(assessFaceMatch(response({ warnings: [warn("LIVENESS_FACE_ATTACK")] })).next_action).toBe(
      "review",
    );
    expect(() => assessFaceMatch(response({ status: "Pending" }))).toThrow(/not documented/);
  });
});

describe("stricterAction", () => {
  it("orders reject > review > retake > proceed", () => {
    expect(stricterAction("proceed", "retake")).toBe("retake");
    expect(stricterAction("review", "retake")).toBe("review");
    expect(stricterAction("reject", "review")).toBe("reject");
    expect(stricterAction("proceed", "proceed")).toBe("proceed");
  });
});

describe("runSelfieVerification", () => {
  it("a cancel after the liveness answer makes no face match and says a credit was used", async () => {
    const sandbox = createSandboxClient();
    const controller = new AbortController();
    let matches = 0;
    const client: DiditClient = {
      async checkPassiveLiveness(image, params, call) {
        const answer = await sandbox.checkPassiveLiveness(image, params, call);
        controller.abort();
        return answer;
      },
      async matchFaces(...args) {
        matches++;
        return sandbox.matchFaces(...args);
      },
      close: async () => {},
    };
    const released: number[] = [];
    const failure = await rejectionOf(
      runSelfieVerification(
        { allowedDirs: async () => [], client, releaseCheck: (n = 1) => released.push(n) },
        { user_image_base64: JPEG_BASE64, ref_image_base64: JPEG_BASE64 },
        { signal: controller.signal },
      ),
    );
    expect(failure.code).toBe("cancelled");
    expect(failure.message).toMatch(/after the liveness check; no face match was requested.*one credit/);
    expect(matches).toBe(0);
    expect(released).toEqual([1]);
  });

  it("precheck: true without the engine refuses before any upload", async () => {
    let calls = 0;
    const client = createSandboxClient();
    const counting: DiditClient = {
      ...client,
      checkPassiveLiveness: (...a) => {
        calls++;
        return client.checkPassiveLiveness(...a);
      },
    };
    const failure = await rejectionOf(
      runSelfieVerification(
        { allowedDirs: async () => [], client: counting },
        { user_image_base64: JPEG_BASE64, ref_image_base64: JPEG_BASE64, precheck: true },
      ),
    );
    expect(failure.code).toBe("not_configured");
    expect(calls).toBe(0);
  });
});

describe("assessFaceMatch: what we do not understand is at least review", () => {
  const approved = (warnings: { risk: string; log_type: string }[]) => ({
    request_id: "r-2",
    face_match: {
      status: "Approved",
      score: 91,
      user_image: { entities: [{ bbox: [1, 2, 30, 40], confidence: 0.99 }], best_angle: 0 },
      ref_image: { entities: [{ bbox: [1, 2, 30, 40], confidence: 0.98 }], best_angle: 0 },
      warnings,
    },
  });

  it.each(["information", "critical"])(
    "an unknown tag (log_type %s) on an Approved match goes to review",
    (logType) => {
      const a = assessFaceMatch(approved([{ risk: "FUTURE_MATCH_SIGNAL", log_type: logType }]));
      expect(a.next_action).toBe("review");
    },
  );
});
