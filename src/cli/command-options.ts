import { realpath } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { ToolFailure } from "../errors.js";
import { thresholdProblem } from "../liveness/threshold.js";

// The option parsing every command shares. A leaf module: calibrate/run.ts cannot import cli.ts, whose usage text
// needs calibrate's at load time.

export function usageError(message: string): ToolFailure {
  return new ToolFailure("invalid_input", message, "Run `didit-passive-liveness-mcp --help` for usage.");
}

type CliOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

export function parse(argv: readonly string[], options: CliOptions) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

/** A decline threshold option, under the tools' rule (0-100, plain decimal); undefined when it was not given. */
export function scoreOption(raw: unknown, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const problem = thresholdProblem(n);
  if (problem !== undefined) throw usageError(`${flag} ${problem}`);
  return n;
}

export function parseMetadata(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError("--metadata must be valid JSON.");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw usageError('--metadata must be a JSON object, e.g. \'{"flow":"signup"}\'.');
  }
  return value as Record<string, unknown>;
}

/** --rotate, --no-save, --vendor-data and --metadata as the Didit request fields of check, match and verify. */
export function diditRequestOptions(values: {
  rotate?: unknown;
  "no-save"?: unknown;
  "vendor-data"?: unknown;
  metadata?: unknown;
}) {
  return {
    rotate_image: values.rotate === true ? true : undefined,
    save_api_request: values["no-save"] === true ? false : undefined,
    vendor_data: values["vendor-data"] as string | undefined,
    metadata: values.metadata === undefined ? undefined : parseMetadata(String(values.metadata)),
  };
}

/** A person typed this path, so its own directory is the allowed one; every other file rule still applies. */
export async function typedImagePath(typed: string): Promise<{ dir: string; file: string }> {
  const absolute = path.resolve(typed);
  const dir = await realpath(path.dirname(absolute)).catch(() => {
    throw new ToolFailure(
      "file_not_found",
      `No such directory: ${path.dirname(absolute)}.`,
      "Check the image path.",
    );
  });
  return { dir, file: path.join(dir, path.basename(absolute)) };
}
