import { once } from "node:events";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { type CallToolResult, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/config.js";
import { createRedactor } from "../../src/core/redact.js";
import { createDiditClient, type DiditClient } from "../../src/didit/client.js";
import { createSandboxClient, SANDBOX_OUTCOMES } from "../../src/didit/sandbox-client.js";
import { createServer } from "../../src/server/server.js";
import {
  type DiditDouble,
  FACE_MATCH_PATH,
  LIVENESS_PATH,
  startDiditDouble,
  TEST_API_KEY,
} from "../support/didit-double.js";
import { type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const SAMPLES = path.resolve(import.meta.dirname, "../../samples");
const SELFIE = "live_silentface_T1.jpg";
const ID_PORTRAIT = "syn_astronaut.jpg";
const PAIR = { user_image_path: SELFIE, ref_image_path: ID_PORTRAIT };

let double: DiditDouble;
let session: InMemorySession;

const keyed = (overrides: Partial<Config> = {}) =>
  testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url, allowedDirs: [FIXTURES], ...overrides });

beforeAll(async () => {
  double = await startDiditDouble();
  session = await startInMemory(keyed());
});
afterAll(async () => {
  await session.close();
  await double.close();
});
afterEach(() => double.reset());

interface MatchResult {
  status: string;
  is_match: boolean;
  score: number | null;
  next_action: string;
  summary: string;
  warnings: { risk: string }[];
  user_image: { faces_detected: number };
  ref_image: { faces_detected: number };
  vendor_data: string | null;
}
interface VerifyResult {
  identity_verified: boolean;
  next_action: string;
  summary: string;
  liveness: { status: string; next_action: string } | null;
  face_match: MatchResult | null;
  face_match_skipped_reason: string | null;
  credits_used: number;
  sandbox?: boolean;
}
const matchOf = (r: CallToolResult) => r.structuredContent as unknown as MatchResult;
const verifyOf = (r: CallToolResult) => r.structuredContent as unknown as VerifyResult;

describe("tools/list", () => {
  it("declares match_faces and verify_selfie with shared image fields, schemas and annotations", async () => {
    const { tools } = await session.client.listTools();
    for (const name of ["match_faces", "verify_selfie"]) {
      const tool = tools.find((t) => t.name === name);
      expect(tool?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        openWorldHint: true,
      });
      expect(tool?.description).toMatch(/uploads (BOTH images|the selfie)/);
      expect(tool?.description).toMatch(/credit/);
      expect(tool?.inputSchema.additionalProperties).toBe(false);
      const props = tool?.inputSchema.properties as Record<string, { description?: string }>;
      for (const field of ["user_image_path", "user_image_base64", "ref_image_path", "ref_image_base64"]) {
        expect(props[field]?.description, `${name}.${field}`).toMatch(/at most 5 MB/);
      }
      for (const [field, prop] of Object.entries(props)) expect(prop.description, field).toBeTruthy();
      expect(tool?.outputSchema).toBeDefined();
    }
    const verify = tools.find((t) => t.name === "verify_selfie");
    expect(Object.keys(verify?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        "face_liveness_score_decline_threshold",
        "face_match_score_decline_threshold",
        "precheck",
      ]),
    );
  });
});

