import { createHash } from "node:crypto";
import { FormData, Pool, request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { diditFaceMatchResponseSchema } from "../../src/didit/face-match-schema.js";
import { diditLivenessResponseSchema } from "../../src/didit/response-schema.js";
import {
  DIDIT_BODIES,
  type DiditDouble,
  delayed,
  FACE_MATCH_PATH,
  LIVENESS_PATH,
  type MatchOutcome,
  type Outcome,
  requestIdFor,
  startDiditDouble,
  TEST_API_KEY,
  throttled,
  UNKNOWN_ERROR_TAG,
} from "../support/didit-double.js";

const JPEG = Uint8Array.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
  0x00, 0x00, 0xff, 0xd9,
]);
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
const NOT_AN_IMAGE = new TextEncoder().encode("%PDF-1.7\nthis is not an image\n");

interface Image {
  bytes: Uint8Array;
  filename?: string;
  type?: string;
  field?: string;
}

function buildForm(fields: Record<string, string> = {}, image: Image | null = { bytes: JPEG }): FormData {
  const form = new FormData();
  if (image) {
    const blob = new Blob([image.bytes], { type: image.type ?? "image/jpeg" });
    form.append(image.field ?? "user_image", blob, image.filename ?? "face.jpg");
  }
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected structurally in assertions
  json: any;
}

