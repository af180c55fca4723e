import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type DiditDouble,
  type Outcome,
  requestIdFor,
  startDiditDouble,
  TEST_API_KEY,
} from "../support/didit-double.js";
import { DOCUMENTED_TAGS } from "../support/expectations.js";
import { baseEnv, runRaw, type SpawnedSession, spawnServer, textOf } from "../support/spawn.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

let double: DiditDouble;
let session: SpawnedSession;
const sessions: SpawnedSession[] = [];

async function open(env: Record<string, string | undefined>, args = ["--allow-dir", FIXTURES]) {
  const s = await spawnServer({ env: baseEnv(env), args });
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  double = await startDiditDouble();
  // A deadline far above a check's time on a loaded machine (a 1.5 s one flaked); the timeout test has its own.
  session = await open({
    DIDIT_API_KEY: TEST_API_KEY,
    DIDIT_BASE_URL: double.url,
    DIDIT_TIMEOUT_MS: "15000",
  });
});
afterEach(() => double.reset());
afterAll(async () => {
  for (const s of sessions) await s.close();
  await double.close();
  // The key never leaves the process: not in any tool result, not on stderr.
  for (const s of sessions) {
    expect(s.resultTexts.join("\n")).not.toContain(TEST_API_KEY);
    expect(s.stderr()).not.toContain(TEST_API_KEY);
    expect(s.transportErrors).toEqual([]);
  }
});