describe("match_faces against the loopback double", () => {
  it("approves above the threshold and sends both images and every field under Didit's names", async () => {
    double.enqueueMatch({ kind: "score", score: 91.2 });
    const result = await session.call("match_faces", {
      ...PAIR,
      face_match_score_decline_threshold: 40,
      rotate_image: true,
      save_api_request: false,
      vendor_data: "user-7",
      metadata: { flow: "kyc" },
    });
    expect(result.isError).toBeFalsy();
    expect(matchOf(result)).toMatchObject({
      status: "Approved",
      is_match: true,
      score: 91.2,
      next_action: "proceed",
      vendor_data: "user-7",
      user_image: { faces_detected: 1 },
      ref_image: { faces_detected: 1 },
    });
    const [request] = double.requestsTo(FACE_MATCH_PATH);
    expect(request?.files.map((f) => f.field)).toEqual(["user_image", "ref_image"]);
    const selfieSha = (await import("node:crypto"))
      .createHash("sha256")
      .update(await readFile(path.join(FIXTURES, SELFIE)))
      .digest("hex");
    expect(request?.files[0]?.sha256).toBe(selfieSha);
    expect(request?.files.map((f) => f.filename).join(" ")).not.toMatch(/silentface|astronaut/);
    expect(request?.fields).toEqual({
      face_match_score_decline_threshold: "40",
      rotate_image: "true",
      save_api_request: "false",
      vendor_data: "user-7",
      metadata: '{"flow":"kyc"}',
    });
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(0);
  });

  it("declines at or below the threshold with LOW_FACE_MATCH_SIMILARITY, and asks for a review", async () => {
    double.enqueueMatch({ kind: "score", score: 12 });
    const result = matchOf(await session.call("match_faces", PAIR));
    expect(result).toMatchObject({ status: "Declined", is_match: false, score: 12, next_action: "review" });
    expect(result.warnings.map((w) => w.risk)).toEqual(["LOW_FACE_MATCH_SIMILARITY"]);
    expect(result.summary).not.toMatch(/12/);
  });

  it("threshold edge: a score equal to the threshold declines; just above approves", async () => {
    double.enqueueMatch(
      { kind: "score", score: 30 },
      { kind: "score", score: 30.01 },
      { kind: "score", score: 55 },
    );
    expect(matchOf(await session.call("match_faces", PAIR))).toMatchObject({ status: "Declined", score: 30 });
    expect(matchOf(await session.call("match_faces", PAIR))).toMatchObject({
      status: "Approved",
      score: 30.01,
    });
    const explicit = matchOf(
      await session.call("match_faces", { ...PAIR, face_match_score_decline_threshold: 55 }),
    );
    expect(explicit).toMatchObject({ status: "Declined", score: 55, next_action: "review" });
  });

  it("no face in the selfie: Declined, no score, retake the selfie", async () => {
    double.enqueueMatch({ kind: "no_face", image: "user" });
    const result = matchOf(await session.call("match_faces", PAIR));
    expect(result).toMatchObject({
      status: "Declined",
      score: null,
      next_action: "retake",
      user_image: { faces_detected: 0 },
      ref_image: { faces_detected: 1 },
    });
    expect(result.summary).toMatch(/selfie/);
  });

  it("no face in the reference: the save_api_request=false score 0 is reported as no score", async () => {
    double.enqueueMatch({ kind: "no_face", image: "ref" });
    const result = matchOf(await session.call("match_faces", { ...PAIR, save_api_request: false }));
    expect(result).toMatchObject({
      status: "Declined",
      score: null,
      next_action: "retake",
      ref_image: { faces_detected: 0 },
    });
    expect(result.warnings.map((w) => w.risk)).toEqual(["NO_REFERENCE_IMAGE"]);
    expect(result.summary).toMatch(/reference photo/);
  });

  it("accepts the older NO_FACE_DETECTED form and In Review; an unknown status is invalid_response", async () => {
    double.enqueueMatch(
      { kind: "no_face", image: "ref", tag: "NO_FACE_DETECTED" },
      { kind: "in_review" },
      { kind: "unknown_status" },
    );
    expect(matchOf(await session.call("match_faces", PAIR))).toMatchObject({ next_action: "retake" });
    expect(matchOf(await session.call("match_faces", PAIR))).toMatchObject({
      status: "In Review",
      next_action: "review",
    });
    expect(textOf(await session.call("match_faces", PAIR))).toMatch(/^Error \[invalid_response\]/);
  });

  it("a 400 names the face-match field; input errors name the argument pair and upload nothing", async () => {
    double.enqueueMatch({
      kind: "status",
      status: 400,
      body: JSON.stringify({ ref_image: ["Upload a valid image."] }),
    });
    const bad = textOf(await session.call("match_faces", PAIR));
    expect(bad).toMatch(/^Error \[bad_request\].*ref_image/s);
    expect(bad).toMatch(/Hint: .*reference image \(ref_image\)/);
    double.reset();

    const both = textOf(await session.call("match_faces", { ...PAIR, ref_image_base64: "aGVsbG8=" }));
    expect(both).toMatch(
      /^Error \[invalid_input\]: More than one of ref_image_path, ref_image_base64, ref_image_url/,
    );
    const missing = textOf(await session.call("match_faces", { ref_image_path: ID_PORTRAIT }));
    expect(missing).toMatch(/^Error \[invalid_input\]: No selfie was given/);
    const outside = textOf(await session.call("match_faces", { ...PAIR, ref_image_path: "/etc/hostname" }));
    expect(outside).toMatch(/^Error \[path_not_allowed\]: The reference image \(ref_image_path\)/);
    const notImage = textOf(
      await session.call("match_faces", {
        ...PAIR,
        user_image_base64: "aGVsbG8=",
        user_image_path: undefined,
      }),
    );
    expect(notImage).toMatch(/^Error \[not_an_image\]: The selfie \(user_image_base64\)/);
    expect(double.requests).toHaveLength(0);
  });
});

