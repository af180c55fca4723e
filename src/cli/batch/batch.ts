import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { apiKeyInEnv, type Config } from "../../config/config.js";
import { asToolFailure, ERROR_KINDS, type ErrorCode, ToolFailure } from "../../core/errors.js";
import { createInFlightLimit, type InFlightLimit, MAX_CHECKS_IN_FLIGHT } from "../../core/in-flight.js";
import { createCheckBudget, type MinuteBudget } from "../../core/rate-guard.js";
import { createRedactor } from "../../core/redact.js";
import type { DiditClient } from "../../didit/client.js";
import { createSharedBackoff, type SharedBackoff } from "../../didit/shared-backoff.js";
import {
  type LivenessCheckRequest,
  runLivenessCheckOrHold,
  type UploadHeld,
} from "../../flows/liveness/check.js";
import { selectLivenessClient } from "../../flows/liveness/select-client.js";
import type { PrecheckAnalyzer } from "../../precheck/index.js";
import { loadTypedImage, sha256Hex, typedImagePathWith, usageError } from "../command-options.js";
import { runPool } from "../worker-pool.js";
import { expandInputs } from "./batch-inputs.js";
import type { BatchValues } from "./batch-options.js";
import {
  addToSummary,
  type BatchRow,
  type BatchSummary,
  csvHeader,
  emptySummary,
  formatRow,
  type OutputFormat,
  outputFormat,
  type PrecheckSkip,
  prepareResume,
  renderSummary,
} from "./batch-output.js";
import { createProgress, formatDuration, type ProgressState } from "./progress.js";

/** Batch exit codes, beside the single-image ones (0 Approved, 1 Declined, 2 usage/input, 3 config/API). */
export const BATCH_EXIT = { verdicts: 0, refusedLocally: 2, apiFailure: 3, interrupted: 130 } as const;
export const DEFAULT_CONCURRENCY = 4;
/** Above this many credits a run asks first (or needs --yes when it cannot ask). */
export const CONFIRM_ABOVE_CREDITS = 10;
/** How often a wait's countdown is redrawn. */
const WAIT_TICK_MS = 1_000;

/** Time as a batch sees it: injected so a test of a minute's wait does not take a minute. */
export interface BatchClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after `ms` by this clock; rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const SYSTEM_CLOCK: BatchClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

export interface BatchIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** First Ctrl-C: start nothing new; checks already uploading finish, so none is paid for twice. */
  signal?: AbortSignal | undefined;
  /** Second Ctrl-C: cancel the checks in flight too. */
  forceSignal?: AbortSignal | undefined;
  stdin?: (NodeJS.ReadableStream & { isTTY?: boolean }) | undefined;
  stderrIsTTY?: boolean | undefined;
  clock?: BatchClock | undefined;
}

function intOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usageError(`${name} must be a whole number from ${min} to ${max}.`);
  return n;
}

/** What the per-minute budget adds to a run, for the announcement: "" when every check can start at once. */
function pacing(budgetMs: number, perMinute: number): string {
  if (budgetMs <= 0) return "";
  return `, and takes at least ${formatDuration(budgetMs)}: the per-minute budget (DIDIT_MAX_CHECKS_PER_MINUTE=${perMinute}) starts ${perMinute} checks a minute`;
}

/** The first bytes of an earlier output file, enough for its first line; "" when there is none. */
function headOf(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const buffer = Buffer.alloc(4096);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer | string) => chunks.push(Buffer.from(c)));
    stream.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.once("error", reject);
  });
}

function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      stream.off("data", onData);
      stream.off("end", done);
      stream.pause();
      resolve(text);
    };
    const onData = (c: Buffer | string) => {
      text += c.toString();
      if (text.includes("\n")) done();
    };
    stream.on("data", onData);
    stream.once("end", done);
    stream.resume();
  });
}

interface Planned {
  input: string;
  sha256: string | null;
  /** An earlier input with the same bytes: its result is reused, the image is not sent again. */
  sameAs?: number;
}

/** The batch's own options, checked before anything is read. */
interface BatchOptions {
  concurrency: number;
  maxCredits: number | undefined;
  givenFormat: OutputFormat | undefined;
  outFile: string | undefined;
  resume: boolean;
  dryRun: boolean;
  precheck: boolean;
  yes: boolean;
  usesStdinForPaths: boolean;
}

