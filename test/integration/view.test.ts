import { readFileSync } from "node:fs";
import path from "node:path";
import { getToolUiResourceUri, isToolVisibilityAppOnly } from "@modelcontextprotocol/ext-apps/app-bridge";
import {
  RESOURCE_MIME_TYPE,
  registerAppResource,
  registerAppTool,
} from "@modelcontextprotocol/ext-apps/server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { createUploadState } from "../../src/core/errors.js";
import { createSandboxClient } from "../../src/didit/sandbox-client.js";
import { readImageDimensions } from "../../src/images/dimensions.js";
import { registerVerdictView, VIEW_HTML_PATH } from "../../src/server/view.js";
import {
  THUMBNAIL_TOOL_NAME,
  VIEW_META_KEY,
  VIEW_MIME_TYPE,
  VIEW_URI,
  type ViewMeta,
} from "../../src/view/contract.js";
import { createViewSupport } from "../../src/view/support.js";
import { createThumbnailStore } from "../../src/view/thumbnails.js";
import { FIXTURES, type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";
import { BASELINE_CALLS, stableText } from "../support/view-calls.js";

const VIEW_TOOLS = ["check_passive_liveness", "verify_selfie", "match_faces", "precheck_face_image"];
const ROOT = path.resolve(import.meta.dirname, "../..");
const sandboxConfig = (overrides = {}) =>
  testConfig({ sandbox: true, allowedDirs: [FIXTURES], ...overrides });
const viewMeta = (result: CallToolResult) => result._meta?.[VIEW_META_KEY] as ViewMeta | undefined;

let session: InMemorySession;
beforeAll(async () => {
  session = await startInMemory(sandboxConfig(), createSandboxClient());
});
afterAll(() => session.close());

describe("the view's registration", () => {
  it("has the four image tools name the view as the extension's registerAppTool would, and no other tool", async () => {
    const expected: Record<string, unknown>[] = [];
    registerAppTool(
      {
        registerTool: (_name: string, config: { _meta?: Record<string, unknown> }) =>
          expected.push(config._meta ?? {}),
      } as never,
      "any",
      { _meta: { ui: { resourceUri: VIEW_URI } } },
      async () => ({ content: [] }),
    );
    const { tools } = await session.client.listTools();
    for (const name of VIEW_TOOLS) {
      const tool = tools.find((t) => t.name === name);
      expect(tool?._meta, name).toEqual(expected[0]);
      expect(tool && getToolUiResourceUri(tool)).toBe(VIEW_URI);
      expect(tool && isToolVisibilityAppOnly(tool)).toBe(false);
    }
    expect(tools.find((t) => t.name === "explain_warning")?._meta).toBeUndefined();
  });

  it("offers the thumbnail tool to the view only (visibility app)", async () => {
    const { tools } = await session.client.listTools();
    const thumbnail = tools.find((t) => t.name === THUMBNAIL_TOOL_NAME);
    expect(thumbnail && isToolVisibilityAppOnly(thumbnail)).toBe(true);
    expect(thumbnail?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
  });

  it("serves one self-contained HTML document with the extension's MIME type, as registerAppResource would", async () => {
    const expected: { mimeType?: string }[] = [];
    registerAppResource(
      {
        registerResource: (_n: string, _u: string, config: { mimeType?: string }) => expected.push(config),
      } as never,
      "any",
      VIEW_URI,
      {},
      async () => ({ contents: [] }),
    );
    expect(VIEW_MIME_TYPE).toBe(RESOURCE_MIME_TYPE);
    const { resources } = await session.client.listResources();
    expect(resources.find((r) => r.uri === VIEW_URI)?.mimeType).toBe(expected[0]?.mimeType);

    const read = await session.client.readResource({ uri: VIEW_URI });
    const content = read.contents[0] as { mimeType: string; text: string; _meta?: unknown };
    expect(content.mimeType).toBe(RESOURCE_MIME_TYPE);
    expect(content.text).toBe(readFileSync(path.join(ROOT, ...VIEW_HTML_PATH), "utf8"));
    expect(content.text).toMatch(/^<!doctype html>/);
    // Nothing to fetch: no external script, stylesheet, image or font.
    expect(content.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*["']?https?:/i);
    expect(content.text).toContain("Waiting for the check's result");
    const bytes = Buffer.byteLength(content.text);
    // The extension's App with the MCP SDK and zod is ~510 KB minified; ours is ~15 KB (the build prints both).
    expect(bytes).toBeLessThan(650 * 1024);
  });
});

describe("a check's result", () => {
  it("stays byte-identical in its text and structuredContent to the output before the view", async () => {
    const baseline = JSON.parse(
      readFileSync(path.join(FIXTURES, "view-text-baseline.json"), "utf8"),
    ) as Record<string, string>;
    expect(Object.keys(baseline)).toEqual(BASELINE_CALLS.map((c) => c.key));
    for (const call of BASELINE_CALLS) {
      const result = await session.call(call.tool, call.args);
      expect(stableText(result), call.key).toBe(baseline[call.key]);
      expect(JSON.stringify(result.structuredContent)).toBe(textOf(result));
      expect(viewMeta(result)?.images.length, call.key).toBeGreaterThan(0);
    }
  });

  it("carries the photo's size, the applied threshold and a thumbnail handle in _meta only", async () => {
    const result = await session.call("check_passive_liveness", {
      image_path: "live_silentface_T1.jpg",
      face_liveness_score_decline_threshold: 95,
    });
    const meta = viewMeta(result);
    expect(meta).toMatchObject({
      images: [{ role: "image", width: 480, height: 640, thumbnail: expect.any(String) }],
      thresholds: { liveness: 95, face_match: 30 },
    });
    const handle = meta?.images[0]?.thumbnail ?? "";
    expect(handle).toMatch(/^[\w-]{16}$/);
    expect(textOf(result)).not.toContain(handle);
    expect(JSON.stringify(result.structuredContent)).not.toContain(handle);
  });

  it("holds both photos of a face match and a selfie verification", async () => {
    for (const tool of ["match_faces", "verify_selfie"]) {
      const result = await session.call(tool, {
        user_image_path: "live_silentface_T1.jpg",
        ref_image_path: "syn_astronaut.jpg",
      });
      expect(
        viewMeta(result)?.images.map((i) => [i.role, i.width, i.height]),
        tool,
      ).toEqual([
        ["user", 480, 640],
        ["ref", 512, 512],
      ]);
    }
  });

  it("carries nothing for the view when the call fails", async () => {
    const result = await session.call("check_passive_liveness", { image_path: "missing.jpg" });
    expect(result.isError).toBe(true);
    expect(result._meta).toBeUndefined();
  });
});

describe("the thumbnail tool", () => {
  it("answers a JPEG of at most 320 px a side, with the frame the boxes are in", async () => {
    const result = await session.call("check_passive_liveness", { image_path: "live_silentface_T1.jpg" });
    const handle = viewMeta(result)?.images[0]?.thumbnail as string;
    const thumbnail = await session.call(THUMBNAIL_TOOL_NAME, { handle });
    expect(thumbnail.structuredContent).toEqual({ available: true, width: 480, height: 640 });
    const image = thumbnail.content[0];
    expect(image).toMatchObject({ type: "image", mimeType: "image/jpeg" });
    const jpeg = Buffer.from(image?.type === "image" ? image.data : "", "base64");
    expect(readImageDimensions(jpeg)).toEqual({ width: 240, height: 320 });
    // Read twice, decoded once: the second answer is the same thumbnail.
    expect((await session.call(THUMBNAIL_TOOL_NAME, { handle })).content).toEqual(thumbnail.content);
  });

  it("finds a handle only for the caller it was made for, and not after it expires", async () => {
    let now = 1_000_000;
    const store = createThumbnailStore({ ttlMs: 60_000, now: () => now });
    const alice = await startInMemory(sandboxConfig(), createSandboxClient(), {
      thumbnails: store,
      callerId: "a",
    });
    const bob = await startInMemory(sandboxConfig(), createSandboxClient(), {
      thumbnails: store,
      callerId: "b",
    });
    try {
      const result = await alice.call("check_passive_liveness", { image_path: "live_silentface_T1.jpg" });
      const handle = viewMeta(result)?.images[0]?.thumbnail as string;
      const stolen = await bob.call(THUMBNAIL_TOOL_NAME, { handle });
      expect(stolen.isError).toBe(true);
      expect(textOf(stolen)).toMatch(/^Error \[invalid_input\]: No photo is held under this handle/);
      expect((await alice.call(THUMBNAIL_TOOL_NAME, { handle })).isError).toBeFalsy();
      now += 60_000;
      expect((await alice.call(THUMBNAIL_TOOL_NAME, { handle })).isError).toBe(true);
      expect(store.size).toBe(0);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it("says so when the optional image library is missing, so the view draws a plain frame", async () => {
    const store = createThumbnailStore();
    const server = new McpServer({ name: "view-test", version: "0" });
    const view = createViewSupport({ store, scope: "local", thumbnails: true });
    registerVerdictView(server, view, (_tool, call) => call(createUploadState()), {
      loadSharp: async () => undefined,
    });
    const client = new Client({ name: "t", version: "0" });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(a), client.connect(b)]);
    const handle = store.hold("local", {
      bytes: readFileSync(path.join(FIXTURES, "syn_astronaut.jpg")),
      angle: 0,
    });
    const result = (await client.callTool({
      name: THUMBNAIL_TOOL_NAME,
      arguments: { handle },
    })) as CallToolResult;
    expect(result.structuredContent).toMatchObject({ available: false, width: null, height: null });
    expect(result.content.some((c) => c.type === "image")).toBe(false);
    await client.close();
    await server.close();
  });
});

describe("the thumbnail store", () => {
  it("holds a bounded count and bytes, oldest out first", () => {
    const store = createThumbnailStore({ maxEntries: 2, maxBytes: 10 });
    const first = store.hold("s", { bytes: new Uint8Array(4), angle: 0 });
    const second = store.hold("s", { bytes: new Uint8Array(4), angle: 0 });
    store.hold("s", { bytes: new Uint8Array(4), angle: 0 });
    expect(store.find("s", first)).toBeUndefined();
    expect(store.find("s", second)).toBeDefined();
    expect(store.size).toBe(2);
    store.hold("s", { bytes: new Uint8Array(9), angle: 0 });
    expect(store.size).toBe(1);
    expect(store.heldBytes).toBe(9);
  });
});

describe("DIDIT_VIEW_THUMBNAILS=false", () => {
  it("is read from the environment, and then no photo is held and no handle handed out", async () => {
    const config = await loadConfig({ allowDirs: [], sandbox: true }, { DIDIT_VIEW_THUMBNAILS: "false" });
    expect(config.viewThumbnails).toBe(false);
    const store = createThumbnailStore();
    const off = await startInMemory(sandboxConfig({ viewThumbnails: false }), createSandboxClient(), {
      thumbnails: store,
    });
    try {
      const result = await off.call("check_passive_liveness", { image_path: "live_silentface_T1.jpg" });
      expect(viewMeta(result)?.images).toEqual([{ role: "image", width: 480, height: 640, thumbnail: null }]);
      expect(store.size).toBe(0);
    } finally {
      await off.close();
    }
  });
});
