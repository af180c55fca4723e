import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { type ImageServer, redirectTo, serveBytes, startImageServer } from "../support/image-server.js";
import { type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";

vi.setConfig({ testTimeout: 60_000 });

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

let double: DiditDouble;
let images: ImageServer;
let session: InMemorySession;
const jpeg = await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"));
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  double = await startDiditDouble();
  images = await startImageServer();
  images.route("/face.jpg", serveBytes(jpeg));
  images.route("/r1", redirectTo("/face.jpg"));
  images.route("/r2", redirectTo("/r1"));
  images.route("/r3", redirectTo("/r2"));
  images.route("/r4", redirectTo("/r3"));
  images.route("/to-other-host", redirectTo(`http://127.0.0.2:${images.port}/face.jpg`));
  images.route("/to-private", redirectTo("https://10.1.2.3/face.jpg"));
  images.route(
    "/page.html",
    serveBytes(Buffer.from("<!doctype html><title>x</title>".repeat(20)), "text/html"),
  );
  images.route("/huge", (_req, res) => {
    res.writeHead(200, { "content-type": "image/jpeg", "content-length": 6 * 1024 * 1024 });
    res.write(jpeg.subarray(0, 1024));
  });
  session = await startInMemory(
    testConfig({
      apiKey: TEST_API_KEY,
      baseUrl: double.url,
      allowedDirs: [FIXTURES],
      allowedUrlHosts: ["127.0.0.1"],
    }),
  );
});
afterAll(async () => {
  await session.close();
  await images.close();
  await double.close();
});
afterEach(() => {
  double.reset();
  images.requests.length = 0;
});

const check = (args: Record<string, unknown>) => session.call("check_passive_liveness", args);

describe("check_passive_liveness with image_url", () => {
  it("lists image_url beside image_path and image_base64", async () => {
    const { tools } = await session.client.listTools();
    for (const name of ["check_passive_liveness", "precheck_face_image"]) {
      const props = tools.find((t) => t.name === name)?.inputSchema.properties ?? {};
      expect(Object.keys(props)).toEqual(expect.arrayContaining(["image_path", "image_base64", "image_url"]));
    }
  });

  it("downloads the image from a listed loopback host and uploads exactly those bytes to Didit", async () => {
    const result = await check({ image_url: `${images.origin}/face.jpg?sig=abc` });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: "Approved" });
    expect(images.requests).toHaveLength(1);
    expect(double.requests).toHaveLength(1);
    expect(double.requests[0]?.file).toMatchObject({
      filename: "image.jpg",
      contentType: "image/jpeg",
      size: jpeg.byteLength,
      sha256: sha256(jpeg),
    });
  });

  it("follows up to 3 redirects", async () => {
    const result = await check({ image_url: `${images.origin}/r3` });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(double.requests[0]?.file?.sha256).toBe(sha256(jpeg));
  });

  it.each([
    ["a fourth redirect", "/r4", "url_fetch_failed", /redirected more than 3 times/],
    ["a redirect to a host not on the list", "/to-other-host", "url_not_allowed", /http: is fetched only/],
    ["a redirect to a private address", "/to-private", "url_not_allowed", /10\.1\.2\.3 is a private address/],
    ["a 404", "/missing.jpg", "url_fetch_failed", /HTTP 404/],
    ["a body over 5 MB", "/huge", "too_large", /over Didit's limit of 5\.00 MB/],
    ["an HTML page", "/page.html", "not_an_image", /not a JPEG, PNG, WebP or TIFF image/],
  ])("refuses %s and sends nothing to Didit", async (_what, route, code, message) => {
    const result = await check({ image_url: `${images.origin}${route}` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(new RegExp(`^Error \\[${code}\\]`));
    expect(textOf(result)).toMatch(message);
    expect(double.requests).toHaveLength(0);
  });

  it("refuses https to a loopback host that is not listed", async () => {
    const result = await check({ image_url: "https://[::1]/face.jpg" });
    expect(textOf(result)).toMatch(/^Error \[url_not_allowed\].*::1 is a loopback address/);
  });

  it.each([
    ["a bad threshold", { face_liveness_score_decline_threshold: 150 }],
    ["an unknown field", { selfie: "x" }],
    ["metadata over 64 KB", { metadata: { blob: "x".repeat(70_000) } }],
    ["image_path as well", { image_path: "live_silentface_T1.jpg" }],
    ["image_base64 as well", { image_base64: jpeg.toString("base64") }],
  ])("never fetches the URL when the rest of the input is invalid (%s)", async (_what, extra) => {
    const result = await check({ image_url: `${images.origin}/face.jpg`, ...extra });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Error \[invalid_input\]/);
    expect(images.requests).toHaveLength(0);
    expect(double.requests).toHaveLength(0);
  });

  it("tells an agent that put a URL in image_path to use image_url", async () => {
    const result = await check({ image_path: "https://example.com/a.jpg" });
    expect(textOf(result)).toContain(
      "Error [invalid_input]: image_path takes a file path; use image_url for URLs.",
    );
  });
});

// The analysis of a downloaded image is in test/precheck/tool.test.ts, which loads the engine anyway.
describe("precheck_face_image with image_url", () => {
  it("applies the same URL rules", async () => {
    const result = await session.call("precheck_face_image", { image_url: "http://169.254.169.254/latest" });
    expect(textOf(result)).toMatch(/^Error \[url_not_allowed\]/);
  });
});