type TypedInput = (input: string) => Promise<{ dir: string; file: string }>;

/** What planning leaves for the run: the inputs to check, the rows' format, and the summary begun. */
interface BatchPlan {
  planned: Planned[];
  format: OutputFormat;
  summary: BatchSummary;
  typedInput: TypedInput;
}

/** What the run's rows have told so far, for the exit code and the --max-credits cap. */
interface BatchTally {
  uploads: number;
  refusedLocally: boolean;
  apiFailed: boolean;
}

/** The progress line and the longest wait in force, by the batch's clock. */
interface BatchProgress {
  state: ProgressState;
  show(): void;
  showWait(reason: string, ms: number): void;
  finish(): void;
}

/** Where rows go: the --out file (appended) or stdout, redacted, in the plan's format. */
interface BatchOutput {
  write(text: string): void;
  close(): void;
}

/** What the workers share while a batch runs. */
interface BatchRun {
  config: Config;
  request: Omit<LivenessCheckRequest, "image_path" | "image_base64">;
  options: BatchOptions;
  plan: BatchPlan;
  clock: BatchClock;
  budget: MinuteBudget;
  analyzer: PrecheckAnalyzer | undefined;
  client: DiditClient | undefined;
  inFlight: InFlightLimit;
  /** First Ctrl-C: start nothing new. */
  stop: AbortSignal;
  /** Second Ctrl-C: cancel the checks in flight too. */
  force: AbortSignal | undefined;
  progress: BatchProgress;
  tally: BatchTally;
  emit(row: BatchRow): void;
}

/** Why a check kept its upload back: nothing was sent, for free. */
type BatchHold = "not_started" | { precheck: PrecheckSkip };

/**
 * `check` on many images: plans (expand, hash, resume), announces the cost and asks, then runs the one liveness flow
 * on a fixed number of workers, writing and flushing one row per finished input. Returns the batch exit code.
 */
export async function runBatch(
  config: Config,
  request: Omit<LivenessCheckRequest, "image_path" | "image_base64">,
  positionals: readonly string[],
  values: BatchValues,
  io: BatchIO,
  deps: { analyzer?: PrecheckAnalyzer; client?: DiditClient } = {},
): Promise<number> {
  const clock = io.clock ?? SYSTEM_CLOCK;
  const started = clock.now();
  const options = parseBatchOptions(positionals, values, io);
  const redact = createRedactor([config.apiKey, apiKeyInEnv(io.env)]);
  const plan = await planBatch(config, positionals, values, options, io);
  const analyzer = await batchAnalyzer(config, options, deps.analyzer);
  const budget = createCheckBudget(config.maxChecksPerMinute, clock.now);
  const credits = await announceAndConfirm(config, options, plan, budget, io);
  const tally: BatchTally = { uploads: 0, refusedLocally: false, apiFailed: false };
  const progress = createBatchProgress(io, clock, {
    started,
    total: plan.planned.length,
    budgetMs: () => (options.dryRun ? 0 : budget.readyIn(Math.max(0, credits - tally.uploads))),
  });
  const client = batchClient(config, options, progress, deps.client);
  const output = openOutput(options.outFile, plan.format, io);
  const run: BatchRun = {
    config,
    request,
    options,
    plan,
    clock,
    budget,
    analyzer,
    client,
    inFlight: createInFlightLimit(MAX_CHECKS_IN_FLIGHT),
    stop: io.signal ?? new AbortController().signal,
    force: io.forceSignal,
    progress,
    tally,
    emit: (row) => {
      output.write(redact(formatRow(row, plan.format)));
      recordRow(run, row);
    },
  };
  try {
    await runPlan(run);
  } finally {
    progress.finish();
    output.close();
    if (!deps.client) await client?.close();
  }
  io.err(renderSummary(finishSummary(run, started)));
  return batchExitCode(run);
}

