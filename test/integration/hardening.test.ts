import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import {
  type CallToolResult,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type Progress,
} from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/config.js";
import { createRedactor } from "../../src/core/redact.js";
import { createDiditClient } from "../../src/didit/client.js";
import { createServer } from "../../src/server/server.js";
import { type DiditDouble, delayed, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { startInMemory, testConfig, textOf } from "../support/in-memory.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const JPEG = path.join(FIXTURES, "syn_astronaut.jpg");

let double: DiditDouble;
let imagesDir: string;

beforeAll(async () => {
  double = await startDiditDouble();
  imagesDir = await realpath(await mkdtemp(path.join(os.tmpdir(), "liveness-roots-")));
  await writeFile(path.join(imagesDir, "selfie.jpg"), await readFile(JPEG));
});
afterAll(async () => {
  await double.close();
  await rm(imagesDir, { recursive: true, force: true });
});
afterEach(() => double.reset());

/** A client with chosen capabilities (roots, elicitation) connected in memory to createServer(). */
async function connect(
  config: Config,
  setup: (client: Client) => void,
  capabilities: ConstructorParameters<typeof Client>[1],
) {
  const redact = createRedactor([config.apiKey]);
  const didit = createDiditClient({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey ?? "",
    timeoutMs: config.timeoutMs,
  });
  const server = createServer({ config, client: didit, logger: { log: () => {} }, redact, version: "test" });
  const client = new Client({ name: "caps-test", version: "1" }, capabilities);
  setup(client);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(b), client.connect(a)]);
  await client.listTools();
  return {
    client,
    call: async (args: Record<string, unknown>) =>
      (await client.callTool({ name: "check_passive_liveness", arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
      await didit.close();
    },
  };
}

const keyed = (overrides: Partial<Config> = {}) =>
  testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url, ...overrides });

describe("MCP roots when no directories are configured", () => {
  it("reads inside the client's file:// roots and follows roots/list_changed", async () => {
    let roots = [{ uri: pathToFileURL(FIXTURES).href, name: "fixtures" }];
    const s = await connect(
      keyed(),
      (client) => client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots })),
      { capabilities: { roots: { listChanged: true } } },
    );
    try {
      const first = await s.call({ image_path: JPEG });
      expect(first.isError).toBeFalsy();
      const outside = await s.call({ image_path: path.join(imagesDir, "selfie.jpg") });
      expect(textOf(outside)).toMatch(/^Error \[path_not_allowed\]/);

      roots = [{ uri: pathToFileURL(imagesDir).href, name: "images" }];
      await s.client.sendRootsListChanged();
      // The refresh is asynchronous; the next call awaits the pending roots request, so no sleep is needed.
      const nowInside = await s.call({ image_path: path.join(imagesDir, "selfie.jpg") });
      expect(nowInside.isError).toBeFalsy();
      const nowOutside = await s.call({ image_path: JPEG });
      expect(textOf(nowOutside)).toMatch(/^Error \[path_not_allowed\]/);
    } finally {
      await s.close();
    }
  });

  it("configured directories win over client roots", async () => {
    const s = await connect(
      keyed({ allowedDirs: [imagesDir] }),
      (client) =>
        client.setRequestHandler(ListRootsRequestSchema, async () => ({
          roots: [{ uri: pathToFileURL(FIXTURES).href }],
        })),
      { capabilities: { roots: {} } },
    );
    try {
      expect(textOf(await s.call({ image_path: JPEG }))).toMatch(/^Error \[path_not_allowed\]/);
      expect((await s.call({ image_path: "selfie.jpg" })).isError).toBeFalsy();
    } finally {
      await s.close();
    }
  });
});