describe("the built server over stdio against the loopback Didit", () => {
  it("checks a JPEG by path: the request Didit received and the result the agent received", async () => {
    const result = await session.call("check_passive_liveness", {
      image_path: path.join(FIXTURES, "live_silentface_T1.jpg"),
      vendor_data: "user-7",
      save_api_request: false,
    });
    const bytes = await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"));
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      request_id: requestIdFor(bytes),
      status: "Approved",
      is_live: true,
      next_action: "proceed",
      score: 95,
      vendor_data: "user-7",
    });
    const request = double.requests[0];
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/v3/passive-liveness/");
    expect(request?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(request?.headers["x-api-key"]).toBe(TEST_API_KEY);
    expect(request?.fields).toEqual({ save_api_request: "false", vendor_data: "user-7" });
    expect(request?.file).toMatchObject({
      field: "user_image",
      filename: "image.jpg",
      contentType: "image/jpeg",
      size: bytes.length,
    });
  });

  it("checks a PNG given as a base64 data URL", async () => {
    const bytes = await readFile(path.join(FIXTURES, "syn_camera_gray.png"));
    const result = await session.call("check_passive_liveness", {
      image_base64: `data:image/png;base64,${bytes.toString("base64")}`,
    });
    expect(result.structuredContent).toMatchObject({ request_id: requestIdFor(bytes), status: "Approved" });
    expect(double.requests[0]?.file).toMatchObject({ contentType: "image/png", size: bytes.length });
  });

  it.each([
    [
      "a faceless image",
      "syn_no_face_gradient.png",
      { kind: "no_face" },
      "Declined",
      "retake",
      "NO_FACE_DETECTED",
    ],
    [
      "a spoof",
      "spoof_screen_silentface_F2.jpg",
      { kind: "spoof" },
      "Declined",
      "reject",
      "LIVENESS_FACE_ATTACK",
    ],
    [
      "a WebP with several faces",
      "syn_astronaut.webp",
      { kind: "multiple_faces" },
      "Approved",
      // Was proceed before issue 18: a second face goes to a human.
      "review",
      "MULTIPLE_FACES_DETECTED",
    ],
    [
      "a TIFF duplicate",
      "syn_astronaut.tiff",
      { kind: "duplicate" },
      "Approved",
      "review",
      "DUPLICATED_FACE",
    ],
  ] as const)("gets a verdict for %s", async (_name, file, outcome, status, action, tag) => {
    double.enqueue(outcome as Outcome);
    const result = await session.call("check_passive_liveness", { image_path: file });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status, next_action: action });
    const risks = (result.structuredContent as { warnings: { risk: string }[] }).warnings.map((w) => w.risk);
    expect(risks).toContain(tag);
  });

  it("passes the threshold so that Didit declines at or below it", async () => {
    const result = await session.call("check_passive_liveness", {
      image_path: "syn_astronaut.jpg",
      face_liveness_score_decline_threshold: 95,
    });
    expect(result.structuredContent).toMatchObject({
      status: "Declined",
      next_action: "retake",
      is_live: false,
    });
    expect(double.requests[0]?.fields.face_liveness_score_decline_threshold).toBe("95");
  });

  it.each<[string, Outcome[], string]>([
    [
      "bad_request",
      [
        {
          kind: "status",
          status: 400,
          body: '{"face_liveness_score_decline_threshold":["Ensure this value is less than or equal to 100."]}',
        },
      ],
      "face_liveness_score_decline_threshold",
    ],
    [
      "forbidden",
      [
        {
          kind: "status",
          status: 403,
          body: '{"detail":"You do not have permission to perform this action."}',
        },
      ],
      "403",
    ],
    [
      "insufficient_credits",
      [{ kind: "status", status: 403, body: '{"detail":"Insufficient credits."}' }],
      "credits",
    ],
    [
      "insufficient_credits",
      [{ kind: "status", status: 402, body: '{"detail":"Payment required."}' }],
      "402",
    ],
    [
      "rate_limited",
      Array(3).fill({
        kind: "status",
        status: 429,
        body: '{"detail":"Request was throttled."}',
        headers: { "retry-after": "0" },
      }),
      "429",
    ],
    [
      "upstream_error",
      [{ kind: "status", status: 502, body: "Bad Gateway", contentType: "text/plain" }],
      "may have reached Didit",
    ],
    ["invalid_response", [{ kind: "truncated_json" }], "not JSON"],
  ])("reports %s", async (code, outcomes, mention) => {
    double.enqueue(...outcomes);
    const result = await session.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const text = textOf(result);
    expect(text).toMatch(new RegExp(`^Error \\[${code}\\]: .+\\nHint: .+`, "s"));
    expect(text).toContain(mention);
  });

  it("reports timeout at the configured deadline (a server of its own with DIDIT_TIMEOUT_MS=1500)", async () => {
    const short = await open({
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: double.url,
      DIDIT_TIMEOUT_MS: "1500",
    });
    double.enqueue({ kind: "hang" });
    const result = await short.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const text = textOf(result);
    expect(text).toMatch(/^Error \[timeout\]: .+\nHint: .+/s);
    expect(text).toContain("1500 ms");
  });

  it("redacts the key when Didit echoes it back in an error body, and never quotes a 401 body", async () => {
    double.enqueue({
      kind: "status",
      status: 400,
      body: JSON.stringify({ detail: `Invalid request for key ${TEST_API_KEY}.` }),
    });
    const quoted = await session.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(textOf(quoted)).toMatch(/^Error \[bad_request\]: .*\[REDACTED\]/);
    double.enqueue({
      kind: "status",
      status: 401,
      body: JSON.stringify({ detail: `Invalid API key ${TEST_API_KEY}.` }),
    });
    const unquoted = await session.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(textOf(unquoted)).toMatch(/^Error \[unauthorized\]: Didit did not accept the API key \(401\)\.\n/);
    // The afterAll scan then proves the key is in no result and no stderr line.
  });

  it("retries a 429 after Retry-After and then succeeds, without double billing", async () => {
    double.enqueue({ kind: "status", status: 429, body: "{}", headers: { "retry-after": "0" } });
    const result = await session.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(result.structuredContent).toMatchObject({ status: "Approved" });
    expect(double.requests).toHaveLength(2);
  });

  it("refuses bad input before any request leaves the machine", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ image_path: "../package.json" }, "path_not_allowed"],
      [{ image_path: "nope.jpg" }, "file_not_found"],
      [{ image_path: "SOURCES.md" }, "not_an_image"],
      [{ image_base64: Buffer.alloc(5 * 1024 * 1024 + 1).toString("base64") }, "too_large"],
      [{ image_base64: "%%%" }, "invalid_input"],
      [{ image_path: "syn_astronaut.jpg", rotate_image: "yes" }, "invalid_input"],
    ];
    for (const [args, code] of cases) {
      const result = await session.call("check_passive_liveness", args);
      expect(textOf(result), JSON.stringify(args).slice(0, 80)).toMatch(new RegExp(`^Error \\[${code}\\]`));
    }
    expect(double.requests).toHaveLength(0);
  });

  it("explains every documented tag", async () => {
    for (const tag of DOCUMENTED_TAGS) {
      const result = await session.call("explain_warning", { tag });
      expect(result.structuredContent).toMatchObject({ tag, known: true });
    }
  });
});

