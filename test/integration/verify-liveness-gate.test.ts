/**
 * verify_selfie acts on the liveness step's own assessment, not only on Didit's status: an Approved liveness
 * answer that still says reject (an attack or blocklist tag) stops the flow before the face match, its reserved
 * credit is given back, and identity_verified is true only when the combined next_action is proceed. The CLI's
 * `verify` prints and exits the same way. All against the loopback double, over a real MCP client.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";
import { FACE_MATCH_PATH, LIVENESS_PATH, TEST_API_KEY, UNKNOWN_ERROR_TAG } from "../support/didit-double.js";
import { FIXTURES, startInMemory, testConfig, textOf, useDoubleSession } from "../support/in-memory.js";

const PAIR = { user_image_path: "live_silentface_T1.jpg", ref_image_path: "syn_astronaut.jpg" };

const env = useDoubleSession();

/** A documented-shape 200 that says Approved yet carries `risk` (as a workflow that maps it to a warning may). */
function approvedWith(risk: string, logType: "error" | "warning" = "warning") {
  const body = {
    request_id: "a1b2c3d4-e5f6-7890-1234-567890abcdef",
    liveness: {
      status: "Approved",
      method: "PASSIVE",
      score: 95,
      user_image: {
        entities: [{ bbox: [661, 728, 1688, 2188], confidence: 0.73, age: 26.9, gender: "male", race: null }],
        best_angle: 0,
      },
      warnings: [
        {
          risk,
          feature: "LIVENESS",
          additional_data: null,
          log_type: logType,
          short_description: risk,
          long_description: risk,
        },
      ],
      face_quality: 84.2,
      face_luminance: 50.3,
    },
    vendor_data: null,
    metadata: null,
    created_at: "2026-06-12T01:04:42.763237+00:00",
  };
  return { kind: "status" as const, status: 200, body: JSON.stringify(body) };
}

interface Verification {
  identity_verified: boolean;
  next_action: string;
  summary: string;
  liveness: { status: string; next_action: string } | null;
  face_match: { status: string; next_action: string } | null;
  face_match_skipped_reason: string | null;
  credits_used: number;
}
const verificationOf = (r: { structuredContent?: unknown }) => r.structuredContent as unknown as Verification;

describe("verify_selfie after a liveness answer that says reject", () => {
  it.each(["LIVENESS_FACE_ATTACK", "FACE_IN_BLOCKLIST"])(
    "Approved with %s: no face match, one credit, identity not verified, next_action reject",
    async (risk) => {
      env.double.enqueue(approvedWith(risk));
      const result = await env.session.call("verify_selfie", PAIR);
      expect(result.isError, textOf(result)).toBeFalsy();
      const v = verificationOf(result);
      expect(v.liveness).toMatchObject({ status: "Approved", next_action: "reject" });
      expect(v).toMatchObject({
        identity_verified: false,
        next_action: "reject",
        face_match: null,
        credits_used: 1,
      });
      expect(v.face_match_skipped_reason).toMatch(/reject/);
      expect(v.summary).not.toMatch(/identity verified|matches the reference/i);
      expect(env.double.requestsTo(LIVENESS_PATH)).toHaveLength(1);
      expect(env.double.requestsTo(FACE_MATCH_PATH)).toHaveLength(0);
    },
  );

  it("gives the face match's reserved check back to the per-minute budget", async () => {
    // A budget of 2: the verification reserves both, and must return the one it did not use.
    const tight = await startInMemory(
      testConfig({
        apiKey: TEST_API_KEY,
        baseUrl: env.double.url,
        allowedDirs: [FIXTURES],
        maxChecksPerMinute: 2,
      }),
    );
    try {
      env.double.enqueue(approvedWith("LIVENESS_FACE_ATTACK"));
      expect(verificationOf(await tight.call("verify_selfie", PAIR)).face_match).toBeNull();
      const next = await tight.call("check_passive_liveness", { image_path: "live_silentface_T1.jpg" });
      expect(next.isError, textOf(next)).toBeFalsy();
      expect(env.double.requestsTo(FACE_MATCH_PATH)).toHaveLength(0);
      expect(env.double.requestsTo(LIVENESS_PATH)).toHaveLength(2);
    } finally {
      await tight.close();
    }
  });
});

describe("verify_selfie after a liveness answer that says review", () => {
  it("runs the match, keeps next_action at review, and does not call the identity verified", async () => {
    // An unknown error-level tag on an Approved answer goes to a human.
    env.double.enqueue(approvedWith(UNKNOWN_ERROR_TAG, "error"));
    env.double.enqueueMatch({ kind: "score", score: 90 });
    const result = await env.session.call("verify_selfie", PAIR);
    expect(result.isError, textOf(result)).toBeFalsy();
    const v = verificationOf(result);
    expect(v.liveness).toMatchObject({ status: "Approved", next_action: "review" });
    expect(v.face_match).toMatchObject({ status: "Approved", next_action: "proceed" });
    expect(v).toMatchObject({ identity_verified: false, next_action: "review", credits_used: 2 });
    expect(v.summary).toMatch(/review/);
    expect(env.double.requestsTo(FACE_MATCH_PATH)).toHaveLength(1);
  });

  it("a clean pair is still verified: identity_verified true exactly when next_action is proceed", async () => {
    const v = verificationOf(await env.session.call("verify_selfie", PAIR));
    expect(v).toMatchObject({ identity_verified: true, next_action: "proceed", credits_used: 2 });
  });
});

describe("CLI verify", () => {
  const cli = (...args: string[]) =>
    runCliInProcess(
      [
        "verify",
        path.join(FIXTURES, PAIR.user_image_path),
        path.join(FIXTURES, PAIR.ref_image_path),
        ...args,
      ],
      { env: { DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: env.double.url } },
    );

  it("an Approved liveness with LIVENESS_FACE_ATTACK: 'Identity verified: no', next action reject, exit 1, no match", async () => {
    env.double.enqueue(approvedWith("LIVENESS_FACE_ATTACK"));
    const run = await cli();
    expect(run.stdout).toMatch(/^Identity verified: no · next action: reject · credits used: 1$/m);
    expect(run.stdout).toMatch(/2\. Face match: skipped/);
    expect(run.code).toBe(1);
    expect(env.double.requestsTo(FACE_MATCH_PATH)).toHaveLength(0);
  });

  it("a liveness review with a matching face: 'Identity verified: no', next action review, exit 1", async () => {
    env.double.enqueue(approvedWith(UNKNOWN_ERROR_TAG, "error"));
    env.double.enqueueMatch({ kind: "score", score: 90 });
    const run = await cli("--json");
    const v = JSON.parse(run.stdout) as Verification;
    expect(v).toMatchObject({ identity_verified: false, next_action: "review" });
    expect(run.code).toBe(1);
  });

  it("a clean pair: 'Identity verified: yes', next action proceed, exit 0", async () => {
    const run = await cli();
    expect(run.stdout).toMatch(/^Identity verified: yes · next action: proceed/m);
    expect(run.code).toBe(0);
  });
});
