import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runBatch } from "../../src/cli/batch/batch.js";
import { loadConfig } from "../../src/config/config.js";
import type { LocalAnalysis, PrecheckAnalyzer } from "../../src/precheck/index.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";

let double: DiditDouble;
let dir: string;
const files: string[] = [];
let notReady = "";

beforeAll(async () => {
  double = await startDiditDouble();
  dir = await mkdtemp(path.join(os.tmpdir(), "batch-precheck-"));
  const fixture = await readFile(path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg"));
  for (let i = 0; i < 3; i++) {
    const bytes = Buffer.concat([fixture, Buffer.from(`#${i}`)]);
    files.push(path.join(dir, `p${i}.jpg`));
    await writeFile(files[i] as string, bytes);
    if (i === 1) notReady = createHash("sha256").update(bytes).digest("hex");
  }
});
afterAll(async () => {
  await double.close();
  await rm(dir, { recursive: true, force: true });
});

/** Marks one image not ready (too dark), the others ready: the real engine's verdicts are tested elsewhere. */
const analyzer: PrecheckAnalyzer = {
  analyze: async (bytes) => {
    const dark = createHash("sha256").update(bytes).digest("hex") === notReady;
    return {
      ready: !dark,
      next_action: dark ? "retake" : "proceed",
      warnings: dark ? [{ risk: "LOW_FACE_LUMINANCE", short_description: "Too dark", blocking: true }] : [],
      user_message: dark ? "Move to a brighter place." : "Looks good.",
    } as LocalAnalysis;
  },
  warm: async () => 0,
  tensorCount: async () => 0,
};

async function batch(extra: Record<string, string | boolean>) {
  const env = { DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url };
  const config = await loadConfig({ allowDirs: [], sandbox: false }, env);
  let out = "";
  let err = "";
  const code = await runBatch(
    config,
    {},
    files,
    { precheck: true, ...extra },
    { out: (t) => (out += t), err: (t) => (err += t), env },
    { analyzer },
  );
  const rows = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, rows, err };
}

it("--precheck uploads only the ready images; the other gets a row with the pre-check's warnings", async () => {
  double.reset();
  const r = await batch({});
  expect(r.code).toBe(2);
  expect(double.requests).toHaveLength(2);
  const skipped = r.rows.find((row) => row.input === files[1]);
  expect(skipped).toMatchObject({
    ok: false,
    uploaded: false,
    precheck: { ready: false, next_action: "retake", warnings: [{ risk: "LOW_FACE_LUMINANCE" }] },
  });
  expect(r.err).toMatch(/status: Approved 2, skipped 1/);
  expect(r.err).toMatch(/credits used: 2/);
});

it("--dry-run --precheck validates and pre-checks without a request", async () => {
  double.reset();
  const r = await batch({ "dry-run": true });
  expect(r.code).toBe(2);
  expect(double.requests).toHaveLength(0);
  expect(r.rows.filter((row) => row.dry_run === true)).toHaveLength(2);
  expect(r.rows.find((row) => row.input === files[1])).toMatchObject({
    uploaded: false,
    precheck: { ready: false },
  });
});

it("on a terminal, asks before spending more than 10 credits: no uploads unless the answer is yes", async () => {
  const { PassThrough } = await import("node:stream");
  const fixture = await readFile(files[0] as string);
  const many: string[] = [];
  for (let i = 0; i < 11; i++) {
    many.push(path.join(dir, `m${i}.jpg`));
    await writeFile(many[i] as string, Buffer.concat([fixture, Buffer.from(`m${i}`)]));
  }
  const env = { DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url };
  const config = await loadConfig({ allowDirs: [], sandbox: false }, env);
  const ask = async (answer: string) => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    let err = "";
    const run = runBatch(
      config,
      {},
      many,
      {},
      {
        out: () => undefined,
        err: (t) => {
          err += t;
          if (t.includes("[y/N]")) stdin.write(`${answer}\n`);
        },
        env,
        stdin,
        stderrIsTTY: true,
      },
    );
    return { code: await run.catch((e: { code: string }) => e.code), err };
  };
  double.reset();
  const no = await ask("n");
  expect(no.code).toBe("consent_declined");
  expect(no.err).toContain("Spend up to 11 credits? [y/N]");
  expect(double.requests).toHaveLength(0);
  const yes = await ask("y");
  expect(yes.code).toBe(0);
  expect(double.requests).toHaveLength(11);
});
