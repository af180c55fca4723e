/**
 * `calibrate`: collect a score per labelled image (from Didit, from a previous run's JSONL, or from the local
 * pre-check), then compute the error rates and write the report.
 */
import { appendFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import type { Config } from "../../config/config.js";
import { parseKnownOptions } from "../../config/known-options.js";
import { asToolFailure, ERROR_KINDS, ToolFailure } from "../../core/errors.js";
import { packageVersion } from "../../core/version.js";
import type { DiditClient } from "../../didit/client.js";
import { runLivenessCheck } from "../../flows/liveness/check.js";
import { selectLivenessClient } from "../../flows/liveness/select-client.js";
import {
  IMAGE_FILE_OPTIONS,
  loadCommandConfig,
  loadTypedImage,
  typedImagePath,
  usageError,
} from "../command-options.js";
import { runPool } from "../worker-pool.js";
import { type Calibration, computeCalibration, percent, type ScoredSample, type Target } from "./metrics.js";
import { type CalibrationInputs, inputParts, keyThresholds, renderReport } from "./report.js";

export const CALIBRATE_USAGE = `  didit-passive-liveness-mcp calibrate --bona-fide DIR --attack DIR[=TYPE]... | --manifest FILE.csv
                                   [--engine didit|local] [--target-bpcer 0.05 | --target-apcer 0.01]
                                   [--scores FILE.jsonl] [--report FILE.html] [--json] [--yes]
                                   [--allow-hardlinks]`;

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"]);
const CONCURRENCY = 4;
export interface CalibrateIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  /** Asks a yes/no question; undefined when nobody can answer (not a TTY). Defaults to the process's terminal. */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
  /** Whether the default confirm can ask: stdin and stderr both terminals (default: the process's own). */
  stdin?: { isTTY?: boolean } | undefined;
  stderrIsTTY?: boolean | undefined;
}

export interface LabelledImage {
  input: string;
  label: "bona_fide" | "attack";
  attackType?: string | undefined;
}

interface Hashed extends LabelledImage {
  sha256: string;
}

/** A file left out because an earlier one has the same bytes: one image is one sample, however many copies. */
export interface DuplicateImage {
  input: string;
  same_as: string;
}

interface Scored extends Hashed {
  score: number | null;
  reason?: string;
}

/** Runs `calibrate`; resolves to exit code 0, throws ToolFailure otherwise (the CLI maps it to 2 or 3). */
export async function runCalibrate(argv: readonly string[], io: CalibrateIO): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw error instanceof ToolFailure
      ? error
      : usageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  const engine = values.engine ?? "didit";
  if (engine !== "didit" && engine !== "local") throw usageError("--engine must be didit or local.");
  const target = parseTarget(values["target-bpcer"], values["target-apcer"]);
  if (engine === "local" && values.scores !== undefined) {
    throw usageError("--scores holds Didit scores; it cannot be used with --engine local.");
  }
  // Images are read under check's rules, hard links included (--allow-hardlinks or DIDIT_ALLOW_HARDLINKS).
  const config = await loadCommandConfig(io.env, values);
  const labelled = await collectLabelledImages({
    bonaFide: values["bona-fide"] ?? [],
    attacks: values.attack ?? [],
    manifest: values.manifest,
  });
  const expectedTypes = [
    ...new Set(labelled.filter((l) => l.label === "attack").map((l) => l.attackType ?? "attack")),
  ];
  const { images, duplicates } = await hashAll(labelled, config);
  if (duplicates.length > 0) {
    io.err(
      `calibrate: ${duplicates.length} byte-identical file(s) counted once (each image is one sample): ${duplicates
        .slice(0, 3)
        .map((d) => `${d.input} = ${d.same_as}`)
        .join(", ")}${duplicates.length > 3 ? ", ..." : ""}.\n`,
    );
  }
  const scored =
    engine === "didit"
      ? await scoreWithDidit(images, config, { scoresFile: values.scores, yes: values.yes === true }, io)
      : await scoreLocally(images, config, io);
  const samples: ScoredSample[] = scored
    .filter((s): s is Scored & { score: number } => s.score !== null)
    .map((s) => ({ score: s.score, label: s.label, attackType: s.attackType }));
  const calibration = computeCalibration(samples, target, expectedTypes);
  const excluded = scored
    .filter((s) => s.score === null)
    .map((s) => ({
      input: s.input,
      label: s.label === "bona_fide" ? "bona fide" : (s.attackType ?? "attack"),
      reason: s.reason ?? "no score",
    }));
  const tool = `didit-passive-liveness-mcp ${packageVersion()}`;
  const inputs: CalibrationInputs = {
    bona_fide: (values["bona-fide"] ?? []).map((dir) => path.resolve(dir)),
    attack: (values.attack ?? [])
      .map(parseAttackArg)
      .map(({ dir, type }) => ({ dir: path.resolve(dir), type })),
    manifest: values.manifest === undefined ? undefined : path.resolve(values.manifest),
    scores: values.scores === undefined ? undefined : path.resolve(values.scores),
  };
  const context = { engine, tool, inputs, duplicates, excluded } as const;
  if (values.report !== undefined) {
    await writeFile(
      values.report,
      renderReport(calibration, { ...context, generatedAt: new Date().toISOString() }),
    );
  }
  if (values.json) {
    io.out(`${JSON.stringify({ ...context, ...calibration }, null, 2)}\n`);
  } else {
    io.out(renderText(calibration, context, values.report));
  }
  return 0;
}

