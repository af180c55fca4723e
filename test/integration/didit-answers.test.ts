import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  BLOCKLIST_ADDITIONAL_DATA,
  DIDIT_BODIES,
  type DiditDouble,
  DOCUMENTED_FACE,
  documentedLivenessBody,
  startDiditDouble,
  TEST_API_KEY,
} from "../support/didit-double.js";
import { type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";

// Issue 18, "Didit's real answers", end to end: a real MCP client (which validates structuredContent against the
// listed output schemas) -> createServer -> the real Didit client -> the loopback double on 127.0.0.1.

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const SELFIE = { image_path: "syn_astronaut.jpg" };
const PAIR = { user_image_path: "syn_astronaut.jpg", ref_image_path: "live_silentface_T1.jpg" };
const DOUBLED_FULL_STOP = /(?<!\.)\.\.(?!\.)/;

let double: DiditDouble;
let session: InMemorySession;
let wrongKey: InMemorySession;

beforeAll(async () => {
  double = await startDiditDouble();
  const config = { baseUrl: double.url, allowedDirs: [FIXTURES] };
  session = await startInMemory(testConfig({ apiKey: TEST_API_KEY, ...config }));
  wrongKey = await startInMemory(testConfig({ apiKey: "revoked-key-0123456789abcdef", ...config }));
});
afterAll(async () => {
  await session.close();
  await wrongKey.close();
  await double.close();
});
afterEach(() => double.reset());

const ok200 = (body: unknown) => ({ kind: "status", status: 200, body: JSON.stringify(body) }) as const;
const FACE = DOCUMENTED_FACE;
const approved = documentedLivenessBody;

describe("an answer we do not understand is never a proceed", () => {
  it.each<[string, unknown]>([
    ["an Approved with no face and no score", { request_id: "r", liveness: { status: "Approved" } }],
    ["a score of 150", approved({ score: 150 })],
    ["a 2-number bbox", approved({ user_image: { entities: [{ ...FACE, bbox: [1, 2] }], best_angle: 0 } })],
    ["a best_angle of 45", approved({ user_image: { entities: [FACE], best_angle: 45 } })],
  ])("check_passive_liveness: %s is invalid_response, maybe billed", async (_what, body) => {
    double.enqueue(ok200(body));
    const result = await session.call("check_passive_liveness", SELFIE);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Error \[invalid_response\]: .*\nHint: .*billed/s);
  });

  it("check_passive_liveness: an unknown warning with log_type critical goes to review", async () => {
    const warning = {
      risk: "FUTURE_SIGNAL",
      feature: "LIVENESS",
      additional_data: null,
      log_type: "critical",
    };
    double.enqueue(ok200(approved({ warnings: [warning] })));
    const result = await session.call("check_passive_liveness", SELFIE);
    expect(result.structuredContent).toMatchObject({ status: "Approved", next_action: "review" });
  });

  it("check_passive_liveness: MULTIPLE_FACES_DETECTED goes to review", async () => {
    double.enqueue({ kind: "multiple_faces" });
    const result = await session.call("check_passive_liveness", SELFIE);
    expect(result.structuredContent).toMatchObject({ status: "Approved", next_action: "review" });
  });

  it.each<[string, Record<string, unknown>]>([
    ["an Approved with a score of 150", { status: "Approved", score: 150 }],
    ["an Approved with no score", { status: "Approved", score: null }],
    [
      "a confidence of 2",
      {
        status: "Declined",
        score: 10,
        ref_image: { entities: [{ bbox: [1, 2, 3, 4], confidence: 2 }], best_angle: 0 },
      },
    ],
    ["an undocumented status", { status: "Pending", score: 80 }],
  ])("match_faces: %s is invalid_response, maybe billed", async (_what, faceMatch) => {
    const image = { entities: [{ bbox: [1, 2, 30, 40], confidence: 0.99 }], best_angle: 0 };
    const body = {
      request_id: "m",
      face_match: { user_image: image, ref_image: image, warnings: [], ...faceMatch },
    };
    double.enqueueMatch({ kind: "status", status: 200, body: JSON.stringify(body) });
    const result = await session.call("match_faces", PAIR);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Error \[invalid_response\]: .*\nHint: .*billed/s);
  });
});

describe("Didit's documented bodies read as Didit means them", () => {
  it("a blocklist hit keeps the matched session in the result, and explain_warning says where to find it", async () => {
    double.enqueue({ kind: "blocklist" });
    const result = await session.call("check_passive_liveness", SELFIE);
    const out = result.structuredContent as { next_action: string; warnings: Record<string, unknown>[] };
    expect(out.next_action).toBe("reject");
    expect(out.warnings[0]).toMatchObject({
      risk: "FACE_IN_BLOCKLIST",
      feature: "LIVENESS",
      additional_data: BLOCKLIST_ADDITIONAL_DATA,
    });
    const explained = await session.call("explain_warning", { tag: "FACE_IN_BLOCKLIST" });
    expect(JSON.stringify(explained.structuredContent)).toContain("additional_data.blocklisted_session_id");
  });

  it("face-match warnings carry their feature and additional_data", async () => {
    double.enqueueMatch({ kind: "score", score: 12 });
    const result = await session.call("match_faces", PAIR);
    const out = result.structuredContent as { warnings: Record<string, unknown>[] };
    expect(out.warnings[0]).toMatchObject({
      risk: "LOW_FACE_MATCH_SIMILARITY",
      feature: "FACEMATCH",
      additional_data: null,
    });
  });

  it("a wrong or revoked key (403) says so, per endpoint, without quoting the body", async () => {
    const liveness = textOf(await wrongKey.call("check_passive_liveness", SELFIE));
    expect(liveness).toMatch(
      /^Error \[forbidden\]: Didit refused the API key for Passive Liveness \(403\)\./,
    );
    expect(liveness).toMatch(/wrong or revoked/);
    const match = textOf(await wrongKey.call("match_faces", PAIR));
    expect(match).toMatch(/^Error \[forbidden\]: Didit refused the API key for Face Match \(403\)\./);
    expect(match).not.toMatch(/Passive Liveness/);
    for (const text of [liveness, match]) expect(text).not.toContain("permission to perform");
  });

  it("the credits 403 stays insufficient_credits", async () => {
    double.enqueue({ kind: "status", status: 403, body: DIDIT_BODIES.noCredits });
    const text = textOf(await session.call("check_passive_liveness", SELFIE));
    expect(text).toMatch(
      /^Error \[insufficient_credits\]: Didit refused the check for lack of credits \(403\)\./,
    );
    expect(text).not.toMatch(/wrong|revoked/);
  });

  it("an undecodable image (400 {error}) is quoted with a re-export hint and no doubled full stop", async () => {
    double.enqueue({ kind: "status", status: 400, body: DIDIT_BODIES.invalidImageFormat });
    const text = textOf(await session.call("check_passive_liveness", SELFIE));
    expect(text).toMatch(
      /^Error \[bad_request\]: Didit rejected the request \(400\): Invalid user image format\.\n/,
    );
    expect(text).toMatch(/Hint: .*could not be decoded.*JPEG or PNG/);
    expect(text).not.toMatch(DOUBLED_FULL_STOP);
  });

  it("the documented 429 is rate_limited", async () => {
    double.enqueue({
      kind: "status",
      status: 429,
      body: DIDIT_BODIES.rateLimited,
      headers: { "retry-after": "60" },
    });
    const text = textOf(await session.call("check_passive_liveness", SELFIE));
    expect(text).toMatch(/^Error \[rate_limited\]/);
    expect(text).not.toMatch(DOUBLED_FULL_STOP);
  });
});