describe("upload consent (DIDIT_CONFIRM_UPLOADS)", () => {
  it("asks before uploading and uploads only on an explicit yes", async () => {
    const messages: string[] = [];
    let answer: { action: "accept" | "decline"; content?: { confirm: boolean } } = {
      action: "accept",
      content: { confirm: true },
    };
    const s = await connect(
      keyed({ confirmUploads: true, allowedDirs: [imagesDir] }),
      (client) =>
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          messages.push(String(request.params.message));
          return answer;
        }),
      { capabilities: { elicitation: {} } },
    );
    try {
      expect((await s.call({ image_path: "selfie.jpg" })).isError).toBeFalsy();
      expect(messages[0]).toMatch(/^Upload selfie\.jpg, \d+ KB, to Didit/);
      expect(double.requests).toHaveLength(1);

      answer = { action: "decline" };
      expect(textOf(await s.call({ image_path: "selfie.jpg" }))).toMatch(/^Error \[consent_declined\]/);
      answer = { action: "accept", content: { confirm: false } };
      expect(textOf(await s.call({ image_path: "selfie.jpg" }))).toMatch(/^Error \[consent_declined\]/);
      expect(double.requests).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("fails closed when the client cannot ask", async () => {
    const s = await connect(keyed({ confirmUploads: true, allowedDirs: [FIXTURES] }), () => {}, {
      capabilities: {},
    });
    try {
      const result = await s.call({ image_path: "syn_astronaut.jpg" });
      expect(textOf(result)).toMatch(/^Error \[consent_declined\].*elicitation/s);
      expect(double.requests).toHaveLength(0);
    } finally {
      await s.close();
    }
  });
});

describe("cost guard", () => {
  it("refuses checks beyond DIDIT_MAX_CHECKS_PER_MINUTE without calling Didit", async () => {
    const s = await startInMemory(keyed({ allowedDirs: [FIXTURES], maxChecksPerMinute: 2 }));
    try {
      expect(
        (await s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" })).isError,
      ).toBeFalsy();
      expect(
        (await s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" })).isError,
      ).toBeFalsy();
      const third = await s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
      expect(textOf(third)).toMatch(
        /^Error \[rate_limited\]: .*DIDIT_MAX_CHECKS_PER_MINUTE.*\nHint: Wait \d+ s/s,
      );
      expect(double.requests).toHaveLength(2);
      // Input errors do not spend the budget, and explain_warning is never limited.
      expect((await s.call("explain_warning", { tag: "NO_FACE_DETECTED" })).isError).toBeFalsy();
    } finally {
      await s.close();
    }
  });
});

describe("progress and cancellation", () => {
  it("sends progress notifications when the client asks for them", async () => {
    const s = await startInMemory(keyed({ allowedDirs: [FIXTURES] }));
    try {
      const seen: Progress[] = [];
      const result = await s.client.callTool(
        { name: "check_passive_liveness", arguments: { image_path: "syn_astronaut.jpg" } },
        undefined,
        { onprogress: (p) => seen.push(p) },
      );
      expect(result.isError).toBeFalsy();
      const messages = seen.map((p) => p.message);
      expect(messages).toEqual([
        "Validating the image",
        "Uploading the image to Didit",
        "Waiting for Didit's verdict",
      ]);
      expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
    } finally {
      await s.close();
    }
  });

  it("reports the retry wait in progress after a 429", async () => {
    const s = await startInMemory(keyed({ allowedDirs: [FIXTURES] }));
    try {
      double.enqueue({ kind: "status", status: 429, body: "{}", headers: { "retry-after": "0" } });
      const seen: string[] = [];
      await s.client.callTool(
        { name: "check_passive_liveness", arguments: { image_path: "syn_astronaut.jpg" } },
        undefined,
        { onprogress: (p) => seen.push(p.message ?? "") },
      );
      expect(seen.some((m) => /retrying in \d+ s/.test(m))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it("a cancelled call aborts its HTTP request at once", async () => {
    const s = await startInMemory(keyed({ allowedDirs: [FIXTURES], timeoutMs: 20_000 }));
    try {
      double.enqueue({ kind: "hang" });
      const controller = new AbortController();
      const pending = s.client.callTool(
        { name: "check_passive_liveness", arguments: { image_path: "syn_astronaut.jpg" } },
        undefined,
        { signal: controller.signal },
      );
      await double.waitForRequests(1);
      const started = performance.now();
      controller.abort("user cancelled");
      await expect(pending).rejects.toThrow();
      // Well under the 20 s deadline, so only the cancellation can have ended it; wide for a loaded machine.
      expect(performance.now() - started).toBeLessThan(5000);
      double.setDefault(delayed(0));
      // The pool is not wedged by the aborted request.
      expect(
        (await s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" })).isError,
      ).toBeFalsy();
    } finally {
      await s.close();
    }
  });
});

describe("connection pool", () => {
  it("concurrent first checks share one pool of at most 16 connections", async () => {
    // Regression: the lazily created pool was raced by concurrent first calls, one pool (and socket) each.
    const s = await startInMemory(keyed({ allowedDirs: [FIXTURES] }));
    try {
      double.setDefault(delayed(50));
      const before = double.connections;
      const results = await Promise.all(
        Array.from({ length: 24 }, () =>
          s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" }),
        ),
      );
      expect(results.every((r) => !r.isError)).toBe(true);
      expect(double.connections - before).toBeLessThanOrEqual(16);
    } finally {
      await s.close();
    }
  });
});

describe("robustness", () => {
  it("turns an unexpected exception into that call's internal_error and keeps serving", async () => {
    const broken = {
      checkPassiveLiveness: async () => {
        throw new TypeError(`boom ${TEST_API_KEY}`);
      },
      matchFaces: async () => {
        throw new TypeError(`boom ${TEST_API_KEY}`);
      },
      close: async () => {},
    };
    const s = await startInMemory(keyed({ allowedDirs: [FIXTURES] }), broken);
    try {
      const result = await s.call("check_passive_liveness", { image_path: "syn_astronaut.jpg" });
      expect(textOf(result)).toMatch(/^Error \[internal_error\]: .*boom/s);
      expect(textOf(result)).not.toContain(TEST_API_KEY);
      expect(s.logs.map((l) => l.message).join("\n")).not.toContain(TEST_API_KEY);
      expect((await s.call("explain_warning", { tag: "LOW_LIVENESS_SCORE" })).isError).toBeFalsy();
    } finally {
      await s.close();
    }
  });

  it("answers every arbitrary input to both tools with a result or a coded tool error (property)", async () => {
    const s = await startInMemory(keyed({ allowedDirs: [FIXTURES] }));
    const jpeg = await readFile(JPEG);
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    );
    const checkArgs = fc.record(
      {
        image_path: fc.oneof(
          fc.string(),
          fc.constantFrom(
            "syn_astronaut.jpg",
            "../../etc/passwd",
            "/dev/zero",
            "SOURCES.md",
            "a\0b",
            "C:\\x.jpg",
          ),
          value,
        ),
        image_base64: fc.oneof(
          fc.string(),
          fc.base64String({ maxLength: 64 }),
          fc.constant(jpeg.toString("base64")),
          fc.constant(`data:image/jpeg;base64,${jpeg.toString("base64")}`),
          value,
        ),
        face_liveness_score_decline_threshold: fc.oneof(
          fc.double(),
          fc.integer({ min: -5, max: 105 }),
          value,
        ),
        rotate_image: fc.oneof(fc.boolean(), value),
        save_api_request: fc.oneof(fc.boolean(), value),
        vendor_data: fc.oneof(fc.string(), value),
        metadata: fc.oneof(fc.dictionary(fc.string(), value, { maxKeys: 4 }), value),
        include_face_attributes: fc.oneof(fc.boolean(), value),
        unexpected: value,
      },
      { requiredKeys: [] },
    );
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            checkArgs.map((args) => ({ name: "check_passive_liveness", args })),
            fc
              .record({ tag: fc.oneof(fc.string(), value) }, { requiredKeys: [] })
              .map((args) => ({ name: "explain_warning", args })),
          ),
          async ({ name, args }) => {
            const result = await s.call(name, args as Record<string, unknown>);
            if (result.isError) {
              expect(textOf(result)).toMatch(/^Error \[[a-z_]+\]: .+\nHint: .+/s);
              expect(result.structuredContent).toBeUndefined();
            } else {
              expect(result.structuredContent).toBeTypeOf("object");
            }
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      await s.close();
    }
  });
});