function parseOptions(argv: readonly string[]) {
  const { values, positionals } = parseKnownOptions({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      "bona-fide": { type: "string", multiple: true },
      attack: { type: "string", multiple: true },
      manifest: { type: "string" },
      engine: { type: "string" },
      "target-bpcer": { type: "string" },
      "target-apcer": { type: "string" },
      scores: { type: "string" },
      report: { type: "string" },
      json: { type: "boolean" },
      yes: { type: "boolean" },
      ...IMAGE_FILE_OPTIONS,
    },
  });
  if (positionals.length > 0)
    throw usageError(`calibrate takes no positional arguments (got ${positionals[0]}).`);
  return { values };
}

function parseTarget(bpcer: string | undefined, apcer: string | undefined): Target {
  if (bpcer !== undefined && apcer !== undefined)
    throw usageError("Give --target-bpcer or --target-apcer, not both.");
  const text = bpcer ?? apcer ?? "0.05";
  const value = Number(text);
  if (!(text.trim() !== "" && Number.isFinite(value) && value >= 0 && value < 1)) {
    throw usageError(`The target must be a fraction from 0 to below 1, e.g. 0.05 for 5% (got ${text}).`);
  }
  return apcer !== undefined ? { kind: "apcer", value } : { kind: "bpcer", value };
}

async function imagesUnder(dir: string): Promise<string[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ToolFailure("file_not_found", `No such directory: ${dir}.`, "Check the folder path.");
  }
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** `DIR=TYPE` when the part after the last `=` is a plain name; the folder's own name otherwise. */
export function parseAttackArg(arg: string): { dir: string; type: string } {
  const eq = arg.lastIndexOf("=");
  const maybeType = eq > 0 ? arg.slice(eq + 1) : "";
  if (/^[\w.-]+$/.test(maybeType)) return { dir: arg.slice(0, eq), type: maybeType };
  return { dir: arg, type: path.basename(path.resolve(arg)) };
}

const BONA_FIDE_LABELS = new Set([
  "bona_fide",
  "bona-fide",
  "bonafide",
  "bona fide",
  "live",
  "real",
  "genuine",
]);
const ATTACK_LABELS = new Set(["attack", "spoof", "fake"]);

/** Folders (searched recursively for images) or a `path,label,attack_type` CSV, whose paths are relative to it. */
export async function collectLabelledImages(source: {
  bonaFide: readonly string[];
  attacks: readonly string[];
  manifest?: string | undefined;
}): Promise<LabelledImage[]> {
  const usesFolders = source.bonaFide.length > 0 || source.attacks.length > 0;
  if (source.manifest !== undefined && usesFolders) {
    throw usageError("Give --manifest or --bona-fide/--attack folders, not both.");
  }
  if (source.manifest !== undefined) return readManifest(source.manifest);
  if (source.bonaFide.length === 0 || source.attacks.length === 0) {
    throw usageError(
      "calibrate needs --bona-fide DIR and at least one --attack DIR[=TYPE] (or --manifest FILE.csv).",
    );
  }
  const out: LabelledImage[] = [];
  for (const dir of source.bonaFide) {
    const files = await imagesUnder(dir);
    if (files.length === 0) throw emptyFolder(dir);
    for (const input of files) out.push({ input, label: "bona_fide" });
  }
  for (const arg of source.attacks) {
    const { dir, type } = parseAttackArg(arg);
    const files = await imagesUnder(dir);
    if (files.length === 0) throw emptyFolder(dir);
    for (const input of files) out.push({ input, label: "attack", attackType: type });
  }
  return out;
}

