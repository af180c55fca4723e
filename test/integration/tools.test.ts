import { readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TOOLS } from "../../src/server/tools/index.js";
import { THUMBNAIL_TOOL_NAME } from "../../src/view/contract.js";
import { type DiditDouble, requestIdFor, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { DOCUMENTED_TAGS } from "../support/expectations.js";
import { type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

let double: DiditDouble;
let session: InMemorySession;

beforeAll(async () => {
  double = await startDiditDouble();
  session = await startInMemory(
    testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url, allowedDirs: [FIXTURES] }),
  );
});
afterAll(async () => {
  await session.close();
  await double.close();
});
afterEach(() => double.reset());

describe("tools/list", () => {
  it("declares both tools with input and output schemas and the documented annotations", async () => {
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "check_passive_liveness",
      "explain_warning",
      "precheck_face_image",
      "match_faces",
      "verify_selfie",
      "view_face_thumbnail",
    ]);
    const [check, explain] = tools;
    expect(check?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(check?.annotations?.title).toBeTruthy();
    expect(check?.description).toMatch(/uploads the face image to Didit/);
    expect(check?.description).toMatch(/one Didit credit/);
    expect(check?.description).toMatch(/save_api_request is false/);
    expect(check?.inputSchema.additionalProperties).toBe(false);
    const props = check?.inputSchema.properties as Record<string, { description?: string }>;
    for (const [name, prop] of Object.entries(props)) {
      expect(prop.description, `${name} is described`).toBeTruthy();
    }
    expect(Object.keys(props).sort()).toEqual(
      [
        "face_liveness_score_decline_threshold",
        "image_base64",
        "image_path",
        "image_url",
        "include_face_attributes",
        "metadata",
        "rotate_image",
        "save_api_request",
        "vendor_data",
      ].sort(),
    );
    expect(check?.outputSchema?.properties).toHaveProperty("next_action");
    expect(explain?.annotations).toMatchObject({
      readOnlyHint: true,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(explain?.outputSchema?.properties).toHaveProperty("user_message");
  });
});

describe("check_passive_liveness", () => {
  it("checks a JPEG by path and passes every Didit field under its own name", async () => {
    const result = await session.call("check_passive_liveness", {
      image_path: "live_silentface_T1.jpg",
      face_liveness_score_decline_threshold: 40,
      rotate_image: true,
      save_api_request: false,
      vendor_data: "user-42",
      metadata: { flow: "signup" },
    });
    expect(result.isError).toBeFalsy();
    const bytes = await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"));
    const out = result.structuredContent as Record<string, unknown>;
    expect(out).toMatchObject({
      request_id: requestIdFor(bytes),
      status: "Approved",
      is_live: true,
      next_action: "proceed",
      vendor_data: "user-42",
      metadata: { flow: "signup" },
      faces_detected: 1,
      best_angle: 90,
    });
    expect(JSON.parse(textOf(result))).toEqual(out);
    const [request] = double.requests;
    expect(request?.fields).toEqual({
      face_liveness_score_decline_threshold: "40",
      rotate_image: "true",
      save_api_request: "false",
      vendor_data: "user-42",
      metadata: '{"flow":"signup"}',
    });
    expect(request?.file).toMatchObject({
      field: "user_image",
      filename: "image.jpg",
      contentType: "image/jpeg",
    });
    expect(request?.headers["x-api-key"]).toBe(TEST_API_KEY);
  });

  it("omits age and gender unless include_face_attributes is true", async () => {
    const plain = await session.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    const face = (plain.structuredContent as { faces: Record<string, unknown>[] }).faces[0];
    expect(face).toBeDefined();
    expect(Object.keys(face ?? {}).sort()).toEqual(["bbox", "confidence"]);
    const withAttributes = await session.call("check_passive_liveness", {
      image_path: "syn_astronaut.jpg",
      include_face_attributes: true,
    });
    const detailed = (withAttributes.structuredContent as { faces: Record<string, unknown>[] }).faces[0];
    expect(detailed).toHaveProperty("age");
    expect(detailed).toHaveProperty("gender");
  });

  it("checks a PNG given as a base64 data URL", async () => {
    const bytes = await readFile(path.join(FIXTURES, "syn_camera_gray.png"));
    const result = await session.call("check_passive_liveness", {
      image_base64: `data:image/png;base64,${bytes.toString("base64")}`,
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ request_id: requestIdFor(bytes), status: "Approved" });
    expect(double.requests[0]?.file).toMatchObject({
      filename: "image.png",
      contentType: "image/png",
      size: bytes.length,
    });
  });

  it.each([
    ["spoof", { kind: "spoof" }, "Declined", "reject"],
    ["no face", { kind: "no_face" }, "Declined", "retake"],
    ["low score", { kind: "low_score" }, "Declined", "retake"],
    ["blocklist", { kind: "blocklist" }, "Declined", "reject"],
    ["possible blocklist", { kind: "blocklist", possible: true }, "Declined", "review"],
    ["duplicate", { kind: "duplicate" }, "Approved", "review"],
    // Was proceed before issue 18: a second face goes to a human.
    ["multiple faces", { kind: "multiple_faces" }, "Approved", "review"],
    ["unknown error tag", { kind: "unknown_error_tag" }, "Declined", "review"],
    ["older response form", { kind: "old_form" }, "Approved", "proceed"],
  ] as const)("maps a %s verdict to next_action", async (_name, outcome, status, action) => {
    double.enqueue(outcome);
    const result = await session.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      status,
      next_action: action,
      is_live: status === "Approved",
    });
    expect((result.structuredContent as { summary: string }).summary).toMatch(/\S/);
  });

  it("reports a faceless image with null scores", async () => {
    double.enqueue({ kind: "no_face" });
    const result = await session.call("check_passive_liveness", { image_path: "syn_no_face_gradient.png" });
    expect(result.structuredContent).toMatchObject({
      score: null,
      face_quality: null,
      face_luminance: null,
      faces_detected: 0,
      faces: [],
    });
    expect(
      (result.structuredContent as { warnings: { risk: string }[] }).warnings.map((w) => w.risk),
    ).toEqual(["NO_FACE_DETECTED"]);
  });

  it("refuses input errors as tool errors with a code and a hint, without calling Didit", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, "invalid_input"],
      [{ image_path: "syn_astronaut.jpg", image_base64: "AAAA" }, "invalid_input"],
      [{ image_path: "syn_astronaut.jpg", surprise: 1 }, "invalid_input"],
      [{ image_path: "syn_astronaut.jpg", face_liveness_score_decline_threshold: 101 }, "invalid_input"],
      [{ image_path: "/etc/passwd" }, "path_not_allowed"],
      [{ image_path: "missing.jpg" }, "file_not_found"],
      [{ image_path: "SOURCES.md" }, "not_an_image"],
      [{ image_base64: "not base64!" }, "invalid_input"],
      [{ image_base64: Buffer.from("%PDF-1.4 hello").toString("base64") }, "not_an_image"],
    ];
    for (const [args, code] of cases) {
      const result = await session.call("check_passive_liveness", args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(result.structuredContent).toBeUndefined();
      expect(textOf(result)).toMatch(new RegExp(`^Error \\[${code}\\]: .+\\nHint: .+`, "s"));
    }
    expect(double.requests).toHaveLength(0);
  });

  it("turns Didit's errors into coded tool errors", async () => {
    const cases: [Parameters<DiditDouble["enqueue"]>[0], string][] = [
      [{ kind: "status", status: 400, body: '{"user_image":["Upload a valid image."]}' }, "bad_request"],
      [{ kind: "status", status: 401, body: '{"detail":"Invalid API key."}' }, "unauthorized"],
      [{ kind: "status", status: 403, body: '{"detail":"You do not have permission."}' }, "forbidden"],
      [{ kind: "status", status: 403, body: '{"detail":"Insufficient credits."}' }, "insufficient_credits"],
      [
        { kind: "status", status: 500, body: "<html>oops</html>", contentType: "text/html" },
        "upstream_error",
      ],
      [{ kind: "truncated_json" }, "invalid_response"],
    ];
    for (const [outcome, code] of cases) {
      double.enqueue(outcome);
      const result = await session.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(new RegExp(`^Error \\[${code}\\]`));
    }
  });
});

