/**
 * Issue 9, item 1: the path check and the open used to be separate steps on a name, so an attacker who can write
 * in an allowed directory could swap a symlink to an outside file over the name between them, and the outside
 * file was uploaded (or its size or type came back in the error). This races exactly that, for a bounded time,
 * through the real tool against the loopback Didit double, and counts every escape.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatBytes } from "../../src/core/byte-size.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
/**
 * Wall time of the rename loop; the checks run until it ends. With the fix reverted (open following symlinks, no
 * handle check) 1 s here gave 14-17 outside uploads and 2 s gave dozens, about 7% of checks; 2 s leaves room for a
 * machine four times slower. Each of the fix's layers alone (O_NOFOLLOW, the handle check) already stops this race.
 * On a loaded machine 2 s gave only 58 swaps, so the race goes on past it until it has MIN_SWAPS swaps and
 * MIN_CHECKS checks (at most MAX_RACE_MS): what it proves depends on the counts, not on the machine's speed.
 */
const RACE_MS = 2_000;
const MIN_SWAPS = 150;
const MIN_CHECKS = 150;
const MAX_RACE_MS = 30_000;
const CHECKERS = 4;
const BIG_BYTES = 6_000_001;

let root: string;
let allowed: string;
let double: DiditDouble;
let session: InMemorySession;
const outsideFiles: Record<"jpeg" | "big" | "pdf", string> = { jpeg: "", big: "", pdf: "" };
let pristine: string;

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");

beforeAll(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "path-race-")));
  allowed = path.join(root, "allowed");
  const outside = path.join(root, "outside");
  await fs.mkdir(allowed);
  await fs.mkdir(outside);
  outsideFiles.jpeg = path.join(outside, "private.jpg");
  outsideFiles.big = path.join(outside, "big.bin");
  outsideFiles.pdf = path.join(outside, "notes.pdf");
  await fs.copyFile(path.join(FIXTURES, "live_silentface_T1.jpg"), outsideFiles.jpeg);
  await fs.writeFile(outsideFiles.big, Buffer.alloc(BIG_BYTES, 0xab));
  await fs.writeFile(outsideFiles.pdf, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n%%EOF\n");
  // The inside image is copied from here on every swap back; this copy is never linked into the allowed dir.
  pristine = path.join(root, "inside-source.jpg");
  await fs.copyFile(path.join(FIXTURES, "syn_astronaut.jpg"), pristine);
  await fs.copyFile(pristine, path.join(allowed, "selfie.jpg"));

  double = await startDiditDouble();
  session = await startInMemory(
    testConfig({
      apiKey: TEST_API_KEY,
      baseUrl: double.url,
      allowedDirs: [allowed],
      maxChecksPerMinute: Number.MAX_SAFE_INTEGER,
    }),
  );
});

afterAll(async () => {
  await session?.close();
  await double?.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

/**
 * In its own process (so it truly runs alongside the checks): atomically renames a symlink to one of the outside
 * files over the allowed name, then a fresh copy of the inside image back over it, until the test creates `stop`
 * and it has made MIN_SWAPS swaps, or MAX_RACE_MS have passed.
 */
function startRenamer(stop: string): ChildProcess {
  const script = `
    const fs = require("node:fs");
    const [name, source, stop, minSwaps, maxMs, ...targets] = process.argv.slice(1);
    const link = name + ".link-tmp", copy = name + ".copy-tmp", scratch = name + ".scratch-tmp";
    const end = Date.now() + Number(maxMs);
    let cycles = 0;
    while (Date.now() < end && !(cycles >= Number(minSwaps) && fs.existsSync(stop))) {
      fs.symlinkSync(targets[cycles % targets.length], link);
      fs.renameSync(link, name);
      fs.copyFileSync(source, copy);
      fs.renameSync(copy, name);
      // The same work again, so the inside image stays in place about as long as the link did.
      fs.copyFileSync(source, scratch);
      cycles++;
    }
    process.stdout.write(String(cycles));
  `;
  return spawn(
    process.execPath,
    [
      "-e",
      script,
      path.join(allowed, "selfie.jpg"),
      pristine,
      stop,
      String(MIN_SWAPS),
      String(MAX_RACE_MS),
      outsideFiles.jpeg,
      outsideFiles.big,
      outsideFiles.pdf,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
}

describe("path race (bounded, real tool, loopback Didit)", () => {
  it(`uploads no outside file and reveals no outside size or type while a symlink is swapped in for ${RACE_MS / 1000} s`, async () => {
    const stop = path.join(root, "stop-race");
    const renamer = startRenamer(stop);
    const started = Date.now();
    let cyclesText = "";
    renamer.stdout?.on("data", (chunk: Buffer) => {
      cyclesText += chunk.toString();
    });
    const exited = once(renamer, "exit");
    let done = false;
    void exited.then(() => {
      done = true;
    });

    const results: CallToolResult[] = [];
    const checker = async () => {
      while (!done) {
        results.push(
          await session.call("check_passive_liveness", { image_path: "selfie.jpg", save_api_request: false }),
        );
        if (results.length >= MIN_CHECKS && Date.now() - started >= RACE_MS) await fs.writeFile(stop, "");
      }
    };
    await Promise.all(Array.from({ length: CHECKERS }, checker));
    const [exitCode] = await exited;
    expect(exitCode).toBe(0);

    const outsideSha = new Map([
      [await sha256(outsideFiles.jpeg), "outside JPEG"],
      [await sha256(outsideFiles.big), "large outside file"],
      [await sha256(outsideFiles.pdf), "outside PDF"],
    ]);
    const insideSha = await sha256(pristine);
    const uploads = double.requests.map((r) => r.file?.sha256);
    const escapedUploads = uploads.filter((sha) => sha !== undefined && outsideSha.has(sha));
    const insideUploads = uploads.filter((sha) => sha === insideSha).length;

    // Anything that could only come from reading an outside file: its size, its sniffed type, or the codes for them.
    const revealing = new RegExp(
      [
        "too_large",
        "not_an_image",
        formatBytes(BIG_BYTES).replace(".", "\\."),
        String(BIG_BYTES),
        "pdf",
      ].join("|"),
      "i",
    );
    const errors = results.filter((r) => r.isError).map(textOf);
    const revealed = errors.filter((text) => revealing.test(text));
    const codes = new Map<string, number>();
    for (const text of errors) {
      const code = /Error \[(\w+)\]/.exec(text)?.[1] ?? "?";
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    const report = {
      renameCycles: Number(cyclesText),
      checks: results.length,
      insideUploads,
      escapedUploads: escapedUploads.map((sha) => outsideSha.get(sha ?? "")),
      errorCodes: Object.fromEntries(codes),
      revealedSample: revealed.slice(0, 3),
    };
    process.stderr.write(`path race: ${JSON.stringify(report)}\n`);

    // The race really ran: many swaps, many checks, and the inside image did get through sometimes.
    expect(report.renameCycles).toBeGreaterThanOrEqual(MIN_SWAPS);
    expect(report.checks).toBeGreaterThanOrEqual(MIN_CHECKS);
    expect(insideUploads).toBeGreaterThan(0);
    // Zero escapes: no outside bytes uploaded, no outside size or type in any error.
    expect(report.escapedUploads).toEqual([]);
    expect(report.revealedSample).toEqual([]);
    // Every refusal is the plain outside refusal (or, rarely, the name being mid-swap), nothing else.
    for (const code of codes.keys()) expect(["path_not_allowed"]).toContain(code);
  }, 60_000);
});
