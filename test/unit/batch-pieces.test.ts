import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandGlob, expandInputs, listImageDir, segmentPattern } from "../../src/cli/batch/batch-inputs.js";
import {
  type BatchRow,
  csvField,
  csvHeader,
  formatRow,
  parseCsv,
  prepareResume,
} from "../../src/cli/batch/batch-output.js";
import { createProgress, renderBar } from "../../src/cli/batch/progress.js";
import { createCheckBudget } from "../../src/core/rate-guard.js";
import { createSharedBackoff } from "../../src/didit/shared-backoff.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "batch-unit-"));
  for (const f of [
    "a.jpg",
    "b.PNG",
    "c.txt",
    ".hidden.jpg",
    "sub/d.jpg",
    "sub/deep/e.webp",
    "sub/deep/f.tif",
  ]) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await writeFile(path.join(root, f), "x");
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));
const rel = (files: string[]) => files.map((f) => path.relative(root, f));

describe("input expansion", () => {
  it("a segment pattern: * and ? never cross a separator, dotfiles need a literal dot", () => {
    expect(segmentPattern("*.jpg").test("a.jpg")).toBe(true);
    expect(segmentPattern("*.jpg").test("a/b.jpg")).toBe(false);
    expect(segmentPattern("*.jpg").test(".hidden.jpg")).toBe(false);
    expect(segmentPattern(".*.jpg").test(".hidden.jpg")).toBe(true);
    expect(segmentPattern("?.jpg").test("ab.jpg")).toBe(false);
    expect(segmentPattern("a+(b).jpg").test("a+(b).jpg")).toBe(true);
  });

  it("a literal segment matches only itself, whatever regex characters it has", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !/[*?/\\]/.test(s) && !s.startsWith(".")),
        (name) => {
          expect(segmentPattern(name).test(name)).toBe(true);
          expect(segmentPattern(name).test(`${name}x`)).toBe(false);
        },
      ),
    );
  });

  it("globs with *, ? and ** (zero or more directories)", async () => {
    expect(rel(await expandGlob("*.jpg", root))).toEqual(["a.jpg"]);
    expect(rel(await expandGlob("**/*.jpg", root))).toEqual(["a.jpg", "sub/d.jpg"]);
    expect(rel(await expandGlob("sub/**", root))).toEqual(["sub/d.jpg", "sub/deep/e.webp", "sub/deep/f.tif"]);
    expect(rel(await expandGlob("sub/*/?.webp", root))).toEqual(["sub/deep/e.webp"]);
    expect(await expandGlob("nothing/*.jpg", root)).toEqual([]);
  });

  it("a directory yields its images by extension (any case), recursively only with --recursive", async () => {
    expect(rel(await listImageDir(root, false))).toEqual(["a.jpg", "b.PNG"]);
    expect(rel(await listImageDir(root, true))).toEqual([
      "a.jpg",
      "b.PNG",
      "sub/d.jpg",
      "sub/deep/e.webp",
      "sub/deep/f.tif",
    ]);
  });

  it("lists each input once; - reads paths from stdin; an unmatched name stays so its row says why", async () => {
    const inputs = await expandInputs([".", "a.jpg", "-", "-", "missing-*.jpg"], {
      recursive: false,
      cwd: root,
      readStdin: async () => "a.jpg\n\n  sub/d.jpg  \r\n",
    });
    expect(inputs.map((p) => (path.isAbsolute(p) ? path.relative(root, p) : p))).toEqual([
      "a.jpg",
      "b.PNG",
      "sub/d.jpg",
      "missing-*.jpg",
    ]);
  });
});