describe("verify_selfie against the loopback double", () => {
  it("approved: exactly two requests, liveness first, identity verified, two credits", async () => {
    const result = await session.call("verify_selfie", { ...PAIR, vendor_data: "user-9" });
    expect(result.isError).toBeFalsy();
    expect(verifyOf(result)).toMatchObject({
      identity_verified: true,
      next_action: "proceed",
      liveness: { status: "Approved" },
      face_match: { status: "Approved", is_match: true },
      face_match_skipped_reason: null,
      credits_used: 2,
    });
    expect(double.requests.map((r) => r.path)).toEqual([LIVENESS_PATH, FACE_MATCH_PATH]);
    expect(double.requests[0]?.files.map((f) => f.field)).toEqual(["user_image"]);
    expect(double.requests[0]?.fields.vendor_data).toBe("user-9");
    expect(double.requests[1]?.fields.vendor_data).toBe("user-9");
  });

  it("a spoof selfie makes NO face-match request: one credit, skipped with the reason", async () => {
    double.enqueue({ kind: "spoof" });
    const result = verifyOf(await session.call("verify_selfie", PAIR));
    expect(result).toMatchObject({
      identity_verified: false,
      next_action: "reject",
      face_match: null,
      credits_used: 1,
    });
    expect(result.face_match_skipped_reason).toMatch(/Declined.*no face match was requested/);
    expect(double.requestsTo(FACE_MATCH_PATH)).toHaveLength(0);
    expect(double.requests).toHaveLength(1);
  });

  it("liveness approved, faces do not match: not verified, review, the stricter action wins", async () => {
    double.enqueueMatch({ kind: "score", score: 8 });
    const result = verifyOf(await session.call("verify_selfie", PAIR));
    expect(result).toMatchObject({
      identity_verified: false,
      next_action: "review",
      liveness: { status: "Approved" },
      face_match: { status: "Declined" },
      credits_used: 2,
    });
    expect(result.summary).toMatch(/^The selfie passed the liveness check, but/);
  });

  it("both thresholds go to their own call", async () => {
    await session.call("verify_selfie", {
      ...PAIR,
      face_liveness_score_decline_threshold: 20,
      face_match_score_decline_threshold: 60,
    });
    expect(double.requests[0]?.fields).toEqual({ face_liveness_score_decline_threshold: "20" });
    expect(double.requests[1]?.fields).toEqual({ face_match_score_decline_threshold: "60" });
  });

  it("a face-match failure after the liveness call says one credit was already used", async () => {
    double.enqueueMatch({
      kind: "status",
      status: 503,
      body: "Service Unavailable",
      contentType: "text/plain",
    });
    const text = textOf(await session.call("verify_selfie", PAIR));
    expect(text).toMatch(/^Error \[upstream_error\]: The face match failed: .*used one credit/s);
    expect(text).toMatch(/match_faces/);
  });

  it("a cancel between the two calls makes no second call", async () => {
    const real = createDiditClient({ baseUrl: double.url, apiKey: TEST_API_KEY, timeoutMs: 5_000 });
    const controller = new AbortController();
    let matchCalls = 0;
    let livenessDone = false;
    // Cancels right after Didit answered the liveness check, and returns only once the server saw the cancel.
    const cancelling: DiditClient = {
      async checkPassiveLiveness(image, params, call) {
        const response = await real.checkPassiveLiveness(image, params, call);
        controller.abort();
        if (call?.signal && !call.signal.aborted) await once(call.signal, "abort");
        livenessDone = true;
        return response;
      },
      async matchFaces(...args) {
        matchCalls++;
        return real.matchFaces(...args);
      },
      close: () => real.close(),
    };
    const s = await startInMemory(keyed(), cancelling);
    try {
      const pending = s.client.callTool({ name: "verify_selfie", arguments: PAIR }, undefined, {
        signal: controller.signal,
      });
      await expect(pending).rejects.toThrow();
      await s.client.listTools(); // a full round trip: the handler has run past its cancel check
      expect(livenessDone).toBe(true);
      expect(matchCalls).toBe(0);
      expect(double.requests.map((r) => r.path)).toEqual([LIVENESS_PATH]);
    } finally {
      await s.close();
    }
  });
});