function parseBatchOptions(positionals: readonly string[], values: BatchValues, io: BatchIO): BatchOptions {
  const concurrency =
    intOption(values.concurrency, "--concurrency", 1, MAX_CHECKS_IN_FLIGHT) ?? DEFAULT_CONCURRENCY;
  const maxCredits = intOption(values["max-credits"], "--max-credits", 0, Number.MAX_SAFE_INTEGER);
  const givenFormat = values.format as OutputFormat | undefined;
  if (givenFormat !== undefined && givenFormat !== "jsonl" && givenFormat !== "csv")
    throw usageError("--format must be jsonl or csv.");
  const outFile = values.out === undefined ? undefined : path.resolve(String(values.out));
  if (values.resume && !outFile) throw usageError("--resume needs --out FILE (the previous run's output).");
  const usesStdinForPaths = positionals.includes("-");
  if (usesStdinForPaths && !io.stdin) throw usageError("`-` reads paths from stdin, but there is no stdin.");
  return {
    concurrency,
    maxCredits,
    givenFormat,
    outFile,
    resume: Boolean(values.resume),
    dryRun: values["dry-run"] === true,
    precheck: Boolean(values.precheck),
    yes: values.yes === true,
    usesStdinForPaths,
  };
}

/** Plan: every input once, its bytes hashed, finished ones skipped on --resume. */
async function planBatch(
  config: Config,
  positionals: readonly string[],
  values: BatchValues,
  options: BatchOptions,
  io: BatchIO,
): Promise<BatchPlan> {
  const inputs = await expandInputs(positionals, {
    recursive: values.recursive === true,
    readStdin: () => readAll(io.stdin as NodeJS.ReadableStream),
  });
  if (inputs.length === 0) throw usageError("No images found in the given paths.");
  const { done, format } = await readEarlierOutput(options);
  const summary = emptySummary(inputs.length, config.sandbox);
  const typedInput = typedInputResolver();
  /** The sha256 of what a check would upload; null when the check would refuse the file, so nothing of it shows. */
  const plannedSha256 = async (input: string) => {
    try {
      return (await loadTypedImage(await typedInput(input), config.allowHardlinks)).sha256;
    } catch {
      return null; // the check itself says why
    }
  };
  const planned: Planned[] = [];
  const firstWithSha = new Map<string, number>();
  for (const input of inputs) {
    const sha256 = await plannedSha256(input);
    if (sha256 && done.has(sha256)) {
      summary.resumedSkipped += 1;
      continue;
    }
    const first = sha256 ? firstWithSha.get(sha256) : undefined;
    if (sha256 && first === undefined) firstWithSha.set(sha256, planned.length);
    planned.push(first === undefined ? { input, sha256 } : { input, sha256, sameAs: first });
  }
  return { planned, format, summary, typedInput };
}

/** Rows go on in the format the earlier file is in; --resume also learns which inputs are done. */
async function readEarlierOutput(
  options: BatchOptions,
): Promise<{ done: ReadonlySet<string>; format: OutputFormat }> {
  const { outFile, givenFormat } = options;
  if (options.resume && outFile) {
    const resumed = await prepareResume(outFile, givenFormat);
    return { done: resumed.done, format: resumed.format ?? "jsonl" };
  }
  const format = outFile ? outputFormat(outFile, headOf(outFile), givenFormat) : givenFormat;
  return { done: new Set(), format: format ?? "jsonl" };
}

/** Inputs from one directory share its resolution: one realpath per directory, not per image. */
function typedInputResolver(): TypedInput {
  const realDirs = new Map<string, Promise<string>>();
  const realDir = (dir: string) => {
    let real = realDirs.get(dir);
    if (!real) {
      real = realpath(dir);
      realDirs.set(dir, real);
      real.catch(() => realDirs.delete(dir));
    }
    return real;
  };
  /** A typed path's own directory is the one it may be read from, as for a single check. */
  return (input: string) => typedImagePathWith(input, realDir);
}

async function batchAnalyzer(
  config: Config,
  options: BatchOptions,
  given: PrecheckAnalyzer | undefined,
): Promise<PrecheckAnalyzer | undefined> {
  if (!options.precheck || given) return given;
  const precheck = await import("../../precheck/index.js");
  const engine = config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : {};
  await precheck.assertPrecheckEngineInstalled(engine);
  return precheck.createPrecheckAnalyzer(engine);
}