describe("configuration errors reach the agent as tool errors", () => {
  it("not_configured without a key; base64 still validated; path input explains how to allow dirs", async () => {
    const keyless = await open({ DIDIT_BASE_URL: double.url }, []);
    const check = await keyless.call("check_passive_liveness", { image_path: "x.jpg" });
    expect(textOf(check)).toMatch(/^Error \[not_configured\].*DIDIT_API_KEY/s);
    const explain = await keyless.call("explain_warning", { tag: "NO_FACE_DETECTED" });
    expect(explain.isError).toBeFalsy();
  });

  it("path input without allowed dirs is refused with how to configure it", async () => {
    const noDirs = await open({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url }, []);
    const result = await noDirs.call("check_passive_liveness", {
      image_path: path.join(FIXTURES, "syn_astronaut.jpg"),
    });
    expect(textOf(result)).toMatch(/^Error \[path_not_allowed\].*--allow-dir.*DIDIT_ALLOWED_DIRS/s);
    const bytes = await readFile(path.join(FIXTURES, "syn_astronaut.jpg"));
    const viaBase64 = await noDirs.call("check_passive_liveness", { image_base64: bytes.toString("base64") });
    expect(viaBase64.structuredContent).toMatchObject({ status: "Approved" });
  });

  // Was unauthorized (a 401 from the double) before issue 18: Didit's OpenAPI answers a wrong key with 403.
  it("forbidden with a wrong key, saying the key may be wrong, and the wrong key is not echoed either", async () => {
    const wrongKey = "wrong-key-abcdef0123456789";
    const s = await open({ DIDIT_API_KEY: wrongKey, DIDIT_BASE_URL: double.url });
    const result = await s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(textOf(result)).toMatch(
      /^Error \[forbidden\]: Didit refused the API key for Passive Liveness \(403\)\./,
    );
    expect(textOf(result)).toMatch(/wrong or revoked/);
    expect(JSON.stringify(result)).not.toContain(wrongKey);
    expect(double.requests[0]?.headers["x-api-key"]).toBe(wrongKey);
  });

  it("network_error when nothing listens at DIDIT_BASE_URL", async () => {
    const port = await freePort();
    const s = await open({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: `http://127.0.0.1:${port}` });
    const result = await s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(textOf(result)).toMatch(/^Error \[network_error\].*ECONNREFUSED/s);
  });
});

describe("stdout belongs to the protocol", () => {
  it("writes only JSON-RPC lines to stdout and logs to stderr", async () => {
    const bytes = await readFile(path.join(FIXTURES, "syn_astronaut.jpg"));
    const { stdout, stderr, code } = await runRaw(
      [
        {
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            clientInfo: { name: "raw", version: "1" },
          },
        },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/list" },
        {
          jsonrpc: "2.0",
          id: 3,
          method: "tools/call",
          params: { name: "check_passive_liveness", arguments: { image_base64: bytes.toString("base64") } },
        },
        {
          jsonrpc: "2.0",
          id: 4,
          method: "tools/call",
          params: { name: "check_passive_liveness", arguments: {} },
        },
      ],
      {
        env: baseEnv({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url }),
        args: ["--allow-dir", FIXTURES],
        waitForIds: 4,
      },
    );
    const lines = stdout.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    expect(stderr).toContain("ready");
    expect(stderr).not.toContain(TEST_API_KEY);
    expect(code).toBe(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