describe("validation inside the handlers, not the SDK", () => {
  it("lists each input schema exactly as the SDK lists the real schema (what the SDK parses is only a stand-in)", async () => {
    // The reference: the SDK's own listing of the real schemas, registered the plain way.
    const plain = new McpServer({ name: "plain", version: "0.0.0" });
    for (const tool of TOOLS) {
      plain.registerTool(
        tool.name,
        { inputSchema: tool.inputSchema, outputSchema: tool.outputSchema },
        () => {
          throw new Error("not called");
        },
      );
    }
    const client = new Client({ name: "reference", version: "0.0.0" });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await Promise.all([plain.connect(serverTransport), client.connect(clientTransport)]);
    const reference = (await client.listTools()).tools;
    await client.close();
    // The verdict view's thumbnail tool is not one of TOOLS (only the view calls it): test/integration/view.test.ts.
    const listed = (await session.client.listTools()).tools.filter((t) => t.name !== THUMBNAIL_TOOL_NAME);
    expect(listed).toHaveLength(TOOLS.length);
    for (const tool of listed) {
      const expected = reference.find((r) => r.name === tool.name);
      expect(tool.inputSchema, tool.name).toEqual(expected?.inputSchema);
      expect(tool.outputSchema, tool.name).toEqual(expected?.outputSchema);
    }
  });

  it.each(TOOLS.map((tool) => tool.name))(
    "%s answers a schema violation as our invalid_input error naming the argument",
    async (name) => {
      const result = await session.call(name, { surprise: 1, tag: 7, image_path: 42 });
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toBeUndefined();
      expect(textOf(result)).toMatch(
        new RegExp(
          `^Error \\[invalid_input\\]: Invalid arguments for ${name}: .*surprise.*\\nHint: Fix the named argument`,
          "s",
        ),
      );
      expect(double.requests).toHaveLength(0);
    },
  );
});

