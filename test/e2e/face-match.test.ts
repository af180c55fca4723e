import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";
import {
  type DiditDouble,
  FACE_MATCH_PATH,
  LIVENESS_PATH,
  startDiditDouble,
  TEST_API_KEY,
} from "../support/didit-double.js";
import { baseEnv, type SpawnedSession, spawnServer, textOf } from "../support/spawn.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const PAIR = {
  user_image_path: path.join(FIXTURES, "live_silentface_T1.jpg"),
  ref_image_path: path.join(FIXTURES, "syn_astronaut.jpg"),
};

let double: DiditDouble;
let session: SpawnedSession;

beforeAll(async () => {
  double = await startDiditDouble();
  session = await spawnServer({
    env: baseEnv({
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: double.url,
      DIDIT_TIMEOUT_MS: "5000",
      DIDIT_MAX_CHECKS_PER_MINUTE: "1000",
    }),
    args: ["--allow-dir", FIXTURES],
  });
});
afterEach(() => double.reset());
afterAll(async () => {
  await session.close();
  await double.close();
  expect(session.resultTexts.join("\n")).not.toContain(TEST_API_KEY);
  expect(session.stderr()).not.toContain(TEST_API_KEY);
  expect(session.transportErrors).toEqual([]);
});

const structured = (r: { structuredContent?: unknown }) => r.structuredContent as Record<string, unknown>;

describe("match_faces over stdio", () => {
  it("approved, declined, and the threshold edge (equal declines)", async () => {
    double.enqueueMatch(
      { kind: "score", score: 90 },
      { kind: "score", score: 20 },
      { kind: "score", score: 45 },
    );
    expect(structured(await session.call("match_faces", PAIR))).toMatchObject({
      status: "Approved",
      is_match: true,
      next_action: "proceed",
    });
    expect(structured(await session.call("match_faces", PAIR))).toMatchObject({
      status: "Declined",
      next_action: "review",
      warnings: [expect.objectContaining({ risk: "LOW_FACE_MATCH_SIMILARITY" })],
    });
    expect(
      structured(await session.call("match_faces", { ...PAIR, face_match_score_decline_threshold: 45 })),
    ).toMatchObject({ status: "Declined", score: 45 });
    expect(double.requestsTo(FACE_MATCH_PATH)).toHaveLength(3);
    expect(double.requestsTo(FACE_MATCH_PATH)[2]?.fields.face_match_score_decline_threshold).toBe("45");
  });

  it("no face in either image asks for a retake of that image", async () => {
    double.enqueueMatch({ kind: "no_face", image: "user" }, { kind: "no_face", image: "ref" });
    const user = structured(await session.call("match_faces", PAIR));
    expect(user).toMatchObject({ score: null, next_action: "retake", user_image: { faces_detected: 0 } });
    const ref = structured(await session.call("match_faces", PAIR));
    expect(ref).toMatchObject({ score: null, next_action: "retake", ref_image: { faces_detected: 0 } });
  });
});

describe("verify_selfie over stdio", () => {
  it("approved: exactly two requests, liveness then face match", async () => {
    const result = structured(await session.call("verify_selfie", PAIR));
    expect(result).toMatchObject({ identity_verified: true, credits_used: 2, next_action: "proceed" });
    expect(double.requests.map((r) => r.path)).toEqual([LIVENESS_PATH, FACE_MATCH_PATH]);
  });

  it("a spoof selfie makes no face-match request", async () => {
    double.enqueue({ kind: "spoof" });
    const result = structured(await session.call("verify_selfie", PAIR));
    expect(result).toMatchObject({ identity_verified: false, face_match: null, credits_used: 1 });
    expect(double.requests.map((r) => r.path)).toEqual([LIVENESS_PATH]);
  });

  it("a cancel while the liveness call is in flight makes no face-match request", async () => {
    double.enqueue({ kind: "hang" });
    const controller = new AbortController();
    const pending = session.client.callTool({ name: "verify_selfie", arguments: PAIR }, undefined, {
      signal: controller.signal,
    });
    await double.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    // A later call is answered, so the cancelled handler has finished; still only the liveness request.
    expect(textOf(await session.call("explain_warning", { tag: "NO_REFERENCE_IMAGE" }))).toMatch(
      /No Reference Face/,
    );
    expect(double.requests.map((r) => r.path)).toEqual([LIVENESS_PATH]);
  });
});

describe("CLI match and verify (sandbox)", () => {
  const run = async (...args: string[]) => {
    const r = await runCliInProcess(args);
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  const SELFIE = path.resolve(import.meta.dirname, "../../samples/selfie.jpg");

  // verify's liveness step in sandbox mode may load the on-device engine (seconds); match and input errors do not.
  it("exit codes: 0 approved, 1 declined, 2 input (including an unknown sandbox outcome)", async () => {
    const approved = await run("match", SELFIE, PAIR.ref_image_path, "--sandbox");
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/Face match: Approved \(same person\)/);
    const noMatch = await run(
      "match",
      SELFIE,
      PAIR.ref_image_path,
      "--sandbox",
      "--vendor-data",
      "sandbox:no-match",
      "--json",
    );
    expect(noMatch.status).toBe(1);
    expect(JSON.parse(noMatch.stdout)).toMatchObject({ status: "Declined", sandbox: true });
    expect((await run("match", SELFIE, "--sandbox")).status).toBe(2);
    expect((await run("match", SELFIE, SELFIE, "--sandbox", "--precheck")).status).toBe(2);
    const typo = await run(
      "verify",
      SELFIE,
      PAIR.ref_image_path,
      "--sandbox",
      "--vendor-data",
      "sandbox:nope",
    );
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/Unknown sandbox outcome/);
  });
});