describe("cost guard (DIDIT_MAX_CHECKS_PER_MINUTE) counts checks, not tool calls", () => {
  it("a full verify counts two", async () => {
    const s = await startInMemory(keyed({ maxChecksPerMinute: 2 }));
    try {
      expect(verifyOf(await s.call("verify_selfie", PAIR)).credits_used).toBe(2);
      const refused = textOf(await s.call("check_passive_liveness", { image_path: SELFIE }));
      expect(refused).toMatch(/^Error \[rate_limited\]/);
      expect(double.requests).toHaveLength(2);
    } finally {
      await s.close();
    }
  });

  it("a verify whose match is skipped counts one; a verify with room for only one check sends nothing", async () => {
    const s = await startInMemory(keyed({ maxChecksPerMinute: 2 }));
    try {
      double.enqueue({ kind: "spoof" });
      expect(verifyOf(await s.call("verify_selfie", PAIR)).credits_used).toBe(1);
      expect((await s.call("check_passive_liveness", { image_path: SELFIE })).isError).toBeFalsy();
      expect(double.requests).toHaveLength(2);
      double.requests.length = 0;
      const s2 = await startInMemory(keyed({ maxChecksPerMinute: 1 }));
      try {
        const text = textOf(await s2.call("verify_selfie", PAIR));
        expect(text).toMatch(/^Error \[rate_limited\].*the 2 this call needs/s);
        expect(double.requests).toHaveLength(0);
      } finally {
        await s2.close();
      }
    } finally {
      await s.close();
    }
  });
});

describe("upload consent: one confirmation covers both uploads", () => {
  async function connectAsking(
    answer: () => { action: "accept" | "decline"; content?: { confirm: boolean } },
  ) {
    const config = keyed({ confirmUploads: true });
    const didit = createDiditClient({ baseUrl: double.url, apiKey: TEST_API_KEY, timeoutMs: 5_000 });
    const server = createServer({
      config,
      client: didit,
      logger: { log: () => {} },
      redact: createRedactor([TEST_API_KEY]),
      version: "test",
    });
    const client = new Client({ name: "consent-test", version: "1" }, { capabilities: { elicitation: {} } });
    const messages: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      messages.push(String(request.params.message));
      return answer();
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(b), client.connect(a)]);
    return {
      messages,
      call: async (name: string, args: Record<string, unknown>) =>
        (await client.callTool({ name, arguments: args })) as CallToolResult,
      close: async () => {
        await client.close();
        await server.close();
        await didit.close();
      },
    };
  }

  it("declined: nothing is uploaded by verify_selfie or match_faces", async () => {
    const s = await connectAsking(() => ({ action: "decline" }));
    try {
      expect(textOf(await s.call("verify_selfie", PAIR))).toMatch(/^Error \[consent_declined\]/);
      expect(textOf(await s.call("match_faces", PAIR))).toMatch(/^Error \[consent_declined\]/);
      expect(double.requests).toHaveLength(0);
      expect(s.messages).toHaveLength(2);
    } finally {
      await s.close();
    }
  });

  it("accepted once: both calls of a verify go out after a single question naming both images", async () => {
    const s = await connectAsking(() => ({ action: "accept", content: { confirm: true } }));
    try {
      expect(verifyOf(await s.call("verify_selfie", PAIR)).identity_verified).toBe(true);
      expect(s.messages).toHaveLength(1);
      expect(s.messages[0]).toMatch(
        /^Upload live_silentface_T1\.jpg, \d+ KB and syn_astronaut\.jpg, \d+ KB, to Didit .*up to two credits/,
      );
      expect(double.requests).toHaveLength(2);
    } finally {
      await s.close();
    }
  });
});

