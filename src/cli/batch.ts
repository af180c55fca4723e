import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config.js";
import type { DiditClient } from "../didit/client.js";
import { createSharedBackoff, type SharedBackoff } from "../didit/shared-backoff.js";
import { asToolFailure, ERROR_KINDS, type ErrorCode, ToolFailure } from "../errors.js";
import { createInFlightLimit, MAX_CHECKS_IN_FLIGHT } from "../in-flight.js";
import { type LivenessCheckRequest, runLivenessCheck } from "../liveness/check.js";
import { selectLivenessClient } from "../liveness/select-client.js";
import type { PrecheckAnalyzer } from "../precheck/index.js";
import { createCheckBudget } from "../rate-guard.js";
import { createRedactor } from "../redact.js";
import { expandInputs } from "./batch-inputs.js";
import type { BatchValues } from "./batch-options.js";
import {
  addToSummary,
  type BatchRow,
  csvHeader,
  emptySummary,
  formatRow,
  type OutputFormat,
  outputFormat,
  type PrecheckSkip,
  prepareResume,
  renderSummary,
} from "./batch-output.js";
import { loadTypedImage, sha256Hex, typedImagePathWith, usageError } from "./command-options.js";
import { createProgress, formatDuration, type ProgressState } from "./progress.js";
import { runPool } from "./worker-pool.js";

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
  const concurrency =
    intOption(values.concurrency, "--concurrency", 1, MAX_CHECKS_IN_FLIGHT) ?? DEFAULT_CONCURRENCY;
  const maxCredits = intOption(values["max-credits"], "--max-credits", 0, Number.MAX_SAFE_INTEGER);
  const givenFormat = values.format as OutputFormat | undefined;
  if (givenFormat !== undefined && givenFormat !== "jsonl" && givenFormat !== "csv")
    throw usageError("--format must be jsonl or csv.");
  const outFile = values.out === undefined ? undefined : path.resolve(String(values.out));
  if (values.resume && !outFile) throw usageError("--resume needs --out FILE (the previous run's output).");
  const dryRun = values["dry-run"] === true;
  const usesStdinForPaths = positionals.includes("-");
  if (usesStdinForPaths && !io.stdin) throw usageError("`-` reads paths from stdin, but there is no stdin.");
  const redact = createRedactor([config.apiKey, io.env.DIDIT_API_KEY]);

  // Plan: every input once, its bytes hashed, finished ones skipped on --resume.
  const inputs = await expandInputs(positionals, {
    recursive: values.recursive === true,
    readStdin: () => readAll(io.stdin as NodeJS.ReadableStream),
  });
  if (inputs.length === 0) throw usageError("No images found in the given paths.");
  // Rows go on in the format the earlier file is in; --resume also learns which inputs are done.
  let done = new Set<string>();
  let fileFormat = givenFormat;
  if (values.resume && outFile) ({ done, format: fileFormat } = await prepareResume(outFile, givenFormat));
  else if (outFile) fileFormat = outputFormat(outFile, headOf(outFile), givenFormat);
  const format = fileFormat ?? "jsonl";
  const summary = emptySummary(inputs.length, config.sandbox);

  // Inputs from one directory share its resolution: one realpath per directory, not per image.
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
  const typedInput = (input: string) => typedImagePathWith(input, realDir);
  /** The sha256 of what a check would upload; null when the check would refuse the file, so nothing of it shows. */
  const plannedSha256 = async (input: string) => {
    try {
      return (await loadTypedImage(await typedInput(input), config.allowHardlinks)).sha256;
    } catch {
      return null; // the check itself says why
    }
  };

  const plan: Planned[] = [];
  const firstWithSha = new Map<string, number>();
  for (const input of inputs) {
    const sha256 = await plannedSha256(input);
    if (sha256 && done.has(sha256)) {
      summary.resumedSkipped += 1;
      continue;
    }
    const first = sha256 ? firstWithSha.get(sha256) : undefined;
    if (sha256 && first === undefined) firstWithSha.set(sha256, plan.length);
    plan.push(first === undefined ? { input, sha256 } : { input, sha256, sameAs: first });
  }

  let analyzer = deps.analyzer;
  if (values.precheck && !analyzer) {
    const precheck = await import("../precheck/index.js");
    const engine = config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : {};
    await precheck.assertPrecheckEngineInstalled(engine);
    analyzer = precheck.createPrecheckAnalyzer(engine);
  }

  // Cost: one credit per distinct readable image; announced before anything is uploaded.
  const uploadable = plan.filter((p) => p.sha256 !== null && p.sameAs === undefined).length;
  const credits = Math.min(uploadable, maxCredits ?? uploadable);
  const perMinute = config.maxChecksPerMinute;
  const budget = createCheckBudget(perMinute, clock.now);
  const paced = pacing(budget.readyIn(credits), perMinute);
  const fewer = values.precheck ? ", fewer if the pre-check skips some" : "";
  if (dryRun) {
    io.err(
      `Dry run: validating ${plan.length} inputs locally; nothing is uploaded and no credit is used. The real run uploads up to ${credits} images (${credits} credits${fewer})${paced}.\n`,
    );
  } else if (config.sandbox) {
    io.err(
      `Sandbox: ${plan.length} inputs, mocked results; nothing is uploaded and no credit is used${paced ? `. The run is paced as a real one would be${paced}` : ""}.\n`,
    );
  } else {
    io.err(
      `This run will upload up to ${credits} images to Didit: up to ${credits} checks (${credits} credits)${fewer}${
        summary.resumedSkipped > 0 ? `; ${summary.resumedSkipped} inputs already done are skipped` : ""
      }${paced}.\n`,
    );
    if (credits > CONFIRM_ABOVE_CREDITS && values.yes !== true) {
      const canAsk = io.stdin?.isTTY === true && io.stderrIsTTY === true && !usesStdinForPaths;
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
  }

  const client = dryRun
    ? undefined
    : (deps.client ?? selectLivenessClient(config, { backoff: shownBackoff(createSharedBackoff()) }));
  if (!dryRun && !client) {
    throw new ToolFailure(
      "not_configured",
      "No Didit API key is configured, so no check can be made; nothing was uploaded.",
      "Set DIDIT_API_KEY (from the Didit Business Console, API & Webhooks), or use --sandbox or --dry-run.",
    );
  }

  // Output: appended and written with one system call per row, so a crash leaves only whole lines.
  let fd: number | undefined;
  const write = (text: string) => {
    if (fd === undefined) io.out(text);
    else writeSync(fd, text);
  };
  if (outFile) {
    fd = openSync(outFile, "a");
    if (format === "csv" && fstatSync(fd).size === 0) write(csvHeader());
  } else if (format === "csv") {
    write(csvHeader());
  }

  const stop = io.signal ?? new AbortController().signal;
  const force = io.forceSignal;
  const progress = createProgress(io.err, { tty: io.stderrIsTTY === true });
  const state: ProgressState = {
    done: 0,
    total: plan.length,
    approved: 0,
    declined: 0,
    failed: 0,
    credits: 0,
    elapsedMs: 0,
  };
  const inFlight = createInFlightLimit(MAX_CHECKS_IN_FLIGHT);
  const rows: Promise<BatchRow | undefined>[] = [];
  const settle: ((row: BatchRow | undefined) => void)[] = [];
  for (let i = 0; i < plan.length; i++) rows.push(new Promise((resolve) => settle.push(resolve)));
  let uploads = 0;
  let refusedLocally = false;
  let apiFailed = false;

  /** The longest wait in force, by this batch's clock. */
  const wait = { until: Number.NEGATIVE_INFINITY, reason: "" };
  const showProgress = () => {
    const t = clock.now();
    state.elapsedMs = t - started;
    state.budgetMs = dryRun ? 0 : budget.readyIn(Math.max(0, credits - uploads));
    state.waiting = wait.until > t ? { reason: wait.reason, ms: wait.until - t } : undefined;
    progress.update(state);
  };
  function showWait(reason: string, ms: number) {
    const t = clock.now();
    if (wait.until <= t || t + ms >= wait.until) Object.assign(wait, { until: t + ms, reason });
    showProgress();
  }
  /** The client's shared 429 pause, shown as a wait like the budget's. */
  function shownBackoff(backoff: SharedBackoff): SharedBackoff {
    return {
      get pauses() {
        return backoff.pauses;
      },
      pause(ms) {
        backoff.pause(ms);
        showWait("Didit's rate limit (it answered 429 Too Many Requests)", ms);
      },
      ready: (signal) => backoff.ready(signal),
    };
  }

  const emit = (row: BatchRow) => {
    write(redact(formatRow(row, format)));
    addToSummary(summary, row);
    state.done += 1;
    if (row.result?.status === "Approved") state.approved += 1;
    else if (row.result?.status === "Declined") state.declined += 1;
    else if (!row.dry_run || row.error) state.failed += 1;
    if (row.uploaded && !config.sandbox) state.credits += 1;
    if (row.precheck || (row.error && ERROR_KINDS[row.error.code as ErrorCode] === "input"))
      refusedLocally = true;
    else if (row.error && !(row.error.code === "cancelled" && force?.aborted)) apiFailed = true;
    showProgress();
  };

  /** Waits for the per-minute budget instead of failing: a batch is expected to pace itself, and says so. */
  const reserveBudget = async () => {
    for (;;) {
      try {
        budget();
        return;
      } catch (error) {
        if (!(error instanceof ToolFailure) || error.code !== "rate_limited") throw error;
        const left = Math.max(1, budget.readyIn(1));
        showWait(`the per-minute budget (DIDIT_MAX_CHECKS_PER_MINUTE=${perMinute})`, left);
        await clock.sleep(Math.min(left, WAIT_TICK_MS), stop);
      }
    }
  };

  const checkOne = async (p: Planned): Promise<BatchRow | undefined> => {
    const t0 = clock.now();
    const base = { input: p.input, sha256: p.sha256 };
    const elapsed = () => Math.round(clock.now() - t0);
    const failure = (error: unknown, uploaded: boolean): BatchRow => {
      const f = asToolFailure(error);
      return {
        ...base,
        ok: false,
        uploaded,
        error: { code: f.code, message: f.message, hint: f.hint },
        elapsed_ms: elapsed(),
      };
    };
    let typed: { dir: string; file: string };
    try {
      typed = await typedInput(p.input);
    } catch (error) {
      return failure(error, false);
    }
    const { dir, file: imagePath } = typed;
    const skipped: { precheck?: PrecheckSkip; notStarted?: boolean } = {};
    const precheckOf = async (bytes: Uint8Array): Promise<PrecheckSkip | undefined> => {
      if (!analyzer) return undefined;
      const a = await analyzer.analyze(bytes, { rotate: request.rotate_image === true, signal: stop });
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
    };

    if (dryRun) {
      try {
        const { bytes, sha256 } = await loadTypedImage(typed, config.allowHardlinks);
        const skip = await precheckOf(bytes);
        if (skip)
          return { ...base, sha256, ok: false, uploaded: false, precheck: skip, elapsed_ms: elapsed() };
        return { ...base, sha256, ok: true, uploaded: false, dry_run: true, elapsed_ms: elapsed() };
      } catch (error) {
        return failure(error, false);
      }
    }

    const upload = { started: false };
    let sha256 = p.sha256;
    try {
      const result = await runLivenessCheck(
        {
          allowedDirs: async () => [dir],
          allowHardlinks: config.allowHardlinks,
          client,
          sandbox: config.sandbox,
          inFlight,
          // Runs on the exact bytes about to be sent, after every local check: the last point to stop for free.
          confirmUpload: async (image) => {
            sha256 = sha256Hex(image.bytes);
            if (stop.aborted) {
              skipped.notStarted = true;
              throw new Error("stopped before upload");
            }
            const skip = await precheckOf(image.bytes);
            if (skip) {
              skipped.precheck = skip;
              throw new Error("pre-check: not ready");
            }
            await reserveBudget();
            if (stop.aborted || (maxCredits !== undefined && uploads >= maxCredits)) {
              skipped.notStarted = true;
              throw new Error("stopped before upload");
            }
            uploads += 1;
          },
        },
        { ...request, image_path: imagePath },
        { signal: force, upload },
      );
      return { ...base, sha256, ok: true, uploaded: true, result, elapsed_ms: elapsed() };
    } catch (error) {
      if (skipped.notStarted) return undefined;
      if (skipped.precheck)
        return {
          ...base,
          sha256,
          ok: false,
          uploaded: false,
          precheck: skipped.precheck,
          elapsed_ms: elapsed(),
        };
      if (stop.aborted && !upload.started) return undefined; // stopped while waiting: not started, not a failure
      return { ...failure(error, upload.started), sha256 };
    }
  };

  const more = () => !stop.aborted && (dryRun || maxCredits === undefined || uploads < maxCredits);
  const work = async (p: (typeof plan)[number], index: number) => {
    let row: BatchRow | undefined;
    if (p.sameAs !== undefined) {
      const first = await rows[p.sameAs];
      row = first ? { ...first, input: p.input, uploaded: false, elapsed_ms: 0 } : undefined;
    } else {
      row = await checkOne(p);
    }
    settle[index]?.(row);
    if (row) emit(row);
  };

  try {
    await runPool(plan, concurrency, more, work);
  } finally {
    for (const s of settle) s(undefined);
    progress.finish();
    if (fd !== undefined) closeSync(fd);
    if (!deps.client) await client?.close();
  }
  summary.notStarted = plan.length - summary.rows;
  summary.stoppedBy = stop.aborted
    ? "interrupt"
    : summary.notStarted > 0 && maxCredits !== undefined
      ? "max_credits"
      : undefined;
  summary.wallMs = clock.now() - started;
  io.err(renderSummary(summary));
  if (stop.aborted) return BATCH_EXIT.interrupted;
  if (apiFailed) return BATCH_EXIT.apiFailure;
  if (refusedLocally) return BATCH_EXIT.refusedLocally;
  return BATCH_EXIT.verdicts;
}
