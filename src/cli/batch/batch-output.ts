import { readFile, rename, writeFile } from "node:fs/promises";
import { type Options as CsvReadOptions, parse } from "csv-parse/sync";
import { type Options as CsvWriteOptions, stringify } from "csv-stringify/sync";
import type { LivenessAssessment } from "../../flows/liveness/result.js";
import { usageError } from "../command-options.js";

/** The pre-check's findings on an input it marked not ready (`--precheck`): nothing was uploaded. */
export interface PrecheckSkip {
  ready: false;
  next_action: "retake";
  warnings: { risk: string; short_description: string; blocking: boolean }[];
  user_message: string;
}

/** One input's line of batch output. `ok` is true when Didit gave a verdict (Approved or Declined). */
export interface BatchRow {
  input: string;
  sha256: string | null;
  ok: boolean;
  /** True once the image was handed to Didit (the check may be billed even if it then failed). */
  uploaded: boolean;
  result?: LivenessAssessment;
  error?: { code: string; message: string; hint: string };
  precheck?: PrecheckSkip;
  /** The input was validated only (`--dry-run`): nothing was uploaded. */
  dry_run?: true;
  elapsed_ms: number;
}

export type OutputFormat = "jsonl" | "csv";

export const CSV_COLUMNS = [
  "input",
  "sha256",
  "status",
  "next_action",
  "score",
  "warnings",
  "error_code",
  "request_id",
] as const;

/** A row's status word: the verdict, or why there is none. */
export function rowStatus(row: BatchRow): string {
  if (row.result) return row.result.status;
  if (row.precheck) return "skipped";
  if (row.dry_run) return "valid";
  return "error";
}

/** What makes a spreadsheet run a cell as a formula (OWASP CSV injection): its first character. */
const FORMULA_START = /^[=+\-@\t\r]/;
/** The mark a neutralised cell starts with; a value that starts with it gets one more, so each reads back exactly. */
const TEXT_MARK = "'";

/** RFC 4180 quoting by csv-stringify; a neutralised cell, a bare CR and edge whitespace are quoted as well. */
const CSV_WRITE: CsvWriteOptions = { record_delimiter: "\n", quoted_match: [/^'/, /\r/, /^\s|\s$/] };

/** A value a spreadsheet would run as a formula (a file named `=2*21.jpg`, upstream text starting `@`) gets a `'`. */
function neutralise(value: string): string {
  return FORMULA_START.test(value) || value.startsWith(TEXT_MARK) ? `${TEXT_MARK}${value}` : value;
}

/** One line of every CSV the project writes, each cell neutralised the OWASP way and quoted. */
export function csvLine(values: readonly string[]): string {
  return stringify([values.map(neutralise)], CSV_WRITE);
}

/** One cell of every CSV the project writes, as csvLine writes it. */
export function csvField(value: string): string {
  return csvLine([value]).slice(0, -1);
}

/** A cell's value as csvField was given it: the neutralising mark taken off. */
function csvValue(cell: string): string {
  return cell.startsWith(TEXT_MARK) ? cell.slice(TEXT_MARK.length) : cell;
}

/**
 * The one CSV reader (csv-parse): batch output for --resume, calibrate's manifest. Any line break ends a record,
 * records may differ in length, and a malformed one is skipped, not fatal (a hand-edited or cut file).
 */
export function readCsv(text: string, options: CsvReadOptions = {}): { record: string[]; line: number }[] {
  const rows = parse(text, {
    record_delimiter: ["\r\n", "\n", "\r"],
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    ...options,
    info: true,
  }) as unknown as { record: string[]; info: { lines: number } }[];
  return rows.map(({ record, info }) => ({ record, line: info.lines }));
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(",")}\n`;
}

export function formatRow(row: BatchRow, format: OutputFormat): string {
  if (format === "jsonl") return `${JSON.stringify(row)}\n`;
  const r = row.result;
  const warnings = r ? r.warnings.map((w) => w.risk) : (row.precheck?.warnings.map((w) => w.risk) ?? []);
  const cells = [
    row.input,
    row.sha256 ?? "",
    rowStatus(row),
    r?.next_action ?? row.precheck?.next_action ?? "",
    r?.score === null || r?.score === undefined ? "" : String(r.score),
    warnings.join(" "),
    row.error?.code ?? "",
    r?.request_id ?? "",
  ];
  return csvLine(cells);
}

/** Parses CSV text as csvLine writes it into records of fields, neutralised cells read back. */
export function parseCsv(text: string): string[][] {
  return readCsv(text).map(({ record }) => record.map(csvValue));
}

/** A finished row: Didit gave a verdict. Failed, skipped and dry-run rows are redone on --resume. */
const FINISHED_STATUSES = new Set(["Approved", "Declined"]);

const FORMAT_NAMES: Record<OutputFormat, string> = { jsonl: "JSONL", csv: "CSV" };

/** An earlier output file's format, from its first line: this project's CSV header, or a JSON object. */
export function detectFormat(text: string): OutputFormat | undefined {
  const first = text.split(/\r?\n/).find((line) => line.trim() !== "") ?? "";
  if (first === CSV_COLUMNS.join(",")) return "csv";
  if (first.trimStart().startsWith("{")) return "jsonl";
  return undefined;
}

/**
 * The format rows are added to an earlier output file in: the file's own, so a forgotten --format never mixes two
 * in one file; a --format the file is not in is refused. Nothing is read or written before this answers.
 */
export function outputFormat(
  file: string,
  text: string,
  given: OutputFormat | undefined,
): OutputFormat | undefined {
  const found = detectFormat(text);
  if (found && given && found !== given) {
    throw usageError(
      `${file} holds ${FORMAT_NAMES[found]} rows, but --format ${given} was given; run again without --format (the file's format is used) or with --format ${found}, or pick another --out.`,
    );
  }
  return found ?? given;
}