describe("sandbox", () => {
  let s: InMemorySession;
  beforeAll(async () => {
    s = await startInMemory(
      testConfig({ allowedDirs: [SAMPLES, FIXTURES], sandbox: true }),
      createSandboxClient(),
    );
  });
  afterAll(() => s.close());
  const pair = { user_image_path: "selfie.jpg", ref_image_path: path.join(FIXTURES, ID_PORTRAIT) };

  it.each([
    ["approved", true, "proceed", "Approved"],
    ["match", true, "proceed", "Approved"],
    ["no-match", false, "review", "Declined"],
    ["no-face-ref", false, "retake", "Declined"],
    ["match-review", false, "review", "In Review"],
  ])("sandbox:%s on verify_selfie", async (outcome, verified, action, matchStatus) => {
    const result = verifyOf(await s.call("verify_selfie", { ...pair, vendor_data: `sandbox:${outcome}` }));
    expect(result).toMatchObject({
      identity_verified: verified,
      next_action: action,
      face_match: { status: matchStatus, sandbox: true },
      credits_used: 0,
      sandbox: true,
    });
    expect(result.summary).toMatch(/^\[Sandbox: mocked result, not a real verdict\] /);
    expect(result.face_match?.summary).toMatch(/^\[Sandbox: mocked result, not a real verdict\] [^[]/);
  });

  it("sandbox:spoof skips the match; sandbox:match-upstream-error fails after the liveness step", async () => {
    const spoof = verifyOf(await s.call("verify_selfie", { ...pair, vendor_data: "sandbox:spoof" }));
    expect(spoof).toMatchObject({ identity_verified: false, next_action: "reject", face_match: null });
    const failed = textOf(
      await s.call("verify_selfie", { ...pair, vendor_data: "sandbox:match_upstream_error" }),
    );
    expect(failed).toMatch(/^Error \[upstream_error\]: The face match failed: .*sandbox: no credit used/s);
  });

  it("match_faces follows the threshold rule in the sandbox too", async () => {
    const edge = matchOf(await s.call("match_faces", { ...pair, face_match_score_decline_threshold: 88.6 }));
    expect(edge).toMatchObject({ status: "Declined", score: 88.6 });
    const noFace = matchOf(await s.call("match_faces", { ...pair, vendor_data: "sandbox:no_face" }));
    expect(noFace).toMatchObject({ user_image: { faces_detected: 0 }, next_action: "retake" });
  });

  it("an unknown sandbox: outcome is invalid_input listing the valid ones, on every tool", async () => {
    for (const tool of ["check_passive_liveness", "match_faces", "verify_selfie"]) {
      const args = tool === "check_passive_liveness" ? { image_path: "selfie.jpg" } : { ...pair };
      const text = textOf(await s.call(tool, { ...args, vendor_data: "sandbox:spooof" }));
      expect(text, tool).toMatch(/^Error \[invalid_input\]: Unknown sandbox outcome "spooof"/);
      for (const outcome of SANDBOX_OUTCOMES) expect(text).toContain(outcome);
    }
  });
});