describe("explain_warning", () => {
  it.each(DOCUMENTED_TAGS)("explains %s", async (tag) => {
    const result = await session.call("explain_warning", { tag: tag.toLowerCase().replace(/_/g, " ") });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ tag, known: true });
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  });

  it("answers an unknown tag with known: false and the known tags, not an error", async () => {
    const result = await session.call("explain_warning", { tag: "brand-new-tag" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      tag: "BRAND_NEW_TAG",
      known: false,
      known_tags: DOCUMENTED_TAGS,
    });
  });
});

describe("without an API key", () => {
  it("still lists tools, explains warnings, and refuses checks with not_configured", async () => {
    const keyless = await startInMemory(testConfig({ allowedDirs: [FIXTURES] }));
    try {
      const { tools } = await keyless.client.listTools();
      expect(tools).toHaveLength(6);
      const explained = await keyless.call("explain_warning", { tag: "LOW_FACE_QUALITY" });
      expect(explained.isError).toBeFalsy();
      const result = await keyless.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^Error \[not_configured\].*\nHint: .*DIDIT_API_KEY/s);
      for (const tool of ["match_faces", "verify_selfie"]) {
        const refused = await keyless.call(tool, {
          user_image_path: "syn_astronaut.jpg",
          ref_image_path: "syn_astronaut.jpg",
        });
        expect(textOf(refused), tool).toMatch(/^Error \[not_configured\].*\nHint: .*DIDIT_API_KEY/s);
      }
    } finally {
      await keyless.close();
    }
  });
});
