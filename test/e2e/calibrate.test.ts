import { createHash } from "node:crypto";
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";
import { type DiditDouble, type Outcome, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";

const JPEG = path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg");

let double: DiditDouble;
let root: string;
const outcomes = new Map<string, Outcome>();

/*
 * Scored set (Didit's score per image, assigned by the double whatever the request order):
 *   bona fide 20 50 70 90, plus one without a face (excluded)   print 10 40   screen 25 60
 * Target BPCER <= 25%: the highest t with at most 1 of 4 bona fide at or below it is 49.
 * At 49: bona fide 1/4 declined; print 0/2 and screen 1/2 score above 49 (accepted).
 */
async function image(dir: string, name: string, outcome: Outcome): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Bytes after the JPEG's end marker make each file a distinct image (own sha256) that still loads as a JPEG.
  const bytes = Buffer.concat([await readFile(JPEG), Buffer.from(`\n${name}`)]);
  await writeFile(path.join(dir, name), bytes);
  outcomes.set(createHash("sha256").update(bytes).digest("hex"), outcome);
}

beforeAll(async () => {
  double = await startDiditDouble();
  root = await mkdtemp(path.join(os.tmpdir(), "calibrate-e2e-"));
  for (const s of [20, 50, 70, 90])
    await image(path.join(root, "bf"), `bf${s}.jpg`, { kind: "approved", score: s });
  await image(path.join(root, "bf", "nested"), "noface.jpg", { kind: "no_face" });
  for (const s of [10, 40])
    await image(path.join(root, "prints"), `p${s}.jpg`, { kind: "approved", score: s });
  for (const s of [25, 60])
    await image(path.join(root, "screens"), `s${s}.jpg`, { kind: "approved", score: s });
});
afterEach(() => double.reset());
afterAll(async () => {
  await double.close();
  await rm(root, { recursive: true, force: true });
});

function script(): void {
  for (const [sha, outcome] of outcomes) double.setOutcomeForImage(sha, outcome);
}

/** `calibrate ...` in this process, its stdin and stderr not terminals, so calibrate cannot ask. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCliInProcess(["calibrate", ...args], {
    env: { DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url, ...env },
  });

/** A set's bf/ folder as bona fide and print/ as print attacks, the spend confirmed. */
const bonaFideAndPrint = (set: string) => [
  "--bona-fide",
  path.join(set, "bf"),
  "--attack",
  `${path.join(set, "print")}=print`,
  "--yes",
];

const sets = () => [
  "--bona-fide",
  path.join(root, "bf"),
  "--attack",
  `${path.join(root, "prints")}=print`,
  "--attack",
  `${path.join(root, "screens")}=screen`,
  "--target-bpcer",
  "0.25",
];