function emptyFolder(dir: string): ToolFailure {
  return new ToolFailure(
    "invalid_input",
    `No images (.jpg/.jpeg/.png/.webp/.tif/.tiff) under ${dir}.`,
    "Each class needs at least one image.",
  );
}

async function readManifest(file: string): Promise<LabelledImage[]> {
  const text = await readFile(file, "utf8").catch(() => {
    throw new ToolFailure("file_not_found", `Cannot read the manifest ${file}.`, "Check the path.");
  });
  const base = path.dirname(path.resolve(file));
  const out: LabelledImage[] = [];
  // Loaded on first use: the CSV library stays out of every other command's start. Cells trimmed; blank lines and
  // lines starting with # skipped.
  const { readCsv } = await import("../batch/batch-output.js");
  const records = readCsv(text, {
    trim: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    comment: "#",
    comment_no_infix: true,
  });
  for (const { record, line } of records) {
    const [p = "", rawLabel = "", type = ""] = record;
    if (line === 1 && p.toLowerCase() === "path") continue;
    const label = rawLabel.toLowerCase();
    const where = `${file} line ${line}`;
    if (p === "") throw usageError(`${where}: the path is empty.`);
    if (BONA_FIDE_LABELS.has(label)) out.push({ input: path.resolve(base, p), label: "bona_fide" });
    else if (ATTACK_LABELS.has(label)) {
      if (type === "")
        throw usageError(`${where}: an attack needs an attack_type (e.g. print, screen, mask).`);
      out.push({ input: path.resolve(base, p), label: "attack", attackType: type });
    } else throw usageError(`${where}: label must be bona_fide or attack (got "${rawLabel}").`);
  }
  if (out.length === 0) throw usageError(`${file} lists no images.`);
  return out;
}

/** One labelled image as a check would read it: its own directory allowed, hard links as configured. */
async function readImage(input: string, config: Config): Promise<{ bytes: Uint8Array; sha256: string }> {
  return loadTypedImage(await typedImagePath(input), config.allowHardlinks);
}

/**
 * Hashes every image (validating it locally), keeps the first file of each image, as a batch does, and refuses one
 * image carrying two labels: copies counted as samples would narrow the intervals beyond what the data supports.
 */
async function hashAll(
  labelled: readonly LabelledImage[],
  config: Config,
): Promise<{ images: Hashed[]; duplicates: DuplicateImage[] }> {
  const images: Hashed[] = [];
  const duplicates: DuplicateImage[] = [];
  const seen = new Map<string, LabelledImage>();
  for (const l of labelled) {
    const { sha256 } = await readImage(l.input, config);
    const prior = seen.get(sha256);
    if (prior && (prior.label !== l.label || prior.attackType !== l.attackType)) {
      throw usageError(`${l.input} and ${prior.input} are the same image with different labels.`);
    }
    if (prior) {
      duplicates.push({ input: l.input, same_as: prior.input });
      continue;
    }
    seen.set(sha256, l);
    images.push({ ...l, sha256 });
  }
  return { images, duplicates };
}

/** A previous run's rows (the batch `check` JSONL shape): sha256 -> score, null when Didit found no face. */
export function parseScoreRows(text: string): Map<string, number | null> {
  const scores = new Map<string, number | null>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      continue; // a line cut by a crash
    }
    if (row === null || typeof row !== "object") continue;
    const r = row as { sha256?: unknown; ok?: unknown; result?: { score?: unknown } };
    if (typeof r.sha256 !== "string" || r.ok !== true || !r.result || typeof r.result !== "object") continue;
    const score = r.result.score;
    if (score === null) scores.set(r.sha256, null);
    else if (typeof score === "number" && Number.isFinite(score) && score >= 0 && score <= 100) {
      scores.set(r.sha256, score);
    }
  }
  return scores;
}

async function defaultConfirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function terminalConfirm(io: CalibrateIO): ((q: string) => Promise<boolean>) | undefined {
  return (io.stdin ?? process.stdin).isTTY && (io.stderrIsTTY ?? process.stderr.isTTY)
    ? defaultConfirm
    : undefined;
}

