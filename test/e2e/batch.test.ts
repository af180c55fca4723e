import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CSV_COLUMNS, parseCsv } from "../../src/cli/batch/batch-output.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import {
  type DiditDouble,
  delayed,
  type Outcome,
  startDiditDouble,
  TEST_API_KEY,
  throttled,
} from "../support/didit-double.js";
import { baseEnv, SERVER_ENTRY } from "../support/spawn.js";
import { virtualClock } from "../support/virtual-clock.js";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg");

let double: DiditDouble;
let work: string;
let fixture: Buffer;

beforeAll(async () => {
  fixture = await readFile(FIXTURE);
  double = await startDiditDouble();
});
afterEach(async () => {
  double.reset();
  if (work) await rm(work, { recursive: true, force: true });
});
afterAll(() => double.close());

/** Distinct JPEGs: the fixture with a few different bytes after its end-of-image marker. */
async function makeImages(count: number, score: (i: number) => Outcome | undefined = () => undefined) {
  work = await mkdtemp(path.join(os.tmpdir(), "batch-e2e-"));
  const dir = path.join(work, "in");
  await import("node:fs/promises").then((fs) => fs.mkdir(dir));
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.concat([fixture, Buffer.from(`#${i}`)]);
    const file = path.join(dir, `img${String(i).padStart(4, "0")}.jpg`);
    await writeFile(file, bytes);
    const outcome = score(i);
    if (outcome) double.setOutcomeForImage(createHash("sha256").update(bytes).digest("hex"), outcome);
    files.push(file);
  }
  return { dir, files };
}

const batchEnv = (extra: Record<string, string> = {}) => ({
  DIDIT_API_KEY: TEST_API_KEY,
  DIDIT_BASE_URL: double.url,
  DIDIT_MAX_CHECKS_PER_MINUTE: "10000",
  ...extra,
});