/** Cost: one credit per distinct readable image; announced before anything is uploaded. Returns the credits. */
async function announceAndConfirm(
  config: Config,
  options: BatchOptions,
  plan: BatchPlan,
  budget: MinuteBudget,
  io: BatchIO,
): Promise<number> {
  const { planned, summary } = plan;
  const uploadable = planned.filter((p) => p.sha256 !== null && p.sameAs === undefined).length;
  const credits = Math.min(uploadable, options.maxCredits ?? uploadable);
  const paced = pacing(budget.readyIn(credits), config.maxChecksPerMinute);
  const fewer = options.precheck ? ", fewer if the pre-check skips some" : "";
  if (options.dryRun) {
    io.err(
      `Dry run: validating ${planned.length} inputs locally; nothing is uploaded and no credit is used. The real run uploads up to ${credits} images (${credits} credits${fewer})${paced}.\n`,
    );
  } else if (config.sandbox) {
    io.err(
      `Sandbox: ${planned.length} inputs, mocked results; nothing is uploaded and no credit is used${paced ? `. The run is paced as a real one would be${paced}` : ""}.\n`,
    );
  } else {
    io.err(
      `This run will upload up to ${credits} images to Didit: up to ${credits} checks (${credits} credits)${fewer}${
        summary.resumedSkipped > 0 ? `; ${summary.resumedSkipped} inputs already done are skipped` : ""
      }${paced}.\n`,
    );
    if (credits > CONFIRM_ABOVE_CREDITS) await confirmSpend(credits, options, io);
  }
  return credits;
}

/** Above the threshold a run asks on the terminal, unless --yes; with no terminal to ask it refuses. */
async function confirmSpend(credits: number, options: BatchOptions, io: BatchIO): Promise<void> {
  if (options.yes) return;
  const canAsk = io.stdin?.isTTY === true && io.stderrIsTTY === true && !options.usesStdinForPaths;
  if (!canAsk) {
    throw new ToolFailure(
      "consent_declined",
      `This run would spend ${credits} credits (more than ${CONFIRM_ABOVE_CREDITS}) and there is no terminal to ask; nothing was uploaded.`,
      "Add --yes to confirm the spend, --max-credits N to cap it, or --dry-run to validate the inputs for free.",
    );
  }
  io.err(`Spend up to ${credits} credits? [y/N] `);
  const answer = await readLine(io.stdin as NodeJS.ReadableStream);
  if (!/^\s*y(es)?\s*$/i.test(answer)) {
    throw new ToolFailure(
      "consent_declined",
      "Not confirmed; nothing was uploaded.",
      "Run again and answer y, or pass --yes.",
    );
  }
}

function batchClient(
  config: Config,
  options: BatchOptions,
  progress: BatchProgress,
  given: DiditClient | undefined,
): DiditClient | undefined {
  if (options.dryRun) return undefined;
  const client =
    given ?? selectLivenessClient(config, { backoff: shownBackoff(createSharedBackoff(), progress) });
  if (!client) {
    throw new ToolFailure(
      "not_configured",
      "No Didit API key is configured, so no check can be made; nothing was uploaded.",
      "Set DIDIT_API_KEY (from the Didit Business Console, API & Webhooks), or use --sandbox or --dry-run.",
    );
  }
  return client;
}

/** Output: appended and written with one system call per row, so a crash leaves only whole lines. */
function openOutput(outFile: string | undefined, format: OutputFormat, io: BatchIO): BatchOutput {
  const fd = outFile === undefined ? undefined : openSync(outFile, "a");
  const write = (text: string) => {
    if (fd === undefined) io.out(text);
    else writeSync(fd, text);
  };
  if (format === "csv" && (fd === undefined || fstatSync(fd).size === 0)) write(csvHeader());
  return {
    write,
    close: () => {
      if (fd !== undefined) closeSync(fd);
    },
  };
}

function createBatchProgress(
  io: BatchIO,
  clock: BatchClock,
  run: { started: number; total: number; budgetMs: () => number },
): BatchProgress {
  const progress = createProgress(io.err, { tty: io.stderrIsTTY === true });
  const state: ProgressState = {
    done: 0,
    total: run.total,
    approved: 0,
    declined: 0,
    failed: 0,
    credits: 0,
    elapsedMs: 0,
  };
  /** The longest wait in force, by this batch's clock. */
  const wait = { until: Number.NEGATIVE_INFINITY, reason: "" };
  const show = () => {
    const t = clock.now();
    state.elapsedMs = t - run.started;
    state.budgetMs = run.budgetMs();
    state.waiting = wait.until > t ? { reason: wait.reason, ms: wait.until - t } : undefined;
    progress.update(state);
  };
  return {
    state,
    show,
    showWait(reason, ms) {
      const t = clock.now();
      if (wait.until <= t || t + ms >= wait.until) Object.assign(wait, { until: t + ms, reason });
      show();
    },
    finish: () => progress.finish(),
  };
}