async function post(
  double: DiditDouble,
  body: FormData | string = buildForm(),
  opts: { apiKey?: string | null; path?: string; method?: "POST" | "GET"; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.apiKey !== null) headers["x-api-key"] = opts.apiKey ?? TEST_API_KEY;
  if (opts.contentType) headers["content-type"] = opts.contentType;
  const res = await request(`${double.url}${opts.path ?? LIVENESS_PATH}`, {
    method: opts.method ?? "POST",
    headers,
    body: opts.method === "GET" ? null : body,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

let double: DiditDouble;

beforeAll(async () => {
  double = await startDiditDouble();
});

afterAll(async () => {
  await double.close();
});

beforeEach(() => {
  double.reset();
});

describe("didit double: 200 responses", () => {
  it("answers the newest documented form and records the multipart request", async () => {
    const metadata = { flow: "signup", attempt: 2 };
    const res = await post(
      double,
      buildForm({ vendor_data: "user-123", metadata: JSON.stringify(metadata), save_api_request: "false" }),
    );

    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.headers.connection).not.toBe("close");
    const body = res.json;
    expect(body.request_id).toBe(requestIdFor(JPEG));
    expect(body.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.liveness).toMatchObject({
      status: "Approved",
      method: "PASSIVE",
      score: 95,
      warnings: [],
      user_image: { best_angle: 0 },
    });
    expect(typeof body.liveness.face_quality).toBe("number");
    expect(typeof body.liveness.face_luminance).toBe("number");
    expect(body.liveness.user_image.entities).toHaveLength(1);
    const entity = body.liveness.user_image.entities[0];
    expect(entity.bbox).toHaveLength(4);
    for (const n of entity.bbox) expect(Number.isInteger(n)).toBe(true);
    expect(entity.confidence).toBeGreaterThan(0);
    expect(entity.confidence).toBeLessThanOrEqual(1);
    expect(["male", "female"]).toContain(entity.gender);
    expect(entity.race).toBeNull();
    expect(typeof entity.age).toBe("number");
    expect(body.vendor_data).toBe("user-123");
    expect(body.metadata).toEqual(metadata);
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);

    expect(double.requests).toHaveLength(1);
    const rec = double.requests[0];
    expect(rec?.method).toBe("POST");
    expect(rec?.path).toBe("/v3/passive-liveness/");
    expect(rec?.headers["x-api-key"]).toBe(TEST_API_KEY);
    expect(rec?.contentType).toMatch(/^multipart\/form-data; ?boundary=/);
    expect(rec?.fields).toEqual({
      vendor_data: "user-123",
      metadata: JSON.stringify(metadata),
      save_api_request: "false",
    });
    expect(rec?.file).toEqual({
      field: "user_image",
      filename: "face.jpg",
      contentType: "image/jpeg",
      size: JPEG.length,
      sha256: createHash("sha256").update(JPEG).digest("hex"),
    });
    expect(rec?.bodyBytes).toBeGreaterThan(JPEG.length);
  });

  it("declines when the score is at or below the threshold, with LOW_LIVENESS_SCORE", async () => {
    double.setDefault({ kind: "approved", score: 95 });
    const at = await post(double, buildForm({ face_liveness_score_decline_threshold: "95" }));
    expect(at.json.liveness.status).toBe("Declined");
    expect(at.json.liveness.score).toBe(95);
    expect(at.json.liveness.warnings).toHaveLength(1);
    expect(at.json.liveness.warnings[0]).toMatchObject({ risk: "LOW_LIVENESS_SCORE", log_type: "error" });
    expect(at.json.liveness.warnings[0].short_description).toBe("Low liveness score");
    expect(typeof at.json.liveness.warnings[0].long_description).toBe("string");

    const below = await post(double, buildForm({ face_liveness_score_decline_threshold: "94.5" }));
    expect(below.json.liveness.status).toBe("Approved");
    expect(below.json.liveness.warnings).toEqual([]);

    const lowDefault = await post(double, buildForm(), {});
    expect(lowDefault.json.liveness.status).toBe("Approved");
    double.enqueue({ kind: "low_score" });
    const low = await post(double);
    expect(low.json.liveness).toMatchObject({ status: "Declined", score: 12 });
    expect(low.json.liveness.warnings.map((w: { risk: string }) => w.risk)).toEqual(["LOW_LIVENESS_SCORE"]);
  });

  it("answers no_face as 200 Declined NO_FACE_DETECTED with nulls and no LOW_LIVENESS_SCORE", async () => {
    double.enqueue({ kind: "no_face" });
    const res = await post(double, buildForm({ face_liveness_score_decline_threshold: "100" }));
    expect(res.status).toBe(200);
    expect(res.json.liveness).toMatchObject({
      status: "Declined",
      score: null,
      face_quality: null,
      face_luminance: null,
      user_image: { entities: [] },
    });
    expect(res.json.liveness.warnings.map((w: { risk: string }) => w.risk)).toEqual(["NO_FACE_DETECTED"]);
  });

  it("reports best_angle 90 for rotate_image=true and echoes null vendor_data/metadata", async () => {
    const res = await post(
      double,
      buildForm({ rotate_image: "true" }, { bytes: PNG, type: "image/png", filename: "f.png" }),
    );
    expect(res.json.liveness.user_image.best_angle).toBe(90);
    expect(res.json.vendor_data).toBeNull();
    expect(res.json.metadata).toBeNull();
    expect(res.json.request_id).toBe(requestIdFor(PNG));
  });

  const cases: [Outcome, string, string[]][] = [
    [{ kind: "spoof" }, "Declined", ["LIVENESS_FACE_ATTACK", "LOW_LIVENESS_SCORE"]],
    [{ kind: "multiple_faces" }, "Approved", ["MULTIPLE_FACES_DETECTED"]],
    [{ kind: "blocklist" }, "Declined", ["FACE_IN_BLOCKLIST"]],
    [{ kind: "blocklist", possible: true }, "Declined", ["POSSIBLE_FACE_IN_BLOCKLIST"]],
    [{ kind: "duplicate" }, "Approved", ["DUPLICATED_FACE"]],
    [{ kind: "duplicate", possible: true }, "Approved", ["POSSIBLE_DUPLICATED_FACE"]],
    [{ kind: "unknown_error_tag" }, "Declined", [UNKNOWN_ERROR_TAG]],
  ];
  it.each(cases)("outcome %j -> %s %j", async (outcome, status, risks) => {
    double.enqueue(outcome);
    const res = await post(double);
    expect(res.status).toBe(200);
    expect(res.json.liveness.status).toBe(status);
    expect(res.json.liveness.warnings.map((w: { risk: string }) => w.risk)).toEqual(risks);
    if (outcome.kind === "multiple_faces") expect(res.json.liveness.user_image.entities).toHaveLength(2);
  });

  it("answers the older documented form for old_form", async () => {
    double.enqueue({ kind: "old_form" });
    const res = await post(double, buildForm({ vendor_data: "v" }));
    expect(res.json).not.toHaveProperty("vendor_data");
    expect(res.json).not.toHaveProperty("metadata");
    expect(res.json.liveness.user_image.entities[0]).not.toHaveProperty("race");
    expect(res.json.created_at).toMatch(/\.\d{6}Z$/);
    expect(res.json.liveness.status).toBe("Approved");
  });
});

describe("didit double: rejections", () => {
  it("answers 404 for other paths and methods", async () => {
    const noSlash = await post(double, buildForm(), { path: "/v3/passive-liveness" });
    expect(noSlash.status).toBe(404);
    expect(noSlash.json).toEqual({ detail: "Not found." });
    const get = await post(double, "", { method: "GET" });
    expect(get.status).toBe(404);
    expect(double.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
  });

  // Was 401 {"detail":"Invalid API key."} for a wrong key before issue 18: the OpenAPI document answers 403.
  it("answers 403 without a key and with a wrong key, recording both", async () => {
    double.enqueue({ kind: "no_face" });
    const missing = await post(double, buildForm(), { apiKey: null });
    expect(missing.status).toBe(403);
    expect(missing.json).toEqual({ detail: "You do not have permission to perform this action." });
    const wrong = await post(double, buildForm(), { apiKey: "nope" });
    expect(wrong.status).toBe(403);
    expect(wrong.json).toEqual({ detail: "You do not have permission to perform this action." });
    expect(double.requests).toHaveLength(2);
    expect(double.requests[1]?.file?.size).toBe(JPEG.length);
    // The queued outcome is still there: only valid requests consume it.
    expect((await post(double)).json.liveness.warnings[0].risk).toBe("NO_FACE_DETECTED");
  });

  // doctor's key check relies on this order (auth before validation) to prove a key without a credit.
  it("answers a request without user_image 400 naming it with the key, 403 without, and records each status", async () => {
    const noImage = await post(double, buildForm({ save_api_request: "false" }, null));
    expect(noImage.status).toBe(400);
    expect(noImage.json).toEqual({ user_image: ["No file was submitted."] });
    const wrongKey = await post(double, buildForm({}, null), { apiKey: "nope" });
    expect(wrongKey.status).toBe(403);
    expect(wrongKey.json).toEqual({ detail: "You do not have permission to perform this action." });
    const approved = await post(double);
    expect(approved.status).toBe(200);
    expect(double.requests.map((r) => [r.files.length, r.status])).toEqual([
      [0, 400],
      [0, 403],
      [1, 200],
    ]);
  });

  it("validates the upload DRF-style", async () => {
    const invalid = await post(double, buildForm({}, { bytes: NOT_AN_IMAGE, type: "image/jpeg" }));
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({
      user_image: [
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image.",
      ],
    });

    const missing = await post(double, buildForm({ vendor_data: "x" }, { bytes: JPEG, field: "image" }));
    expect(missing.json).toEqual({ user_image: ["No file was submitted."] });
    expect(double.requests.at(-1)?.file?.field).toBe("image");

    const big = new Uint8Array(5_242_881);
    big.set(JPEG.subarray(0, 3));
    const tooBig = await post(double, buildForm({}, { bytes: big }));
    expect(tooBig.json).toEqual({ user_image: ["File size should not exceed 5 MB"] });

    const high = await post(double, buildForm({ face_liveness_score_decline_threshold: "100.5" }));
    expect(high.json).toEqual({
      face_liveness_score_decline_threshold: ["Ensure this value is less than or equal to 100."],
    });
    const neg = await post(double, buildForm({ face_liveness_score_decline_threshold: "-1" }));
    expect(neg.json).toEqual({
      face_liveness_score_decline_threshold: ["Ensure this value is greater than or equal to 0."],
    });
    const bool = await post(double, buildForm({ rotate_image: "yes" }));
    expect(bool.json).toEqual({ rotate_image: ["Must be a valid boolean."] });
    const meta = await post(double, buildForm({ metadata: "[1,2]" }));
    expect(meta.json).toEqual({ metadata: ["Value must be valid JSON."] });

    const notMultipart = await post(double, '{"user_image":"x"}', { contentType: "application/json" });
    expect(notMultipart.status).toBe(400);
    expect(notMultipart.json).toEqual({ detail: "Unsupported media type", code: "parse_error" });

    for (const r of [invalid, missing, tooBig, high, neg, bool, meta]) expect(r.status).toBe(400);
    expect(double.requests).toHaveLength(8);
  });
});

describe("didit double: scripting and transport", () => {
  it("consumes queued outcomes in order, then falls back to the default; reset() restores approved", async () => {
    double.setDefault({ kind: "low_score" });
    double.enqueue(
      { kind: "no_face" },
      { kind: "status", status: 503, body: "upstream down", contentType: "text/plain" },
    );
    const first = await post(double);
    expect(first.json.liveness.warnings[0].risk).toBe("NO_FACE_DETECTED");
    const second = await post(double);
    expect(second.status).toBe(503);
    expect(second.headers["content-type"]).toBe("text/plain");
    expect(second.text).toBe("upstream down");
    const third = await post(double);
    expect(third.json.liveness).toMatchObject({ status: "Declined", score: 12 });
    double.reset();
    expect(double.requests).toHaveLength(0);
    expect((await post(double)).json.liveness.status).toBe("Approved");
  });

  it("sends status outcomes with their headers (429 + retry-after)", async () => {
    double.enqueue({
      kind: "status",
      status: 429,
      body: '{"detail":"Request was throttled. Expected available in 2 seconds."}',
      headers: { "retry-after": "2" },
    });
    double.enqueue(throttled(7));
    const res = await post(double);
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("2");
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.json.detail).toMatch(/throttled/);
    const helper = await post(double);
    expect(helper.status).toBe(429);
    expect(helper.headers["retry-after"]).toBe("7");
    expect(helper.json).toEqual({
      detail: "Write request rate limit exceeded. You can make up to 300 requests per minute.",
    });
    expect((await post(double)).status).toBe(200);
  });

  it("delays, truncates and inflates bodies on request", async () => {
    double.enqueue(
      delayed(60, { kind: "spoof" }),
      { kind: "truncated_json" },
      {
        kind: "huge_body",
        bytes: 300_000,
      },
    );
    const started = performance.now();
    const slow = await post(double);
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
    expect(slow.json.liveness.warnings[0].risk).toBe("LIVENESS_FACE_ATTACK");

    const truncated = await post(double);
    expect(truncated.status).toBe(200);
    expect(truncated.headers["content-type"]).toBe("application/json");
    expect(truncated.text.length).toBeGreaterThan(10);
    expect(truncated.json).toBeUndefined();

    const huge = await post(double);
    expect(huge.status).toBe(200);
    expect(Buffer.byteLength(huge.text)).toBe(300_000);
  });

  it("destroys the socket without answering for reset", async () => {
    double.enqueue({ kind: "reset" });
    await expect(post(double)).rejects.toThrow();
    expect(double.requests).toHaveLength(1);
    expect((await post(double)).status).toBe(200);
  });

  it("ends hanging requests on close()", async () => {
    const own = await startDiditDouble({ apiKey: "other-key" });
    own.setDefault({ kind: "hang" });
    const pending = post(own, buildForm(), { apiKey: "other-key" }).then(
      () => "answered",
      (err: unknown) => err,
    );
    await own.waitForRequests(1);
    expect(own.apiKey).toBe("other-key");
    await own.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it("counts TCP connections and keeps them alive across requests", async () => {
    const before = double.connections;
    // connections: 1 because a Pool dispatching the next request in the same event-loop turn as the previous
    // response completes opens a second socket (undici waits one loop cycle before reusing a socket).
    const pool = new Pool(double.url, { connections: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await pool.request({
          path: LIVENESS_PATH,
          method: "POST",
          headers: { "x-api-key": TEST_API_KEY },
          body: buildForm(),
        });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      }
    } finally {
      await pool.close();
    }
    expect(double.connections - before).toBe(1);
    expect(double.requests).toHaveLength(2);
  });

  it("answers 413 and closes when the body exceeds 12 MiB", async () => {
    const form = buildForm({}, { bytes: new Uint8Array(12 * 1024 * 1024 + 1024) });
    const outcome = await post(double, form).then(
      (r) => r.status,
      (err: unknown) => err,
    );
    // Either the client reads the early 413 or the connection closes under its upload.
    if (typeof outcome === "number") expect(outcome).toBe(413);
    else expect(outcome).toBeInstanceOf(Error);
    expect(double.requests).toHaveLength(1);
    expect(double.requests[0]?.bodyBytes).toBeGreaterThan(12 * 1024 * 1024);
  });
});

// Issue 18: the double answers with the bodies Didit's OpenAPI document quotes (the contract's examples).
describe("didit double: Didit's documented bodies", () => {
  const PERMISSION = { detail: "You do not have permission to perform this action." };
  const livenessOutcomes: Outcome[] = [
    { kind: "approved" },
    { kind: "low_score" },
    { kind: "spoof" },
    { kind: "no_face" },
    { kind: "multiple_faces" },
    { kind: "blocklist" },
    { kind: "blocklist", possible: true },
    { kind: "duplicate" },
    { kind: "duplicate", possible: true },
    { kind: "unknown_error_tag" },
    { kind: "old_form" },
  ];

  it.each(livenessOutcomes)(
    "%j keeps Didit's ranges and carries feature and additional_data",
    async (outcome) => {
      double.enqueue(outcome);
      const res = await post(double);
      expect(diditLivenessResponseSchema.safeParse(res.json).error).toBeUndefined();
      for (const warning of res.json.liveness.warnings) {
        expect(warning.feature).toBe("LIVENESS");
        expect(warning).toHaveProperty("additional_data");
      }
      if (outcome.kind !== "old_form") {
        for (const entity of res.json.liveness.user_image.entities) expect(entity.race).toBeNull();
      }
    },
  );

  it("uses the documented texts of the spoof example", async () => {
    double.enqueue({ kind: "spoof" });
    const { warnings } = (await post(double)).json.liveness;
    expect(warnings).toContainEqual({
      risk: "LIVENESS_FACE_ATTACK",
      feature: "LIVENESS",
      additional_data: null,
      log_type: "error",
      short_description: "Liveness Face Attack",
      long_description: "The system detected a potential attempt to bypass the liveness check.",
    });
    expect(warnings).toContainEqual({
      risk: "LOW_LIVENESS_SCORE",
      feature: "LIVENESS",
      additional_data: null,
      log_type: "error",
      short_description: "Low liveness score",
      long_description:
        "The liveness check resulted in a low score, indicating potential use of non-live facial representations or poor-quality biometric data.",
    });
  });

  it("names the matched session in a blocklist or duplicate hit's additional_data", async () => {
    double.enqueue({ kind: "blocklist" }, { kind: "duplicate", possible: true });
    const blocklist = (await post(double)).json.liveness.warnings[0];
    expect(blocklist.additional_data).toEqual({
      blocklisted_session_id: "882c42d5-8a4d-4d20-8080-a22f57822c86",
      blocklisted_session_number: 3242,
      api_service: null,
    });
    const duplicate = (await post(double)).json.liveness.warnings[0];
    expect(duplicate.additional_data).toMatchObject({ duplicated_session_id: expect.any(String) });
  });

  it("answers a missing or a wrong key with the documented 403", async () => {
    for (const apiKey of [null, "nope"]) {
      const res = await post(double, buildForm(), { apiKey });
      expect(res.status).toBe(403);
      expect(res.json).toEqual(PERMISSION);
    }
  });

  it("exports the documented 403 credits, 400 image-format and 429 bodies", () => {
    expect(JSON.parse(DIDIT_BODIES.permissionDenied)).toEqual(PERMISSION);
    expect(JSON.parse(DIDIT_BODIES.noCredits)).toEqual({
      error:
        "You don't have enough credits to perform this request. Please top up at https://business.didit.me",
    });
    expect(JSON.parse(DIDIT_BODIES.invalidImageFormat)).toEqual({ error: "Invalid user image format." });
    const outcome = throttled(3);
    expect(outcome.kind === "status" && JSON.parse(outcome.body)).toEqual({
      detail: "Write request rate limit exceeded. You can make up to 300 requests per minute.",
    });
  });

  it("answers an image over 5 MB with the documented field message", async () => {
    const big = new Uint8Array(5_242_881);
    big.set(JPEG.subarray(0, 3));
    expect((await post(double, buildForm({}, { bytes: big }))).json).toEqual({
      user_image: ["File size should not exceed 5 MB"],
    });
  });

  it.each<MatchOutcome>([
    { kind: "score", score: 87.5 },
    { kind: "score", score: 12 },
    { kind: "no_face", image: "ref" },
    { kind: "no_face", image: "user", tag: "NO_FACE_DETECTED" },
    { kind: "in_review" },
  ])("face match %j keeps Didit's ranges, statuses and warning fields", async (outcome) => {
    double.enqueueMatch(outcome);
    const form = buildForm({}, { bytes: JPEG });
    form.append("ref_image", new Blob([PNG], { type: "image/png" }), "ref.png");
    const res = await post(double, form, { path: FACE_MATCH_PATH });
    expect(res.status).toBe(200);
    expect(diditFaceMatchResponseSchema.safeParse(res.json).error).toBeUndefined();
    expect(["Approved", "Declined", "In Review"]).toContain(res.json.face_match.status);
    for (const warning of res.json.face_match.warnings) {
      expect(warning).toMatchObject({ feature: "FACEMATCH", additional_data: null });
    }
  });
});
