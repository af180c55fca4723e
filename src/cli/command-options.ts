import { createHash } from "node:crypto";
import { realpath } from "node:fs/promises";
import path from "node:path";
import type { parseArgs } from "node:util";
import { type Config, loadCommandLineConfig } from "../config/config.js";
import { parseKnownOptions } from "../config/known-options.js";
import { ToolFailure } from "../core/errors.js";
import { thresholdProblem } from "../flows/liveness/threshold.js";
import { type LoadedImage, loadImage } from "../images/load-image.js";

// The option parsing every command shares. A leaf module: calibrate/run.ts cannot import cli/main.ts, whose usage text
// needs calibrate's at load time.

export function usageError(
  message: string,
  hint = "Run `didit-passive-liveness-mcp --help` for usage.",
): ToolFailure {
  return new ToolFailure("invalid_input", message, hint);
}

type CliOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

export function parse(argv: readonly string[], options: CliOptions) {
  try {
    return parseKnownOptions({ args: [...argv], options, strict: true, allowPositionals: true });
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
export function typedImagePath(typed: string): Promise<{ dir: string; file: string }> {
  return typedImagePathWith(typed, realpath);
}

/** typedImagePath with the directory resolution given: a batch resolves each directory once. */
export async function typedImagePathWith(
  typed: string,
  realDir: (dir: string) => Promise<string>,
): Promise<{ dir: string; file: string }> {
  const absolute = path.resolve(typed);
  const dir = await realDir(path.dirname(absolute)).catch(() => {
    throw new ToolFailure(
      "file_not_found",
      `No such directory: ${path.dirname(absolute)}.`,
      "Check the image path.",
    );
  });
  return { dir, file: path.join(dir, path.basename(absolute)) };
}

/** A typed path's image as its check would read it (nothing else of the file is looked at), with its sha256. */
export async function loadTypedImage(
  typed: { dir: string; file: string },
  allowHardlinks: boolean,
): Promise<LoadedImage & { sha256: string }> {
  const image = await loadImage({ image_path: typed.file }, { allowedDirs: [typed.dir], allowHardlinks });
  return { ...image, sha256: sha256Hex(image.bytes) };
}

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** The option every command that reads image files takes, as the server does (`--allow-hardlinks`). */
export const IMAGE_FILE_OPTIONS = { "allow-hardlinks": { type: "boolean" } } as const;

/**
 * A command's Config: env plus its own flags. The server's allowed directories do not apply to a command (each typed
 * path's own directory does), so a stale DIDIT_ALLOWED_DIRS cannot break it.
 */
export function loadCommandConfig(
  env: NodeJS.ProcessEnv,
  flags: { sandbox?: unknown; "allow-hardlinks"?: unknown },
): Promise<Config> {
  return loadCommandLineConfig(
    { allowDirs: [], sandbox: flags.sandbox === true, allowHardlinks: flags["allow-hardlinks"] === true },
    env,
  );
}
