/**
 * Issue 9, item 1: a hard link inside an allowed directory can be the very same file as one outside it, so both
 * image tools refuse files with more than one link unless the server was started with --allow-hardlinks.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { startInMemory, testConfig, textOf } from "../support/in-memory.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

let root: string;
let allowed: string;
let double: DiditDouble;
let outsideSha: string;

beforeAll(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "hard-links-")));
  allowed = path.join(root, "allowed");
  const outside = path.join(root, "outside");
  await fs.mkdir(allowed);
  await fs.mkdir(outside);
  await fs.copyFile(path.join(FIXTURES, "live_silentface_T1.jpg"), path.join(outside, "private.jpg"));
  await fs.link(path.join(outside, "private.jpg"), path.join(allowed, "linked.jpg"));
  await fs.writeFile(path.join(outside, "notes.txt"), "not an image, just outside text\n".repeat(8));
  await fs.link(path.join(outside, "notes.txt"), path.join(allowed, "linked-notes.jpg"));
  outsideSha = createHash("sha256")
    .update(await fs.readFile(path.join(outside, "private.jpg")))
    .digest("hex");
  double = await startDiditDouble();
});

afterAll(async () => {
  await double?.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

const config = (allowHardlinks: boolean) =>
  testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url, allowedDirs: [allowed], allowHardlinks });

describe("hard links through the tools", () => {
  it("check_passive_liveness refuses a hard-linked file by default and uploads nothing", async () => {
    const session = await startInMemory(config(false));
    try {
      const before = double.requests.length;
      const result = await session.call("check_passive_liveness", { image_path: "linked.jpg" });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^Error \[path_not_allowed\]: .*more than one hard link/);
      expect(textOf(result)).toContain("--allow-hardlinks");
      expect(double.requests.length).toBe(before);
    } finally {
      await session.close();
    }
  });

  it("precheck_face_image refuses a hard-linked file by default", async () => {
    const session = await startInMemory(config(false));
    try {
      const result = await session.call("precheck_face_image", { image_path: "linked-notes.jpg" });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^Error \[path_not_allowed\]: .*more than one hard link/);
    } finally {
      await session.close();
    }
  });

  it("with allowHardlinks, check_passive_liveness reads and uploads the linked file", async () => {
    const session = await startInMemory(config(true));
    try {
      const result = await session.call("check_passive_liveness", { image_path: "linked.jpg" });
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(double.requests.at(-1)?.file?.sha256).toBe(outsideSha);
    } finally {
      await session.close();
    }
  });

  it("with allowHardlinks, precheck_face_image reads the linked file (and judges its bytes)", async () => {
    const session = await startInMemory(config(true));
    try {
      // A linked text file: reaching the sniff (not_an_image) shows the option reached this tool's loader.
      const result = await session.call("precheck_face_image", { image_path: "linked-notes.jpg" });
      expect(textOf(result)).toMatch(/^Error \[not_an_image\]/);
    } finally {
      await session.close();
    }
  });
});