describe("batch output", () => {
  const row: BatchRow = {
    input: 'odd, "name".jpg',
    sha256: "ab",
    ok: false,
    uploaded: false,
    error: { code: "not_an_image", message: "m", hint: "h" },
    elapsed_ms: 3,
  };

  it("CSV quoting round-trips through the parser", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 6 }), (fields) => {
        const line = `${fields.map(csvField).join(",")}\n`;
        expect(parseCsv(line)).toEqual([fields]);
      }),
    );
    expect(parseCsv(formatRow(row, "csv"))[0]).toEqual([
      row.input,
      "ab",
      "error",
      "",
      "",
      "",
      "not_an_image",
      "",
    ]);
  });

  it("no CSV cell starts with = + - @, tab or CR (OWASP CSV injection), and every value reads back as written", () => {
    const formulaStart = /^[=+\-@\t\r]/;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.constantFrom("=", "+", "-", "@", "\t", "\r", "'").chain((c) => fc.string().map((t) => c + t)),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (fields) => {
          const line = `${fields.map(csvField).join(",")}\n`;
          for (const cell of fields.map(csvField)) {
            expect(cell).not.toMatch(formulaStart);
            expect(cell.replace(/^"/, "")).not.toMatch(formulaStart);
          }
          expect(parseCsv(line)).toEqual([fields]);
        },
      ),
    );
    expect(csvField("=2*21.jpg")).toBe(`"'=2*21.jpg"`);
    // Upstream text lands in cells too: Didit's request_id and warning tags.
    const upstream: BatchRow = {
      input: "a.jpg",
      sha256: "ab",
      ok: true,
      uploaded: true,
      result: {
        status: "Approved",
        next_action: "review",
        score: 90,
        request_id: '=HYPERLINK("http://x.example","y")',
        warnings: [{ risk: "@SUM(1+1)" }, { risk: "-2+3" }],
      } as unknown as BatchRow["result"],
      elapsed_ms: 1,
    };
    const line = formatRow(upstream, "csv");
    expect(line).toContain(`"'@SUM(1+1) -2+3"`);
    expect(line).toContain(`"'=HYPERLINK(""http://x.example"",""y"")"`);
    expect(parseCsv(line)[0]?.slice(5)).toEqual(["@SUM(1+1) -2+3", "", upstream.result?.request_id]);
  });

  it("--resume reads a CSV whose cells were neutralised and keeps them exactly as written", async () => {
    const file = path.join(root, "rows.csv");
    const verdict: BatchRow = {
      input: "=2*21.jpg",
      sha256: "s1",
      ok: true,
      uploaded: true,
      result: {
        status: "Approved",
        next_action: "proceed",
        score: 90,
        request_id: "-r",
        warnings: [],
      } as unknown as BatchRow["result"],
      elapsed_ms: 1,
    };
    const text = `${csvHeader()}${formatRow(verdict, "csv")}${formatRow(verdict, "csv")}`;
    await writeFile(file, text);
    expect(await prepareResume(file, undefined)).toMatchObject({ done: new Set(["s1"]), format: "csv" });
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(file, "utf8")).toBe(`${csvHeader()}${formatRow(verdict, "csv")}`);
  });

  it("--resume keeps one verdict row per input and drops failed rows and a cut-off last line", async () => {
    const file = path.join(root, "rows.jsonl");
    const verdict = {
      input: "x",
      sha256: "s1",
      ok: true,
      uploaded: true,
      result: { status: "Approved" },
      elapsed_ms: 1,
    };
    await writeFile(
      file,
      `${[verdict, verdict, { ...verdict, input: "same-bytes.jpg" }, { ...row, sha256: "s2" }]
        .map((r) => JSON.stringify(r))
        .join("\n")}\n{"input":"cut`,
    );
    expect([...(await prepareResume(file, "jsonl")).done]).toEqual(["s1"]);
    const { readFile } = await import("node:fs/promises");
    // One row per input: a repeated row goes, an identical file under another name keeps its own.
    expect(await readFile(file, "utf8")).toBe(
      `${JSON.stringify(verdict)}\n${JSON.stringify({ ...verdict, input: "same-bytes.jpg" })}\n`,
    );
    expect((await prepareResume(path.join(root, "none.jsonl"), "jsonl")).done).toEqual(new Set());
  });
});

describe("progress", () => {
  const state = { done: 5, total: 20, approved: 3, declined: 1, failed: 1, credits: 5, elapsedMs: 10_000 };

  it("the bar shows done/total, verdicts, credits and the time left at the rate so far", () => {
    expect(renderBar(state, 8)).toBe(
      "[##------] 5/20 · approved 3 · declined 1 · failed 1 · credits 5 · ETA 30s",
    );
  });

  it("without a terminal, one plain line per 10% (at most 10), never a carriage return", () => {
    const lines: string[] = [];
    const p = createProgress((t) => lines.push(t), { tty: false });
    for (let done = 1; done <= 95; done++) p.update({ ...state, done, total: 95 });
    p.finish();
    expect(lines).toHaveLength(10);
    expect(lines.join("")).not.toContain("\r");
    expect(lines.at(-1)).toMatch(/^progress: 95\/95 \(100%\)/);
  });

  it("on a terminal, redraws in place at most once per interval and always at the end", () => {
    let t = 0;
    const writes: string[] = [];
    const p = createProgress((x) => writes.push(x), { tty: true, intervalMs: 100, now: () => t });
    for (let done = 1; done <= 20; done++) {
      t += 30;
      p.update({ ...state, done });
    }
    expect(writes.length).toBeLessThan(10);
    expect(writes.every((w) => w.startsWith("\r"))).toBe(true);
    expect(writes.at(-1)).toContain("20/20");
  });

  it("on a terminal, a wait is drawn at once with its countdown, and the ETA is never less than the wait", () => {
    const writes: string[] = [];
    const p = createProgress((x) => writes.push(x), { tty: true, intervalMs: 100, now: () => 0 });
    const reason = "the per-minute budget (DIDIT_MAX_CHECKS_PER_MINUTE=30)";
    p.update({ ...state, elapsedMs: 100 });
    p.update({ ...state, elapsedMs: 100, waiting: { reason, ms: 41_000 } });
    expect(writes).toHaveLength(2);
    expect(writes.at(-1)).toMatch(
      /ETA 41s · waiting 41 s for the per-minute budget \(DIDIT_MAX_CHECKS_PER_MINUTE=30\)$/,
    );
    expect(renderBar({ ...state, done: 0, elapsedMs: 0, budgetMs: 120_000 }, 8)).toContain("ETA 2m00s");
  });
});

describe("the per-minute budget's pacing", () => {
  it("says how long until N more checks could all have started", () => {
    let t = 0;
    const budget = createCheckBudget(2, () => t);
    expect([1, 2, 3, 5].map((n) => budget.readyIn(n))).toEqual([0, 0, 60_000, 120_000]);
    budget(2);
    t = 20_000;
    expect([1, 2, 3].map((n) => budget.readyIn(n))).toEqual([40_000, 40_000, 100_000]);
    t = 60_000;
    expect(budget.readyIn(2)).toBe(0);
  });
});

describe("shared backoff", () => {
  it("holds every waiter until the longest pause ends, and aborts a wait", async () => {
    let now = 1000;
    const backoff = createSharedBackoff(() => now);
    await backoff.ready(); // no pause: at once
    backoff.pause(50);
    backoff.pause(10); // a shorter pause does not cut the longer one
    expect(backoff.pauses).toBe(1);
    now = 1049;
    const controller = new AbortController();
    const waiting = backoff.ready(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow();
    now = 1050;
    await backoff.ready();
  });
});