/** The client's shared 429 pause, shown as a wait like the budget's. */
function shownBackoff(backoff: SharedBackoff, progress: BatchProgress): SharedBackoff {
  return {
    get pauses() {
      return backoff.pauses;
    },
    pause(ms) {
      backoff.pause(ms);
      progress.showWait("Didit's rate limit (it answered 429 Too Many Requests)", ms);
    },
    ready: (signal) => backoff.ready(signal),
  };
}

/** A finished row counted: into the summary, the progress line and what the exit code will say. */
function recordRow(run: BatchRun, row: BatchRow): void {
  const { state } = run.progress;
  addToSummary(run.plan.summary, row);
  state.done += 1;
  if (row.result?.status === "Approved") state.approved += 1;
  else if (row.result?.status === "Declined") state.declined += 1;
  else if (!row.dry_run || row.error) state.failed += 1;
  if (row.uploaded && !run.config.sandbox) state.credits += 1;
  if (row.precheck || (row.error && ERROR_KINDS[row.error.code as ErrorCode] === "input"))
    run.tally.refusedLocally = true;
  else if (row.error && !(row.error.code === "cancelled" && run.force?.aborted)) run.tally.apiFailed = true;
  run.progress.show();
}

function reachedMaxCredits(run: BatchRun): boolean {
  return run.options.maxCredits !== undefined && run.tally.uploads >= run.options.maxCredits;
}

/** Runs the plan on a fixed number of workers; an input with the same bytes as an earlier one reuses its row. */
async function runPlan(run: BatchRun): Promise<void> {
  const { planned } = run.plan;
  const rows: Promise<BatchRow | undefined>[] = [];
  const settle: ((row: BatchRow | undefined) => void)[] = [];
  for (let i = 0; i < planned.length; i++) rows.push(new Promise((resolve) => settle.push(resolve)));
  const more = () => !run.stop.aborted && (run.options.dryRun || !reachedMaxCredits(run));
  const work = async (p: (typeof planned)[number], index: number) => {
    let row: BatchRow | undefined;
    if (p.sameAs !== undefined) {
      const first = await rows[p.sameAs];
      row = first ? { ...first, input: p.input, uploaded: false, elapsed_ms: 0 } : undefined;
    } else {
      row = await checkOne(run, p);
    }
    settle[index]?.(row);
    if (row) run.emit(row);
  };
  try {
    await runPool(planned, run.options.concurrency, more, work);
  } finally {
    for (const s of settle) s(undefined);
  }
}

/** Waits for the per-minute budget instead of failing: a batch is expected to pace itself, and says so. */
async function reserveBudget(run: BatchRun): Promise<void> {
  for (;;) {
    try {
      run.budget();
      return;
    } catch (error) {
      if (!(error instanceof ToolFailure) || error.code !== "rate_limited") throw error;
      const left = Math.max(1, run.budget.readyIn(1));
      run.progress.showWait(
        `the per-minute budget (DIDIT_MAX_CHECKS_PER_MINUTE=${run.config.maxChecksPerMinute})`,
        left,
      );
      await run.clock.sleep(Math.min(left, WAIT_TICK_MS), run.stop);
    }
  }
}

/** The pre-check's refusal of these bytes, as a row shows it; undefined when there is no pre-check or it passes. */
async function precheckSkip(run: BatchRun, bytes: Uint8Array): Promise<PrecheckSkip | undefined> {
  if (!run.analyzer) return undefined;
  const a = await run.analyzer.analyze(bytes, {
    rotate: run.request.rotate_image === true,
    signal: run.stop,
  });
  if (a.ready) return undefined;
  return {
    ready: false,
    next_action: "retake",
    warnings: a.warnings.map((w) => ({
      risk: w.risk,
      short_description: w.short_description,
      blocking: w.blocking,
    })),
    user_message: a.user_message,
  };
}

