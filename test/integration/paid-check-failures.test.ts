/**
 * A check that may have been billed must say so: metadata that could break the flow after the upload is refused
 * before anything leaves, and any failure once the upload has started carries the "may have been billed" hint.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DiditClient } from "../../src/didit/client.js";
import type { DiditLivenessResponse } from "../../src/didit/response-schema.js";
import { createServer } from "../../src/server/server.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";

const JPEG = path.resolve(import.meta.dirname, "../fixtures/syn_astronaut.jpg");
let double: DiditDouble;
let session: InMemorySession;
let jpegBase64: string;

beforeAll(async () => {
  double = await startDiditDouble();
  jpegBase64 = (await readFile(JPEG)).toString("base64");
  session = await startInMemory(testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url }));
});
afterAll(async () => {
  await session.close();
  await double.close();
});
afterEach(() => double.reset());

function nested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let current = root;
  for (let i = 0; i < depth; i++) {
    const next: Record<string, unknown> = {};
    current.a = next;
    current = next;
  }
  return root;
}

describe("metadata bounds, checked before anything leaves", () => {
  it("metadata nested 4,100 levels deep is refused as invalid_input and nothing is uploaded", async () => {
    const result = await session.call("check_passive_liveness", {
      image_base64: jpegBase64,
      metadata: nested(4_100),
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Error \[invalid_input\]: metadata .*nested.*32/s);
    expect(double.requests).toHaveLength(0);
  });

  it("metadata nested 33 levels deep is refused, one past the bound", async () => {
    const result = await session.call("check_passive_liveness", {
      image_base64: jpegBase64,
      metadata: nested(32),
    });
    expect(textOf(result)).toMatch(/^Error \[invalid_input\]: metadata is nested more than 32 levels/);
    expect(double.requests).toHaveLength(0);
  });

  it("metadata nested exactly 32 levels deep is sent", async () => {
    const result = await session.call("check_passive_liveness", {
      image_base64: jpegBase64,
      metadata: nested(31),
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(double.requests).toHaveLength(1);
  });

  it("metadata with more than 1,000 keys and elements in all is refused and nothing is uploaded", async () => {
    const wide = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, [i]]));
    const result = await session.call("check_passive_liveness", { image_base64: jpegBase64, metadata: wide });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Error \[invalid_input\]: metadata .*1,000/s);
    expect(double.requests).toHaveLength(0);
  });

  it("metadata that is not a JSON object (an array, a string) is refused", async () => {
    for (const metadata of [[1, 2], '{"a":1}', null]) {
      const result = await session.call("check_passive_liveness", { image_base64: jpegBase64, metadata });
      expect(result.isError, JSON.stringify(metadata)).toBe(true);
      expect(textOf(result)).toMatch(/^Error \[invalid_input\]: .*metadata/s);
    }
    expect(double.requests).toHaveLength(0);
  });
});

/** A Didit client whose answer breaks the flow after the upload: the check went out and may have been billed. */
function clientAnswering(response: unknown): DiditClient {
  return {
    checkPassiveLiveness: async () => response as DiditLivenessResponse,
    matchFaces: async () => {
      throw new Error("not used by these tests");
    },
    close: async () => {},
  };
}

const approved = {
  request_id: "a1b2c3d4-e5f6-7890-1234-567890abcdef",
  liveness: {
    status: "Approved",
    method: "PASSIVE",
    score: 95,
    user_image: { entities: [], best_angle: 0 },
    warnings: [],
    face_quality: 84,
    face_luminance: 50,
  },
  vendor_data: null,
  metadata: null,
  created_at: "2026-06-12T01:04:42.763237+00:00",
};

async function callWith(response: unknown) {
  const s = await startInMemory(testConfig({ apiKey: TEST_API_KEY }), clientAnswering(response));
  try {
    return await s.call("check_passive_liveness", { image_base64: jpegBase64 });
  } finally {
    await s.close();
  }
}

function expectBilledHint(text: string) {
  expect(text).toMatch(/^Error \[[a-z_]+\]: /);
  expect(text).toMatch(/may have (reached Didit and )?been billed/i);
  expect(text).not.toMatch(/try again/i);
}

describe("failures after the upload started say the check may have been billed", () => {
  it("an exception while assessing Didit's answer", async () => {
    const broken = {
      ...approved,
      get liveness(): never {
        throw new Error("boom while assessing");
      },
    };
    expectBilledHint(textOf(await callWith(broken)));
  });

  it("an exception while serialising the result", async () => {
    const unserialisable = {
      ...approved,
      created_at: {
        toJSON: () => {
          throw new Error("boom in toJSON");
        },
      },
    };
    expectBilledHint(textOf(await callWith(unserialisable)));
  });

  it("an exception while redacting the result", async () => {
    const server = createServer({
      config: testConfig({ apiKey: TEST_API_KEY }),
      client: clientAnswering(approved),
      logger: { log: () => {} },
      // Throws only on the successful result, as a redactor bug would; the error result must still get out.
      redact: (text) => {
        if (text.includes(approved.request_id)) throw new Error("boom in redact");
        return text;
      },
      version: "test",
    });
    const client = new Client({ name: "redact-test", version: "1" });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(b), client.connect(a)]);
    try {
      const result = (await client.callTool({
        name: "check_passive_liveness",
        arguments: { image_base64: jpegBase64 },
      })) as CallToolResult;
      expectBilledHint(textOf(result));
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("an echo of metadata nested 10,000 levels deep from a hostile Didit still gives the verdict", async () => {
    const result = await callWith({ ...approved, metadata: nested(10_000) });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: "Approved" });
    expect(result.structuredContent).not.toHaveProperty("metadata");
  });
});
