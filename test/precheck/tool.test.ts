import { readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { asToolFailure, createUploadState, toolErrorResult } from "../../src/core/errors.js";
import { createUrlPolicy } from "../../src/images/url-policy.js";
import type { EngineLocations } from "../../src/precheck/index.js";
import type { PrecheckOutput } from "../../src/precheck/types.js";
import { PRECHECK_TOOL_NAME, precheckTool } from "../../src/server/tools/precheck-face-image.js";
import { registerTool } from "../../src/server/tools/tool.js";
import { serveBytes, startImageServer } from "../support/image-server.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const MISSING: EngineLocations = { packages: { human: "@vladmandic/human-not-installed" } };

interface Session {
  client: Client;
  call(args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** A real MCP client and server over the SDK's in-memory transport, with the tool registered as the server does. */
async function startSession(engine?: EngineLocations): Promise<Session> {
  const server = new McpServer({ name: "precheck-test", version: "0.0.0" });
  const context = {
    allowedDirs: async () => [FIXTURES],
    urlPolicy: createUrlPolicy(["127.0.0.1"]),
    client: undefined,
    sandbox: false,
    precheckEngine: engine,
  };
  registerTool(server, precheckTool, context, async (_tool, call) => {
    try {
      return await call(createUploadState());
    } catch (error) {
      return toolErrorResult(asToolFailure(error));
    }
  });
  const client = new Client({ name: "precheck-test-client", version: "0.0.0" });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  // Listing first makes the client validate structuredContent against the output schema.
  await client.listTools();
  return {
    client,
    call: async (args) =>
      (await client.callTool({ name: PRECHECK_TOOL_NAME, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
/** A successful result: compact text that is exactly the structured content. */
const output = (r: CallToolResult) => {
  expect(r.isError, textOf(r)).toBeFalsy();
  expect(textOf(r).length).toBeLessThan(1500);
  expect(JSON.parse(textOf(r))).toEqual(r.structuredContent);
  return r.structuredContent as unknown as PrecheckOutput;
};
const tags = (o: PrecheckOutput) => o.warnings.map((w) => w.risk);

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(async () => {
  await session?.close();
});

describe("tools/list", () => {
  it("declares a read-only, idempotent tool with described, strict input", async () => {
    const { tools } = await session.client.listTools();
    const tool = tools.find((t) => t.name === PRECHECK_TOOL_NAME);
    expect(tool?.title).toBeTruthy();
    expect(tool?.annotations).toEqual({
      title: "Pre-check a face photo on this machine",
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      // image_url makes the server download from hosts the caller names.
      openWorldHint: true,
    });
    expect(tool?.description).toMatch(/nothing is uploaded/);
    expect(tool?.description).toMatch(/only Didit's check decides liveness/);
    expect(tool?.description).toMatch(/FACE_TOO_SMALL/);
    expect(tool?.inputSchema.additionalProperties).toBe(false);
    const props = tool?.inputSchema.properties as Record<string, { description?: string }>;
    expect(Object.keys(props).sort()).toEqual(["image_base64", "image_path", "image_url", "rotate_image"]);
    for (const [name, prop] of Object.entries(props)) expect(prop.description, name).toBeTruthy();
    const out = tool?.outputSchema?.properties as Record<string, { description?: string }>;
    for (const field of ["engine", "ready", "next_action", "faces_detected", "bbox", "face_luminance"]) {
      expect(out, field).toHaveProperty(field);
    }
    expect(out.spoof_estimate?.description).toMatch(/never a verdict/);
  });
});

describe("acceptance fixtures through the tool", () => {
  it("live_silentface_T1.jpg: ready, spoof_estimate >= 80, text = structuredContent, compact, advisory summary", async () => {
    const result = await session.call({ image_path: "live_silentface_T1.jpg" });
    const o = output(result);
    expect(o).toMatchObject({
      engine: "local",
      ready: true,
      next_action: "proceed",
      faces_detected: 1,
      best_angle: 0,
    });
    expect(o.spoof_estimate).toBeGreaterThanOrEqual(80);
    expect(JSON.parse(textOf(result))).toEqual(o);
    expect(textOf(result).length).toBeLessThan(1500);
    expect(o.summary).toMatch(/only Didit's check decides liveness/);
    expect(o.summary).toMatch(/check_passive_liveness/);
    expect(o.summary.split(". ")).toHaveLength(1);
  });

  it("spoof_screen_silentface_F2.jpg (as base64): spoof_estimate <= 20", async () => {
    const base64 = (await readFile(path.join(FIXTURES, "spoof_screen_silentface_F2.jpg"))).toString("base64");
    const o = output(await session.call({ image_base64: `data:image/jpeg;base64,${base64}` }));
    expect(o.spoof_estimate).toBeLessThanOrEqual(20);
  });

  it.each([
    "syn_no_face_cat.jpg",
    "syn_no_face_coffee.jpg",
    "syn_no_face_gradient.png",
    "syn_no_face_noise.png",
    "syn_tiny_face.jpg",
  ])("%s: NO_FACE_DETECTED or FACE_TOO_SMALL, retake", async (name) => {
    const result = await session.call({ image_path: name });
    const o = output(result);
    expect(o.ready).toBe(false);
    expect(o.next_action).toBe("retake");
    expect(tags(o).some((t) => t === "NO_FACE_DETECTED" || t === "FACE_TOO_SMALL")).toBe(true);
    expect(o.summary).toMatch(/do not spend a credit/);
    expect(o.summary).toMatch(/only Didit's check decides liveness/);
    expect(textOf(result).length).toBeLessThan(1500);
  });

  it("syn_two_faces.jpg: 2 faces, MULTIPLE_FACES_DETECTED", async () => {
    const o = output(await session.call({ image_path: "syn_two_faces.jpg" }));
    expect(o.faces_detected).toBe(2);
    expect(tags(o)).toContain("MULTIPLE_FACES_DETECTED");
  });

  it("syn_dark.jpg: LOW_FACE_LUMINANCE; syn_blur.jpg: LOW_FACE_QUALITY", async () => {
    const dark = output(await session.call({ image_path: "syn_dark.jpg" }));
    expect(tags(dark)).toContain("LOW_FACE_LUMINANCE");
    expect(dark.user_message).toMatch(/too dark/);
    const blur = output(await session.call({ image_path: "syn_blur.jpg" }));
    expect(tags(blur)).toContain("LOW_FACE_QUALITY");
  });

  it("syn_rot90.jpg / syn_rot180.jpg with rotate_image: best_angle 270 / 180", async () => {
    expect(output(await session.call({ image_path: "syn_rot90.jpg", rotate_image: true }))).toMatchObject({
      best_angle: 270,
      ready: true,
    });
    expect(output(await session.call({ image_path: "syn_rot180.jpg", rotate_image: true }))).toMatchObject({
      best_angle: 180,
      ready: true,
    });
  });

  it("syn_exif6.jpg: upright without rotate_image", async () => {
    const o = output(await session.call({ image_path: "syn_exif6.jpg" }));
    expect(o).toMatchObject({ best_angle: 0, faces_detected: 1, rotate_image_advised: false });
  });

  it("a sideways face without rotate_image: the summary says to submit with rotate_image", async () => {
    const o = output(await session.call({ image_path: "syn_rot90.jpg" }));
    expect(o.rotate_image_advised).toBe(true);
    expect(o.summary).toMatch(/rotate_image: true/);
  });

  it("live_silentface_T1.jpg by image_url from a loopback server: the same analysis as by path", async () => {
    const images = await startImageServer();
    try {
      images.route("/face.jpg", serveBytes(await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"))));
      const byUrl = output(await session.call({ image_url: `${images.origin}/face.jpg` }));
      const byPath = output(await session.call({ image_path: "live_silentface_T1.jpg" }));
      expect(images.requests).toHaveLength(1);
      expect({ ...byUrl, elapsed_ms: 0 }).toEqual({ ...byPath, elapsed_ms: 0 });
    } finally {
      await images.close();
    }
  });
});

describe("input errors use the same rules as check_passive_liveness", () => {
  it.each([
    [{}, "invalid_input"],
    [{ image_path: "x.jpg", image_base64: "AAAA" }, "invalid_input"],
    [{ image_path: "../unit/catalog.test.ts" }, "path_not_allowed"],
    [{ image_path: "nope.jpg" }, "file_not_found"],
    [{ image_path: "SOURCES.md" }, "not_an_image"],
    [{ image_base64: Buffer.from("not an image at all").toString("base64") }, "not_an_image"],
    [{ image_url: "https://169.254.169.254/latest/meta-data/" }, "url_not_allowed"],
    [{ image_url: "https://example.com/a.jpg", image_path: "x.jpg" }, "invalid_input"],
  ])("%j -> %s", async (args, code) => {
    const result = await session.call(args);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(new RegExp(`^Error \\[${code}\\]`));
  });

  it("refuses unknown arguments (strict schema)", async () => {
    const result = await session.call({ image_path: "syn_dark.jpg", threshold: 3 });
    expect(result.isError).toBe(true);
  });
});

describe("engine not installed", () => {
  it("answers not_configured with the exact install command, before reading the image", async () => {
    const missing = await startSession(MISSING);
    try {
      for (const args of [{ image_path: "live_silentface_T1.jpg" }, { image_path: "does-not-exist.jpg" }]) {
        const result = await missing.call(args);
        expect(result.isError).toBe(true);
        const text = textOf(result);
        expect(text).toMatch(/^Error \[not_configured\]/);
        expect(text).toContain("@vladmandic/human-not-installed");
        expect(text).toContain(
          "npm i @vladmandic/human@3.3.6 @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-converter@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 onnxruntime-web@1.30.0 sharp@0.35.5",
        );
        expect(result.structuredContent).toBeUndefined();
      }
    } finally {
      await missing.close();
    }
  });
});