/** One input's row; undefined when it was not started (stopped, or the --max-credits cap reached). */
async function checkOne(run: BatchRun, p: Planned): Promise<BatchRow | undefined> {
  const t0 = run.clock.now();
  const row: RowStart = {
    base: { input: p.input, sha256: p.sha256 },
    elapsed: () => Math.round(run.clock.now() - t0),
  };
  let typed: { dir: string; file: string };
  try {
    typed = await run.plan.typedInput(p.input);
  } catch (error) {
    return failureRow(row, error, false);
  }
  return run.options.dryRun ? dryRunOne(run, typed, row) : uploadOne(run, typed, row);
}

/** What every row of one input starts from. */
interface RowStart {
  base: { input: string; sha256: string | null };
  elapsed: () => number;
}

function failureRow(row: RowStart, error: unknown, uploaded: boolean): BatchRow {
  const f = asToolFailure(error);
  return {
    ...row.base,
    ok: false,
    uploaded,
    error: { code: f.code, message: f.message, hint: f.hint },
    elapsed_ms: row.elapsed(),
  };
}

/** --dry-run: every local check and the pre-check, nothing uploaded. */
async function dryRunOne(
  run: BatchRun,
  typed: { dir: string; file: string },
  row: RowStart,
): Promise<BatchRow> {
  try {
    const { bytes, sha256 } = await loadTypedImage(typed, run.config.allowHardlinks);
    const skip = await precheckSkip(run, bytes);
    if (skip)
      return { ...row.base, sha256, ok: false, uploaded: false, precheck: skip, elapsed_ms: row.elapsed() };
    return { ...row.base, sha256, ok: true, uploaded: false, dry_run: true, elapsed_ms: row.elapsed() };
  } catch (error) {
    return failureRow(row, error, false);
  }
}

/**
 * Decides on the exact bytes about to be sent, after every local check (the last point to stop for free), whether
 * this upload goes: undefined to go ahead, or why it is held back.
 */
async function holdUpload(run: BatchRun, bytes: Uint8Array): Promise<UploadHeld<BatchHold> | undefined> {
  if (run.stop.aborted) return { held: "not_started" };
  const skip = await precheckSkip(run, bytes);
  if (skip) return { held: { precheck: skip } };
  await reserveBudget(run);
  if (run.stop.aborted || reachedMaxCredits(run)) return { held: "not_started" };
  run.tally.uploads += 1;
  return undefined;
}

async function uploadOne(
  run: BatchRun,
  typed: { dir: string; file: string },
  row: RowStart,
): Promise<BatchRow | undefined> {
  const upload = { started: false };
  let sha256 = row.base.sha256;
  try {
    const outcome = await runLivenessCheckOrHold<BatchHold>(
      {
        allowedDirs: async () => [typed.dir],
        allowHardlinks: run.config.allowHardlinks,
        client: run.client,
        sandbox: run.config.sandbox,
        inFlight: run.inFlight,
        confirmUpload: async (image) => {
          sha256 = sha256Hex(image.bytes);
          return holdUpload(run, image.bytes);
        },
      },
      { ...run.request, image_path: typed.file },
      { signal: run.force, upload },
    );
    if (!("held" in outcome))
      return {
        ...row.base,
        sha256,
        ok: true,
        uploaded: true,
        result: outcome.assessment,
        elapsed_ms: row.elapsed(),
      };
    if (outcome.held === "not_started") return undefined;
    return {
      ...row.base,
      sha256,
      ok: false,
      uploaded: false,
      precheck: outcome.held.precheck,
      elapsed_ms: row.elapsed(),
    };
  } catch (error) {
    if (run.stop.aborted && !upload.started) return undefined; // stopped while waiting: not started, not a failure
    return { ...failureRow(row, error, upload.started), sha256 };
  }
}

function finishSummary(run: BatchRun, started: number): BatchSummary {
  const { summary, planned } = run.plan;
  summary.notStarted = planned.length - summary.rows;
  summary.stoppedBy = run.stop.aborted
    ? "interrupt"
    : summary.notStarted > 0 && run.options.maxCredits !== undefined
      ? "max_credits"
      : undefined;
  summary.wallMs = run.clock.now() - started;
  return summary;
}

function batchExitCode(run: BatchRun): number {
  if (run.stop.aborted) return BATCH_EXIT.interrupted;
  if (run.tally.apiFailed) return BATCH_EXIT.apiFailure;
  if (run.tally.refusedLocally) return BATCH_EXIT.refusedLocally;
  return BATCH_EXIT.verdicts;
}