/** `check ...` in this process; stdin (for `-`) is not a terminal. */
const cli = (
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; clock?: ReturnType<typeof virtualClock> } = {},
) =>
  runCliInProcess(["check", ...args], {
    env: batchEnv(options.env),
    stdin: options.stdin,
    clock: options.clock,
  });

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The built binary, for the Ctrl-C test: a real SIGINT to a real process. */
function start(args: string[]): Run {
  const child = spawn(process.execPath, [SERVER_ENTRY, "check", ...args], {
    env: baseEnv(batchEnv()),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin?.end("");
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

function jsonl(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("check on many images", () => {
  it("checks a 200-input directory at concurrency 8: one row each, bad inputs refused locally, exit 2", async () => {
    const { dir } = await makeImages(197, (i) =>
      i % 10 === 0 ? { kind: "low_score", score: 10 } : { kind: "approved", score: 50 + (i % 50) },
    );
    await writeFile(path.join(dir, "bad-text.jpg"), "not an image");
    await writeFile(path.join(dir, "bad-empty.png"), "");
    await writeFile(path.join(dir, "bad-huge.jpg"), Buffer.concat([fixture, Buffer.alloc(5_300_000)]));
    await writeFile(path.join(dir, "notes.txt"), "ignored: not an image extension");
    const out = path.join(work, "rows.jsonl");
    const r = await cli([dir, "--concurrency", "8", "--out", out, "--yes"]);
    expect(r.code).toBe(2);
    const rows = jsonl(await readFile(out, "utf8"));
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((row) => row.input)).size).toBe(200);
    const errors = rows.filter((row) => !row.ok).map((row) => (row.error as { code: string }).code);
    expect(errors.sort()).toEqual(["not_an_image", "not_an_image", "too_large"]);
    const declined = rows.filter((row) => (row.result as { status?: string })?.status === "Declined");
    expect(declined).toHaveLength(20);
    expect(double.requests).toHaveLength(197);
    // The announcement counts the images a check would send: the text file and the empty one are not among them.
    expect(r.stderr).toContain("This run will upload up to 197 images");
    expect(r.stderr).toContain("Batch summary: 200 of 200 inputs checked");
    expect(r.stderr).toMatch(/status: Approved 177, Declined 20, error 3/);
    expect(r.stderr).toMatch(/errors: not_an_image 2, too_large 1/);
    expect(r.stderr).toMatch(/credits used: 197/);
    expect(r.stdout).toBe("");
  });

  it("exits 3 when a check fails on the API side, and 0 when every input got a verdict", async () => {
    const { files } = await makeImages(3, (i) =>
      i === 1 ? { kind: "status", status: 500, body: '{"detail":"boom"}' } : undefined,
    );
    const failed = await cli(files);
    expect(failed.code).toBe(3);
    // Rows come in the order checks finish.
    const rows = new Map(jsonl(failed.stdout).map((row) => [row.input, row]));
    expect(files.map((f) => rows.get(f)?.ok)).toEqual([true, false, true]);
    expect(rows.get(files[1])).toMatchObject({ uploaded: true, error: { code: "upstream_error" } });
    double.reset(); // no more scripted failure
    const fine = await cli(files);
    expect(fine.code).toBe(0);
  });

  it("after Ctrl-C and --resume, lists each input exactly once and uploads no image twice", async () => {
    const { dir } = await makeImages(60);
    const out = path.join(work, "rows.jsonl");
    double.setDefault(delayed(100));
    const first = start([dir, "--concurrency", "4", "--out", out, "--yes"]);
    await double.waitForRequests(12);
    first.child.kill("SIGINT");
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted: \d+ inputs not started/);
    const partial = jsonl(await readFile(out, "utf8"));
    expect(partial.length).toBeGreaterThanOrEqual(12);
    expect(partial.length).toBeLessThan(60);
    // Every upload that had started when Ctrl-C came was finished and written.
    expect(partial).toHaveLength(double.requests.length);

    double.setDefault({ kind: "approved" });
    const resumed = await cli([dir, "--concurrency", "4", "--out", out, "--resume", "--yes"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`${partial.length} inputs already done are skipped`);
    const rows = jsonl(await readFile(out, "utf8"));
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((row) => row.input)).size).toBe(60);
    const uploaded = double.requests.map((r) => r.file?.sha256);
    expect(uploaded).toHaveLength(60);
    expect(new Set(uploaded).size).toBe(60);
  });

  it("--resume redoes failed rows and drops a line cut short by a crash", async () => {
    const { files } = await makeImages(3, (i) =>
      i === 2 ? { kind: "status", status: 503, body: '{"detail":"busy"}' } : undefined,
    );
    const out = path.join(work, "rows.jsonl");
    expect((await cli([...files, "--out", out])).code).toBe(3);
    await writeFile(out, `${await readFile(out, "utf8")}{"input":"cut`);
    double.reset();
    expect((await cli([...files, "--out", out, "--resume"])).code).toBe(0);
    const rows = jsonl(await readFile(out, "utf8"));
    expect(rows.map((row) => row.ok)).toEqual([true, true, true]);
    expect(double.requests).toHaveLength(1);
  });

  it("--dry-run validates every input and makes zero requests", async () => {
    const { dir } = await makeImages(20);
    await writeFile(path.join(dir, "bad.png"), "not a png");
    const r = await cli([dir, "--dry-run"]);
    expect(r.code).toBe(2);
    const rows = jsonl(r.stdout);
    expect(rows).toHaveLength(21);
    expect(rows.filter((row) => row.dry_run === true && row.ok === true)).toHaveLength(20);
    expect(rows.every((row) => row.uploaded === false)).toBe(true);
    expect(double.requests).toHaveLength(0);
  });

  it("without --yes on a non-terminal, refuses a run above 10 credits and uploads nothing", async () => {
    const { files } = await makeImages(11);
    const out = path.join(work, "rows.jsonl");
    const refused = await cli([...files, "--out", out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("This run will upload up to 11 images");
    expect(refused.stderr).toMatch(/Error \[consent_declined\].*11 credits/);
    expect(double.requests).toHaveLength(0);
    expect(existsSync(out)).toBe(false);
    // Ten or fewer need no confirmation; --max-credits caps the spend and stops cleanly.
    const capped = await cli([...files, "--out", out, "--max-credits", "4"]);
    expect(capped.code).toBe(0);
    expect(double.requests).toHaveLength(4);
    expect(capped.stderr).toContain("stopped at --max-credits: 7 inputs not started");
  });

  it("--format csv has the fixed columns; - reads the paths from stdin", async () => {
    const { files } = await makeImages(3, (i) => (i === 1 ? { kind: "low_score", score: 12 } : undefined));
    const missing = path.join(work, "in", "missing.jpg");
    const r = await cli(["-", "--format", "csv"], { stdin: `${[...files, missing].join("\n")}\n` });
    expect(r.code).toBe(2);
    const [header, ...records] = parseCsv(r.stdout);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(records).toHaveLength(4);
    // Rows come in the order checks finish; the input column says which is which.
    const byInput = new Map(records.map((record) => [record[0], record]));
    expect(byInput.get(files[0])?.slice(2, 5)).toEqual(["Approved", "proceed", "95"]);
    expect(byInput.get(files[1])?.slice(2, 6)).toEqual(["Declined", "retake", "12", "LOW_LIVENESS_SCORE"]);
    expect(byInput.get(missing)?.slice(1, 7)).toEqual(["", "error", "", "", "", "file_not_found"]);
    expect(byInput.get(files[0])?.[7]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("--resume on a CSV file without --format reads it as CSV: earlier rows kept, only the new image uploaded", async () => {
    const { files } = await makeImages(3);
    const out = path.join(work, "rows.csv");
    expect((await cli([...files.slice(0, 2), "--out", out, "--format", "csv"])).code).toBe(0);
    const before = await readFile(out, "utf8");
    double.reset();
    const resumed = await cli([...files, "--out", out, "--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("2 inputs already done are skipped");
    expect(double.requests).toHaveLength(1);
    const after = await readFile(out, "utf8");
    expect(after.startsWith(before)).toBe(true);
    const [header, ...records] = parseCsv(after);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(records.map((record) => record[0]).sort()).toEqual([...files].sort());
  });

  it("--resume refuses a --format the file is not in, and a file with no row it can read: nothing replaced or uploaded", async () => {
    const { files } = await makeImages(2);
    const out = path.join(work, "rows.jsonl");
    expect((await cli([...files, "--out", out])).code).toBe(0);
    const before = await readFile(out, "utf8");
    double.reset();
    const mismatch = await cli([...files, "--out", out, "--resume", "--format", "csv"]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/Error \[invalid_input\].*JSONL.*--format csv/);
    expect(await readFile(out, "utf8")).toBe(before);
    const notes = path.join(work, "notes.txt");
    await writeFile(notes, "not batch output\nsecond line\n");
    const unreadable = await cli([...files, "--out", notes, "--resume"]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/Error \[invalid_input\].*has no JSONL row/);
    expect(await readFile(notes, "utf8")).toBe("not batch output\nsecond line\n");
    expect(double.requests).toHaveLength(0);
  });

  it("--format csv neutralises cells a spreadsheet would run as formulas; --resume still knows those rows", async () => {
    await makeImages(0);
    const names = ["=2*21.jpg", "+1.jpg", "-1.jpg", "@SUM(A1).jpg", "\tTab.jpg"];
    for (const [i, name] of names.entries())
      await writeFile(path.join(work, name), Buffer.concat([fixture, Buffer.from(`=${i}`)]));
    const out = path.join(work, "rows.csv");
    const cwd = process.cwd();
    process.chdir(work); // the input column holds each path as given: relative names start the cell
    try {
      const first = await cli(["--out", out, "--format", "csv", "--", ...names]);
      expect(first.code).toBe(0);
      expect(double.requests).toHaveLength(names.length);
      const text = await readFile(out, "utf8");
      const lines = text.trimEnd().split("\n").slice(1);
      expect(lines).toHaveLength(names.length);
      for (const line of lines) expect(line).toMatch(/^"'[=+\-@\t]/);
      for (const line of lines) for (const cell of line.split(",")) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      double.reset();
      const resumed = await cli(["--out", out, "--resume", "--", ...names]);
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toContain(`${names.length} inputs already done are skipped`);
      expect(double.requests).toHaveLength(0);
      expect(await readFile(out, "utf8")).toBe(text);
    } finally {
      process.chdir(cwd);
    }
  });

  it("a symlink to a file outside its directory is refused with no hash of that file, and shares no other verdict", async () => {
    const { dir, files } = await makeImages(1);
    const outside = path.join(work, "outside");
    await mkdir(outside);
    // One outside file has the same bytes as the inside image, the other bytes of its own.
    await writeFile(path.join(outside, "same.jpg"), await readFile(files[0] as string));
    await writeFile(path.join(outside, "other.jpg"), Buffer.concat([fixture, Buffer.from("outside")]));
    await symlink(path.join(outside, "same.jpg"), path.join(dir, "link-same.jpg"));
    await symlink(path.join(outside, "other.jpg"), path.join(dir, "link-other.jpg"));
    for (const extra of [[], ["--dry-run"]]) {
      double.reset();
      const r = await cli([dir, ...extra]);
      expect(r.code).toBe(2);
      const rows = new Map(jsonl(r.stdout).map((row) => [path.basename(String(row.input)), row]));
      for (const name of ["link-same.jpg", "link-other.jpg"]) {
        expect(rows.get(name)).toMatchObject({ ok: false, uploaded: false, sha256: null });
        expect(rows.get(name)?.error).toMatchObject({ code: "path_not_allowed" });
      }
      expect(double.requests).toHaveLength(extra.length === 0 ? 1 : 0);
      if (extra.length === 0) expect(r.stderr).toContain("This run will upload up to 1 images");
    }
  });

  it("--allow-hardlinks reads images with more than one hard link; without it they are refused", async () => {
    const { dir } = await makeImages(1);
    const original = path.join(work, "original.jpg");
    await writeFile(original, Buffer.concat([fixture, Buffer.from("linked")]));
    await link(original, path.join(dir, "linked.jpg"));
    const refused = await cli([dir]);
    expect(refused.code).toBe(2);
    expect(double.requests).toHaveLength(1);
    double.reset();
    const allowed = await cli([dir, "--allow-hardlinks"]);
    expect(allowed.code).toBe(0);
    expect(double.requests).toHaveLength(2);
  });

  it("a single image keeps today's output; with --json its failure is JSON on stdout too", async () => {
    const one = await cli([FIXTURE]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^Verdict: Approved/);
    const r = await cli([path.join(os.tmpdir(), "definitely-missing-dir", "x.jpg"), "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: "file_not_found", message: expect.any(String), hint: expect.any(String) },
    });
    expect(r.stderr).toMatch(/^Error \[file_not_found\]/);
  });
});

describe("what a batch says while it waits", () => {
  /** The progress lines a log gets (stderr not a terminal). */
  const progressLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("progress: "));

  it("held by the per-minute budget, it says for how long and why, counts the wait in the ETA, and a sandbox spends no credit", async () => {
    const { dir } = await makeImages(3);
    const clock = virtualClock();
    const r = await cli([dir, "--sandbox"], { env: { DIDIT_MAX_CHECKS_PER_MINUTE: "2" }, clock });
    expect(r.code).toBe(0);
    expect(jsonl(r.stdout)).toHaveLength(3);
    expect(r.stderr).toContain(
      "takes at least 1m00s: the per-minute budget (DIDIT_MAX_CHECKS_PER_MINUTE=2) starts 2 checks a minute",
    );
    const lines = progressLines(r.stderr);
    const waiting = lines.filter((l) => l.includes("waiting"));
    expect(waiting).toEqual([
      expect.stringMatching(
        /ETA 1m00s; waiting 60 s for the per-minute budget \(DIDIT_MAX_CHECKS_PER_MINUTE=2\)$/,
      ),
    ]);
    // No line before the last says the run is about to end while a minute's wait is ahead.
    expect(lines.filter((l) => !l.startsWith("progress: 3/3") && l.includes("ETA 0s"))).toEqual([]);
    expect(lines.every((l) => l.includes("credits 0"))).toBe(true);
    expect(r.stderr).toContain("credits used: 0 (sandbox)");
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(60_000);
  });

  it("--dry-run says what the real run costs: its credits and the time the per-minute budget sets", async () => {
    const { dir, files } = await makeImages(3);
    await writeFile(path.join(dir, "copy.jpg"), await readFile(files[0] as string));
    const r = await cli([dir, "--dry-run"], { env: { DIDIT_MAX_CHECKS_PER_MINUTE: "2" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "The real run uploads up to 3 images (3 credits), and takes at least 1m00s: the per-minute budget (DIDIT_MAX_CHECKS_PER_MINUTE=2) starts 2 checks a minute.",
    );
    expect(double.requests).toHaveLength(0);
  });

  it("a 429 from Didit is shown as a wait with its reason", async () => {
    const { files } = await makeImages(2);
    double.enqueue(throttled(1));
    const r = await cli([...files, "--concurrency", "1"]);
    expect(r.code).toBe(0);
    expect(progressLines(r.stderr)).toContainEqual(
      expect.stringMatching(/waiting 1 s for Didit's rate limit \(it answered 429 Too Many Requests\)$/),
    );
    expect(double.requests).toHaveLength(3);
  });
});