/**
 * Reads a previous run's output for --resume: the sha256 of every finished input, and the file's format. The file is
 * then rewritten (atomically) with only those rows, one per input, so the inputs redone now are not listed twice; a
 * line cut short by a crash is dropped the same way. A non-empty file with no row this reads is refused, never
 * replaced: it is not this command's output (or not in this format), and nothing was uploaded yet.
 */
export async function prepareResume(
  file: string,
  given: OutputFormat | undefined,
): Promise<{ done: Set<string>; format: OutputFormat | undefined }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { done: new Set(), format: given };
    throw error;
  }
  const format = outputFormat(file, text, given) ?? "jsonl";
  const done = new Set<string>();
  // One row per input: identical files under two names each keep theirs.
  const keptInputs = new Set<string>();
  const keep = (sha: string, input: string) => {
    const key = `${sha}\u0000${input}`;
    if (keptInputs.has(key)) return false;
    keptInputs.add(key);
    done.add(sha);
    return true;
  };
  const kept: string[] = [];
  let readable = 0;
  // Only complete lines count: the last one may have been cut off mid-write.
  const complete = text.endsWith("\n") ? text : text.slice(0, text.lastIndexOf("\n") + 1);
  if (format === "jsonl") {
    for (const line of complete.split("\n")) {
      if (!line.trim()) continue;
      let row: Partial<BatchRow>;
      try {
        row = JSON.parse(line) as Partial<BatchRow>;
      } catch {
        continue;
      }
      if (row === null || typeof row !== "object" || typeof row.input !== "string") continue;
      readable += 1;
      if (row.ok === true && row.result && typeof row.sha256 === "string" && keep(row.sha256, row.input)) {
        kept.push(`${line}\n`);
      }
    }
  } else {
    const records = parseCsv(complete);
    if (records[0]?.join(",") === CSV_COLUMNS.join(",")) {
      records.shift();
      readable += 1;
    }
    kept.push(csvHeader());
    for (const record of records) {
      if (record.length !== CSV_COLUMNS.length) continue;
      readable += 1;
      const [input = "", sha, status] = record;
      if (sha && status && FINISHED_STATUSES.has(status) && keep(sha, input)) {
        kept.push(csvLine(record));
      }
    }
  }
  if (readable === 0 && text.trim() !== "") {
    throw usageError(
      `${file} is not empty but has no ${FORMAT_NAMES[format]} row of a batch run, so --resume left it as it is and uploaded nothing.`,
      "Pass the previous run's output as --out (and its --format), or move this file away.",
    );
  }
  const next = kept.join("");
  if (next !== text) {
    const temp = `${file}.resume-${process.pid}.tmp`;
    await writeFile(temp, next);
    await rename(temp, file);
  }
  return { done, format };
}

/** Counts for the end-of-run summary. */
export interface BatchSummary {
  total: number;
  rows: number;
  notStarted: number;
  resumedSkipped: number;
  byStatus: Record<string, number>;
  byNextAction: Record<string, number>;
  byWarning: Record<string, number>;
  byError: Record<string, number>;
  credits: number;
  wallMs: number;
  sandbox: boolean;
  stoppedBy?: "interrupt" | "max_credits" | undefined;
}

export function emptySummary(total: number, sandbox: boolean): BatchSummary {
  return {
    total,
    rows: 0,
    notStarted: 0,
    resumedSkipped: 0,
    byStatus: {},
    byNextAction: {},
    byWarning: {},
    byError: {},
    credits: 0,
    wallMs: 0,
    sandbox,
  };
}

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

export function addToSummary(summary: BatchSummary, row: BatchRow): void {
  summary.rows += 1;
  bump(summary.byStatus, rowStatus(row));
  const nextAction = row.result?.next_action ?? row.precheck?.next_action;
  if (nextAction) bump(summary.byNextAction, nextAction);
  for (const w of row.result?.warnings ?? row.precheck?.warnings ?? []) bump(summary.byWarning, w.risk);
  if (row.error) bump(summary.byError, row.error.code);
  if (row.uploaded) summary.credits += 1;
}

export function renderSummary(s: BatchSummary): string {
  const list = (counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return entries.length === 0 ? "none" : entries.map(([k, n]) => `${k} ${n}`).join(", ");
  };
  const lines = [
    `Batch summary: ${s.rows} of ${s.total} inputs checked in ${(s.wallMs / 1000).toFixed(1)} s${
      s.resumedSkipped > 0 ? ` (${s.resumedSkipped} already done, skipped by --resume)` : ""
    }`,
    `  status: ${list(s.byStatus)}`,
    `  next_action: ${list(s.byNextAction)}`,
    `  warnings: ${list(s.byWarning)}`,
    `  errors: ${list(s.byError)}`,
    `  credits used: ${s.sandbox ? "0 (sandbox)" : `${s.credits}`}`,
  ];
  if (s.stoppedBy === "interrupt") {
    lines.push(`  interrupted: ${s.notStarted} inputs not started; run again with --resume to finish them`);
  } else if (s.stoppedBy === "max_credits") {
    lines.push(`  stopped at --max-credits: ${s.notStarted} inputs not started; --resume continues`);
  }
  return `${lines.join("\n")}\n`;
}