async function scoreWithDidit(
  hashed: readonly Hashed[],
  config: Config,
  options: { scoresFile: string | undefined; yes: boolean },
  io: CalibrateIO,
): Promise<Scored[]> {
  const known =
    options.scoresFile === undefined
      ? new Map<string, number | null>()
      : parseScoreRows(await readFile(options.scoresFile, "utf8").catch(() => ""));
  const todo = hashed.filter((h) => !known.has(h.sha256));
  /** Failed checks of this run, by sha256: why, for the excluded list. */
  const failures = new Map<string, string>();
  const reused = hashed.length - todo.length;
  if (todo.length > 0) {
    io.err(
      `calibrate: ${todo.length} image(s) to check with Didit: ${todo.length} credit(s)${reused > 0 ? `; ${reused} score(s) reused from ${options.scoresFile}` : ""}. Images are sent with save_api_request=false (not stored or enrolled).\n`,
    );
    if (!options.yes) {
      const confirm = io.confirm ?? terminalConfirm(io);
      if (!confirm) {
        throw new ToolFailure(
          "consent_declined",
          `calibrate would spend ${todo.length} credit(s) and stdin is not a terminal, so it cannot ask.`,
          "Run it again with --yes to accept the cost (nothing was uploaded).",
        );
      }
      if (!(await confirm(`Spend ${todo.length} credit(s)? [y/N] `))) {
        throw new ToolFailure(
          "consent_declined",
          "Calibration cancelled; nothing was uploaded.",
          "Run it again and answer y, or pass --yes.",
        );
      }
    }
    await fetchScores(todo, config, { known, failures }, options.scoresFile, io);
  } else {
    io.err(`calibrate: all ${hashed.length} score(s) reused from ${options.scoresFile}; nothing uploaded.\n`);
  }
  return hashed.map((h) => {
    const score = known.has(h.sha256) ? (known.get(h.sha256) ?? null) : null;
    const failed = failures.get(h.sha256);
    return {
      ...h,
      score,
      ...(score === null ? { reason: failed ?? "Didit found no face (no score)" } : {}),
    };
  });
}

async function fetchScores(
  todo: readonly Hashed[],
  config: Config,
  { known, failures }: { known: Map<string, number | null>; failures: Map<string, string> },
  scoresFile: string | undefined,
  io: CalibrateIO,
): Promise<void> {
  if (config.sandbox) {
    throw new ToolFailure(
      "not_configured",
      "Sandbox mode returns mocked scores; they cannot calibrate a threshold.",
      "Unset DIDIT_SANDBOX, or use --engine local for a free, offline estimate.",
    );
  }
  const client: DiditClient | undefined = selectLivenessClient(config);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  io.signal?.addEventListener("abort", onAbort, { once: true });
  let fatal: ToolFailure | undefined;
  let done = 0;
  const work = async (item: (typeof todo)[number]) => {
    const started = performance.now();
    let row: Record<string, unknown>;
    try {
      const { dir, file } = await typedImagePath(item.input);
      const result = await runLivenessCheck(
        { allowedDirs: async () => [dir], allowHardlinks: config.allowHardlinks, client },
        {
          image_path: file,
          // 0 so the score is returned and nothing is declined for it; the calibration sets the real threshold.
          face_liveness_score_decline_threshold: 0,
          save_api_request: false,
          vendor_data: `calibration-${item.sha256.slice(0, 16)}`,
        },
        { signal: stop.signal },
      );
      known.set(item.sha256, result.score);
      row = { input: item.input, sha256: item.sha256, ok: true, result };
    } catch (error) {
      const failure = asToolFailure(error);
      failures.set(item.sha256, `check failed: ${failure.code}`);
      row = {
        input: item.input,
        sha256: item.sha256,
        ok: false,
        error: { code: failure.code, message: failure.message, hint: failure.hint },
      };
      // A failure that would repeat for every image: stop instead of spending more.
      if (ERROR_KINDS[failure.code] === "stop") {
        fatal ??= failure;
        stop.abort();
      }
    }
    row.elapsed_ms = Math.round(performance.now() - started);
    if (scoresFile !== undefined) await appendFile(scoresFile, `${JSON.stringify(row)}\n`);
    done++;
    if (done % Math.max(1, Math.ceil(todo.length / 10)) === 0 || done === todo.length) {
      io.err(`calibrate: ${done}/${todo.length} checked\n`);
    }
  };
  try {
    await runPool(todo, CONCURRENCY, () => !stop.signal.aborted, work);
  } finally {
    io.signal?.removeEventListener("abort", onAbort);
    await client?.close();
  }
  if (fatal) throw fatal;
  if (io.signal?.aborted) {
    throw new ToolFailure(
      "cancelled",
      "Calibration interrupted.",
      "Run it again with the same --scores file to continue without re-uploading.",
    );
  }
}