describe("didit-passive-liveness-mcp calibrate --engine didit", () => {
  it("refuses to spend credits without --yes when stdin is not a terminal: zero requests", async () => {
    script();
    const r = await cli(sets());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/9 image\(s\) to check with Didit: 9 credit\(s\)/);
    expect(r.stderr).toMatch(/Error \[consent_declined\].*not a terminal/);
    expect(r.stderr).toMatch(/--yes/);
    expect(double.requests).toHaveLength(0);
  });

  it("checks each image once at threshold 0 without saving, computes the figures, and a re-run from --scores is free", async () => {
    script();
    const scores = path.join(root, "scores.jsonl");
    const report = path.join(root, "report.html");
    const first = await cli([...sets(), "--yes", "--json", "--scores", scores, "--report", report]);
    expect(first.stderr).not.toMatch(/Error/);
    expect(first.code).toBe(0);
    expect(double.requests).toHaveLength(9);
    const vendorData = new Set<string>();
    for (const req of double.requests) {
      expect(req.fields.face_liveness_score_decline_threshold).toBe("0");
      expect(req.fields.save_api_request).toBe("false");
      vendorData.add(req.fields.vendor_data ?? "");
    }
    expect(vendorData.size).toBe(9);
    expect(new Set(double.requests.map((q) => q.file?.sha256)).size).toBe(9);

    const figures = JSON.parse(first.stdout);
    expect(figures.counts).toEqual({ bona_fide: 4, attack: 4, by_attack_type: { print: 2, screen: 2 } });
    expect(figures.recommendation.threshold).toBe(49);
    expect(figures.recommendation.sentence).toMatch(
      /^at 49: 1 of 4 real people declined \(25\.0%, CI [\d.]+-[\d.]+%\); print 0\/2, screen 1\/2 accepted/,
    );
    expect(figures.rows[49].bpcer).toMatchObject({ errors: 1, total: 4 });
    expect(figures.excluded).toEqual([
      {
        input: path.join(root, "bf", "nested", "noface.jpg"),
        label: "bona fide",
        reason: "Didit found no face (no score)",
      },
    ]);
    const html = await readFile(report, "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/(src|href)=|url\(|@import|<script/i);
    const rows = (await readFile(scores, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(9);
    expect(rows[0]).toMatchObject({
      ok: true,
      input: expect.any(String),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    double.reset();
    const again = await cli([...sets(), "--json", "--scores", scores]);
    expect(again.code).toBe(0);
    expect(double.requests).toHaveLength(0);
    expect(again.stderr).toMatch(/all 9 score\(s\) reused/);
    expect(JSON.parse(again.stdout).rows).toEqual(figures.rows);
  });

  it("accepts a batch check's JSONL, uploading only the images it lacks", async () => {
    script();
    const bf20 = await readFile(path.join(root, "bf", "bf20.jpg"));
    const sha = createHash("sha256").update(bf20).digest("hex");
    const scores = path.join(root, "batch.jsonl");
    await writeFile(
      scores,
      [
        JSON.stringify({
          input: "elsewhere/bf20.jpg",
          sha256: sha,
          ok: true,
          result: { status: "Declined", score: 20 },
          elapsed_ms: 5,
        }),
        JSON.stringify({
          input: "x.jpg",
          sha256: "f".repeat(64),
          ok: false,
          error: { code: "timeout", message: "m", hint: "h" },
        }),
        '{"input": "cut by a crash',
      ].join("\n"),
    );
    const r = await cli([...sets(), "--yes", "--scores", scores]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/8 image\(s\) to check with Didit: 8 credit\(s\); 1 score\(s\) reused/);
    expect(double.requests.map((q) => q.file?.sha256)).not.toContain(sha);
    expect(r.stdout).toMatch(/Recommended threshold: 49/);
  });

  it("honours --allow-hardlinks and DIDIT_ALLOW_HARDLINKS like check; refuses hard-linked images without them", async () => {
    const set = path.join(root, "linked");
    await image(path.join(set, "bf"), "a.jpg", { kind: "approved", score: 80 });
    await image(path.join(set, "print"), "p.jpg", { kind: "approved", score: 10 });
    await image(path.join(set, "elsewhere"), "b.jpg", { kind: "approved", score: 60 });
    await link(path.join(set, "elsewhere", "b.jpg"), path.join(set, "bf", "b.jpg"));
    const args = bonaFideAndPrint(set);
    script();
    const refused = await cli(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Error \[path_not_allowed\].*hard link/);
    expect(double.requests).toHaveLength(0);
    for (const [extra, env] of [
      [["--allow-hardlinks"], {}],
      [[], { DIDIT_ALLOW_HARDLINKS: "true" }],
    ] as const) {
      double.reset();
      script();
      const r = await cli([...args, ...extra], env);
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.code).toBe(0);
      expect(double.requests).toHaveLength(3);
    }
  });

  it("counts byte-identical files once and says so; the report names the tool version and the inputs it used", async () => {
    // A folder name with markup in it: the report must show it as text.
    const set = path.join(root, "dup<i>set");
    await image(path.join(set, "bf"), "a.jpg", { kind: "approved", score: 80 });
    await image(path.join(set, "bf"), "b.jpg", { kind: "approved", score: 60 });
    await image(path.join(set, "print"), "p.jpg", { kind: "approved", score: 10 });
    await writeFile(path.join(set, "bf", "a-copy.jpg"), await readFile(path.join(set, "bf", "a.jpg")));
    await mkdir(path.join(set, "print", "again"));
    await writeFile(
      path.join(set, "print", "again", "p.jpg"),
      await readFile(path.join(set, "print", "p.jpg")),
    );
    const report = path.join(set, "report.html");
    const scores = path.join(set, "scores.jsonl");
    const args = [...bonaFideAndPrint(set), "--scores", scores, "--report", report];
    script();
    const { version } = JSON.parse(
      await readFile(path.resolve(import.meta.dirname, "../../package.json"), "utf8"),
    );

    const json = await cli([...args, "--json"]);
    expect(json.code).toBe(0);
    expect(double.requests).toHaveLength(3);
    expect(json.stderr).toContain("calibrate: 2 byte-identical file(s) counted once");
    const figures = JSON.parse(json.stdout);
    expect(figures.counts).toEqual({ bona_fide: 2, attack: 1, by_attack_type: { print: 1 } });
    expect(figures.duplicates).toEqual([
      { input: path.join(set, "bf", "a.jpg"), same_as: path.join(set, "bf", "a-copy.jpg") },
      { input: path.join(set, "print", "p.jpg"), same_as: path.join(set, "print", "again", "p.jpg") },
    ]);
    expect(figures).toMatchObject({ tool: `didit-passive-liveness-mcp ${version}` });

    const html = await readFile(report, "utf8");
    expect(html).toContain(`didit-passive-liveness-mcp ${version}`);
    expect(html).toContain("2 byte-identical file(s) counted once");
    for (const used of [path.join(set, "bf"), path.join(set, "print"), scores]) {
      expect(html).toContain(used.replace("<i>", "&lt;i&gt;"));
    }
    expect(html).not.toContain("<i>");

    const text = await cli(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Tool: didit-passive-liveness-mcp ${version}`);
    expect(text.stdout).toContain(`bona fide ${path.join(set, "bf")}`);
    expect(text.stdout).toContain(`print ${path.join(set, "print")}`);
    expect(text.stdout).toContain(`scores ${scores}`);
    expect(text.stdout).toMatch(
      /Data set: 2 bona fide, 1 attacks \(print 1\); 2 byte-identical file\(s\) counted once/,
    );
  });

  it.each([
    [["--bona-fide", "BF"], /at least one --attack/],
    [["--bona-fide", "BF", "--attack", "EMPTY=mask"], /No images .* under/],
    [["--bona-fide", "BF", "--attack", "BF=x", "--engine", "local", "--scores", "s.jsonl"], /--scores/],
    [["--bona-fide", "BF", "--attack", "BF=x", "--target-bpcer", "5"], /fraction/],
  ])("usage errors exit 2 before any request: %j", async (args, message) => {
    await mkdir(path.join(root, "empty"), { recursive: true });
    const real = args.map((a) =>
      a.replace("BF", path.join(root, "bf")).replace("EMPTY", path.join(root, "empty")),
    );
    const r = await cli(real);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(double.requests).toHaveLength(0);
  });
});
