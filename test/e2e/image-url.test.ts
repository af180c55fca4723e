import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { type ImageServer, serveBytes, startImageServer } from "../support/image-server.js";
import { baseEnv, spawnServer, textOf } from "../support/spawn.js";

const jpeg = await readFile(path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg"));
const sha256 = createHash("sha256").update(jpeg).digest("hex");

let double: DiditDouble;
let images: ImageServer;
beforeAll(async () => {
  double = await startDiditDouble();
  images = await startImageServer();
  images.route("/face.jpg", serveBytes(jpeg));
});
afterEach(() => {
  double.reset();
  images.requests.length = 0;
});
afterAll(async () => {
  await images.close();
  await double.close();
});

const keyed = (extra: Record<string, string> = {}) =>
  baseEnv({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url, ...extra });

/** The command line in this process (the built binary's glue is covered by test/e2e/cli.test.ts). */
const cli = (args: string[], env: Record<string, string>) => runCliInProcess(args, { env });

describe("image_url over stdio (the built server)", () => {
  it("with --allow-url-host 127.0.0.1, checks an image served from loopback and uploads its bytes", async () => {
    const session = await spawnServer({ env: keyed(), args: ["--allow-url-host", "127.0.0.1"] });
    try {
      const result = await session.call("check_passive_liveness", { image_url: `${images.origin}/face.jpg` });
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: "Approved", next_action: "proceed" });
      expect(double.requests[0]?.file).toMatchObject({ size: jpeg.byteLength, sha256 });
    } finally {
      await session.close();
    }
  });

  it("without it, refuses the loopback URL and neither fetches nor uploads", async () => {
    const session = await spawnServer({ env: keyed() });
    try {
      const result = await session.call("check_passive_liveness", { image_url: `${images.origin}/face.jpg` });
      expect(textOf(result)).toMatch(/^Error \[url_not_allowed\]: .*plain http: is fetched only/);
      expect(images.requests).toHaveLength(0);
      expect(double.requests).toHaveLength(0);
    } finally {
      await session.close();
    }
  });
});

describe("CLI check <url>", () => {
  it("checks the image at a listed URL (DIDIT_ALLOWED_URL_HOSTS) and exits 0", async () => {
    const r = await cli(
      ["check", `${images.origin}/face.jpg`],
      keyed({ DIDIT_ALLOWED_URL_HOSTS: "127.0.0.1" }),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Verdict: Approved/m);
    expect(double.requests[0]?.file?.sha256).toBe(sha256);
  });

  it("exits 2 with url_not_allowed for a loopback URL that is not listed", async () => {
    const r = await cli(["check", `${images.origin}/face.jpg`], keyed());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error \[url_not_allowed\]/);
    expect(images.requests).toHaveLength(0);
  });

  it("exits 2 with url_fetch_failed for a 404, and never fetches when --threshold is bad", async () => {
    const missing = await cli(
      ["check", `${images.origin}/missing.jpg`],
      keyed({ DIDIT_ALLOWED_URL_HOSTS: "127.0.0.1" }),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^Error \[url_fetch_failed\]: .*HTTP 404/);
    images.requests.length = 0;
    const bad = await cli(
      ["check", `${images.origin}/face.jpg`, "--threshold", "500"],
      keyed({ DIDIT_ALLOWED_URL_HOSTS: "127.0.0.1" }),
    );
    expect(bad.code).toBe(2);
    expect(images.requests).toHaveLength(0);
  });
});