async function scoreLocally(hashed: readonly Hashed[], config: Config, io: CalibrateIO): Promise<Scored[]> {
  const { resolveEngine } = await import("../../precheck/loader.js");
  const locations = config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : {};
  const resolved = await resolveEngine(locations);
  if (!resolved.spoofModels) {
    throw new ToolFailure(
      "not_configured",
      `The local engine has no anti-spoofing estimate: ${resolved.spoofUnavailable ?? "model files missing"}.`,
      "Point DIDIT_PRECHECK_MODELS_DIR at the folder holding MiniFASNetV2.onnx and MiniFASNetV1SE.onnx.",
    );
  }
  const { createPrecheckAnalyzer } = await import("../../precheck/index.js");
  const analyzer = createPrecheckAnalyzer(locations);
  const out: Scored[] = [];
  for (const [i, h] of hashed.entries()) {
    const { bytes } = await readImage(h.input, config);
    const analysis = await analyzer.analyze(bytes, { signal: io.signal });
    const score = analysis.spoof_estimate;
    out.push({ ...h, score, ...(score === null ? { reason: "the pre-check found no face" } : {}) });
    if ((i + 1) % Math.max(1, Math.ceil(hashed.length / 10)) === 0)
      io.err(`calibrate: ${i + 1}/${hashed.length} analysed\n`);
  }
  return out;
}

function renderText(
  c: Calibration,
  ctx: {
    tool: string;
    inputs: CalibrationInputs;
    duplicates: readonly DuplicateImage[];
    excluded: readonly unknown[];
  },
  report: string | undefined,
): string {
  const { duplicates, excluded } = ctx;
  const lines = [
    `Tool: ${ctx.tool}`,
    `Inputs: ${inputParts(ctx.inputs)
      .map(([what, where]) => `${what} ${where}`)
      .join("; ")}`,
    `Data set: ${c.counts.bona_fide} bona fide, ${c.counts.attack} attacks (${c.attack_types.map((t) => `${t} ${c.counts.by_attack_type[t]}`).join(", ")})${duplicates.length > 0 ? `; ${duplicates.length} byte-identical file(s) counted once` : ""}${excluded.length > 0 ? `; ${excluded.length} image(s) without a score left out` : ""}.`,
    `Target: ${c.target.kind.toUpperCase()} <= ${percent(c.target.value)}.`,
    c.recommendation.threshold === null
      ? `Recommendation: none. ${c.recommendation.sentence}.`
      : `Recommended threshold: ${c.recommendation.threshold} (${c.recommendation.sentence}).`,
    `EER: ${percent(c.eer.rate)} at threshold ${c.eer.threshold}.`,
    ...c.bpcer_at_apcer.map(
      (p) =>
        `${p.iso_name} (BPCER at APCER <= ${percent(p.apcer_target)}): ${percent(p.bpcer.rate)} at ${p.threshold}`,
    ),
    ...c.apcer_at_bpcer.map((p) =>
      "apcer" in p
        ? `APCER at BPCER <= ${percent(p.bpcer_target)}: ${percent(p.apcer.rate)} at ${p.threshold}`
        : `APCER at BPCER <= ${percent(p.bpcer_target)}: no threshold reaches it`,
    ),
    "",
    `threshold  BPCER    ${c.attack_types.map((t) => `APCER ${t}`.padEnd(14)).join("")}APCER (worst)`,
    ...keyThresholds(c).map((t) => {
      const r = c.rows[t];
      if (!r) return "";
      return `${String(t).padStart(9)}  ${percent(r.bpcer.rate).padEnd(9)}${c.attack_types.map((a) => percent(r.apcer_pais[a]?.rate ?? 0).padEnd(14)).join("")}${percent(r.apcer.rate)}`;
    }),
    "",
    "Statistical power:",
    ...c.power_notes.map((n) => `  ${n}`),
    "Didit declines when score <= threshold (BPCER: real people declined; APCER: attacks accepted; ISO/IEC 30107-3).",
    ...(report ? [`Report: ${report}`] : []),
  ];
  return `${lines.join("\n")}\n`;
}
