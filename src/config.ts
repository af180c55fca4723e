import { realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { createUrlPolicy, splitHostList } from "./images/url-policy.js";
import { SPOOF_MODEL_FILES } from "./precheck/loader.js";

export const DEFAULT_BASE_URL = "https://verification.didit.me";
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** Everything the server needs to know about its environment, validated once and frozen. */
export interface Config {
  /** Didit API key; absent means checks fail with not_configured, but the server still starts. */
  readonly apiKey: string | undefined;
  /** API origin without a trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Real paths of the directories image_path may read from, in the order given. */
  readonly allowedDirs: readonly string[];
  readonly maxChecksPerMinute: number;
  readonly confirmUploads: boolean;
  /** Offline mocked responder instead of Didit; only ever enabled explicitly. */
  readonly sandbox: boolean;
  /** Where the pre-check's MiniFASNet model files are, when not in the package's own models/minifasnet. */
  readonly precheckModelsDir: string | undefined;
  /** Read image files that have more than one hard link (a link may be outside the allowed dirs); off by default. */
  readonly allowHardlinks: boolean;
  /** Hosts (names, IPs, CIDRs) image_url may also reach over http: and at private or loopback addresses. */
  readonly allowedUrlHosts: readonly string[];
  /** Only the allowedUrlHosts may be fetched at all. */
  readonly urlAllowOnly: boolean;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const envSchema = z.object({
  DIDIT_API_KEY: z
    .string()
    .transform((v) => v.trim())
    .optional(),
  DIDIT_BASE_URL: z
    .url({
      protocol: /^https?$/,
      error: "DIDIT_BASE_URL must be an http(s) URL such as https://verification.didit.me",
    })
    .optional(),
  DIDIT_TIMEOUT_MS: z.coerce
    .number({ error: "DIDIT_TIMEOUT_MS must be a number of milliseconds" })
    .int("DIDIT_TIMEOUT_MS must be a whole number of milliseconds")
    .min(1000, "DIDIT_TIMEOUT_MS must be at least 1000 (1 s)")
    .max(300_000, "DIDIT_TIMEOUT_MS must be at most 300000 (5 min)")
    .optional(),
  DIDIT_ALLOWED_DIRS: z.string().optional(),
  DIDIT_MAX_CHECKS_PER_MINUTE: z.coerce
    .number({ error: "DIDIT_MAX_CHECKS_PER_MINUTE must be a number" })
    .int("DIDIT_MAX_CHECKS_PER_MINUTE must be a whole number")
    .min(1, "DIDIT_MAX_CHECKS_PER_MINUTE must be at least 1")
    .max(10_000, "DIDIT_MAX_CHECKS_PER_MINUTE must be at most 10000")
    .optional(),
  DIDIT_CONFIRM_UPLOADS: booleanFlag.optional(),
  DIDIT_SANDBOX: booleanFlag.optional(),
  DIDIT_PRECHECK_MODELS_DIR: z.string().optional(),
  DIDIT_ALLOW_HARDLINKS: booleanFlag.optional(),
  DIDIT_ALLOWED_URL_HOSTS: z.string().optional(),
  DIDIT_URL_ALLOW_ONLY: booleanFlag.optional(),
});

export interface ServerArgs {
  allowDirs: string[];
  sandbox: boolean;
  allowHardlinks: boolean;
  allowUrlHosts: string[];
  help: boolean;
  version: boolean;
}

/** Parses the server's own flags; unknown flags are an error so a typo never silently widens access. */
export function parseServerArgs(argv: readonly string[]): ServerArgs {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        "allow-dir": { type: "string", multiple: true },
        sandbox: { type: "boolean" },
        "allow-hardlinks": { type: "boolean" },
        "allow-url-host": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      strict: true,
      allowPositionals: false,
    });
    return {
      allowDirs: values["allow-dir"] ?? [],
      sandbox: values.sandbox ?? false,
      allowHardlinks: values["allow-hardlinks"] ?? false,
      allowUrlHosts: values["allow-url-host"] ?? [],
      help: values.help ?? false,
      version: values.version ?? false,
    };
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

/** Reads env and flags into one frozen Config. The only place in the project that reads the environment. */
export async function loadConfig(
  args: Pick<ServerArgs, "allowDirs" | "sandbox"> &
    Partial<Pick<ServerArgs, "allowHardlinks" | "allowUrlHosts">>,
  env: NodeJS.ProcessEnv,
): Promise<Config> {
  const parsed = envSchema.safeParse(pickDiditEnv(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => i.message).join("; "));
  }
  const e = parsed.data;
  const fromEnv = (e.DIDIT_ALLOWED_DIRS ?? "").split(path.delimiter).filter((d) => d.trim() !== "");
  const allowedDirs = await resolveAllowedDirs([...args.allowDirs, ...fromEnv]);
  const allowedUrlHosts = splitHostList([...(args.allowUrlHosts ?? []), e.DIDIT_ALLOWED_URL_HOSTS ?? ""]);
  try {
    createUrlPolicy(allowedUrlHosts);
  } catch (error) {
    throw new ConfigError(`--allow-url-host / DIDIT_ALLOWED_URL_HOSTS: ${(error as Error).message}`);
  }
  return Object.freeze({
    apiKey: e.DIDIT_API_KEY === "" ? undefined : e.DIDIT_API_KEY,
    baseUrl: (e.DIDIT_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, ""),
    timeoutMs: e.DIDIT_TIMEOUT_MS ?? 30_000,
    allowedDirs: Object.freeze(allowedDirs),
    maxChecksPerMinute: e.DIDIT_MAX_CHECKS_PER_MINUTE ?? 30,
    confirmUploads: e.DIDIT_CONFIRM_UPLOADS ?? false,
    sandbox: args.sandbox || (e.DIDIT_SANDBOX ?? false),
    precheckModelsDir: await resolveModelsDir(e.DIDIT_PRECHECK_MODELS_DIR),
    allowHardlinks: (args.allowHardlinks ?? false) || (e.DIDIT_ALLOW_HARDLINKS ?? false),
    allowedUrlHosts: Object.freeze(allowedUrlHosts),
    urlAllowOnly: e.DIDIT_URL_ALLOW_ONLY ?? false,
  });
}

function pickDiditEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function expandHome(p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/") || p.startsWith(`~${path.sep}`)) return path.join(homedir(), p.slice(2));
  return p;
}

/** Resolves each allowed dir to its real path once, at start-up; a missing dir is a configuration error. */
async function resolveAllowedDirs(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const raw of dirs) {
    const dir = raw.trim();
    if (dir.includes("\0")) throw new ConfigError("An allowed directory contains a NUL byte.");
    const absolute = path.resolve(expandHome(dir));
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      throw new ConfigError(`Allowed directory ${absolute} does not exist or cannot be read.`);
    }
    if (!(await stat(real)).isDirectory()) {
      throw new ConfigError(`Allowed directory ${absolute} is not a directory.`);
    }
    if (!out.includes(real)) out.push(real);
  }
  return out;
}

/** A models folder that is set must exist and hold both MiniFASNet files: a typo fails now, not at the first pre-check. */
async function resolveModelsDir(raw: string | undefined): Promise<string | undefined> {
  const dir = raw?.trim();
  if (!dir) return undefined;
  if (dir.includes("\0")) throw new ConfigError("DIDIT_PRECHECK_MODELS_DIR contains a NUL byte.");
  const absolute = path.resolve(expandHome(dir));
  const isDir = await stat(absolute).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) {
    throw new ConfigError(`DIDIT_PRECHECK_MODELS_DIR ${absolute} does not exist or is not a directory.`);
  }
  const absent: string[] = [];
  for (const file of SPOOF_MODEL_FILES) {
    const isFile = await stat(path.join(absolute, file)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!isFile) absent.push(file);
  }
  if (absent.length > 0) {
    throw new ConfigError(
      `DIDIT_PRECHECK_MODELS_DIR ${absolute} lacks ${absent.join(" and ")}; point it at a folder holding ${SPOOF_MODEL_FILES.join(" and ")}, or unset it to use the models shipped with the package.`,
    );
  }
  return absolute;
}
