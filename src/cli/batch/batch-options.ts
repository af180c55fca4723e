import { stat } from "node:fs/promises";

// What decides batch mode, apart from the batch itself: the CLI entry (imported by the server for its usage text)
// loads none of the batch code until a batch runs.

/** The options only batch mode has; `check` parses them with its own. */
export const BATCH_OPTIONS = {
  concurrency: { type: "string" },
  out: { type: "string" },
  format: { type: "string" },
  resume: { type: "boolean" },
  "dry-run": { type: "boolean" },
  yes: { type: "boolean" },
  precheck: { type: "boolean" },
  "max-credits": { type: "string" },
  recursive: { type: "boolean" },
} as const;

export type BatchValues = { [K in keyof typeof BATCH_OPTIONS]?: string | boolean | undefined };

/** Several inputs, a directory, a glob, `-`, or any batch-only option: batch mode. One plain file keeps today's output. */
export async function wantsBatch(positionals: readonly string[], values: BatchValues): Promise<boolean> {
  if (positionals.length !== 1) return positionals.length > 1;
  if (Object.keys(BATCH_OPTIONS).some((k) => values[k as keyof BatchValues] !== undefined)) return true;
  const [only = ""] = positionals;
  if (only === "-") return true;
  if (/^https?:\/\//i.test(only)) return false; // a URL's query may hold a `?`: it is one image, not a glob
  const s = await stat(only).catch(() => undefined);
  return s ? s.isDirectory() : /[*?]/.test(only);
}
