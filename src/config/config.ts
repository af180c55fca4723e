import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { expandHome } from "../images/home.js";
import { ALLOW_URL_HOSTS_SETTING, createUrlPolicy } from "../images/url-policy.js";
import { SPOOF_MODEL_FILES } from "../precheck/loader.js";
import { ENV_DOCS, type EnvDoc } from "./env-docs.js";
import { parseKnownOptions } from "./known-options.js";
import { parseSharedStore, type SharedStoreConfig } from "./redis-url.js";
import { FREE_TOOL_NAMES, TOOL_NAMES } from "./tool-names.js";

export { expandHome } from "../images/home.js";
export { MAX_IMAGE_BYTES } from "../images/limits.js";

export const DEFAULT_BASE_URL = "https://verification.didit.me";

/** Everything the server needs to know about its environment, validated once and frozen. */
export interface Config {
  /** Didit API key; absent means checks fail with not_configured, but the server still starts. */
  readonly apiKey: string | undefined;
  /** API origin, plus a reverse proxy's path prefix if any, without a trailing slash. */
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
  /** The verdict view may show a thumbnail of the photo (DIDIT_VIEW_THUMBNAILS, default true); held in memory only. */
  readonly viewThumbnails: boolean;
  /** Streamable HTTP settings; undefined when the server runs on stdio. */
  readonly http?: HttpConfig | undefined;
  /** The tools the server lists and serves (DIDIT_TOOLS / --tools), in its own order; undefined: every tool. */
  readonly tools?: readonly string[] | undefined;
}

/** Remote mode (`--http`): where to listen and who may call. */
export interface HttpConfig {
  readonly host: string;
  /** 0 picks a free port (tests); the ready line prints the real one. */
  readonly port: number;
  /** Host header names accepted on /mcp, lower case, without port; `*` accepts any (auth still applies). */
  readonly allowedHosts: readonly string[];
  /** Browser origins accepted besides those whose host name is an allowed host. */
  readonly allowedOrigins: readonly string[];
  /** Static bearer tokens; never logged. */
  readonly tokens: readonly string[];
  /** OAuth 2.1 resource-server mode: JWT access tokens from this issuer, for this audience. */
  readonly oauth: { readonly issuer: string; readonly audience: string } | undefined;
  readonly shutdownGraceMs: number;
  /** MCP requests handled at once by this process; more are answered 503 at once. */
  readonly maxInFlight: number;
  /** Each caller's share of maxInFlight; more from one caller are answered 429 at once. */
  readonly maxInFlightPerToken: number;
  /** How long a request's body may take to arrive once its headers are in (408 past it). */
  readonly bodyTimeoutMs: number;
  /** Each caller's share of the per-minute check budget (the process budget, maxChecksPerMinute, still applies). */
  readonly maxChecksPerMinutePerToken: number;
  /** DIDIT_REDIS_URL: budgets and Didit's 429 pauses shared by every replica; undefined: counted per process. */
  readonly sharedStore: SharedStoreConfig | undefined;
}

const DEFAULT_CHECKS_PER_MINUTE = 30;
export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_HTTP_PORT = 8080;
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** An optional on/off setting; the message names it, since zod's own names only the values. */
function booleanFlag(name: string) {
  return z
    .enum(["true", "false", "1", "0", "yes", "no", ""], {
      error: `${name} must be true or false (also 1/0, yes/no; empty means false)`,
    })
    .transform((v) => v === "true" || v === "1" || v === "yes")
    .optional();
}

/** An optional whole-number setting between min and max; `unit` and the bounds' notes complete its messages. */
function wholeNumber(
  name: string,
  min: number,
  max: number,
  { unit, minNote, maxNote }: { unit?: string; minNote?: string; maxNote?: string } = {},
) {
  const of = unit ? ` of ${unit}` : "";
  return z.coerce
    .number({ error: `${name} must be a number${of}` })
    .int(`${name} must be a whole number${of}`)
    .min(min, `${name} must be at least ${min}${minNote ? ` (${minNote})` : ""}`)
    .max(max, `${name} must be at most ${max}${maxNote ? ` (${maxNote})` : ""}`)
    .optional();
}

type EnvName = keyof typeof ENV_DOCS;

/** Attaches each variable's ENV_DOCS entry to its schema as zod metadata: the one description of every setting. */
function withEnvDocs<T extends Record<EnvName, z.ZodType>>(shape: T): T {
  return Object.fromEntries(
    Object.entries(shape).map(([name, schema]) => [name, schema.meta({ ...ENV_DOCS[name as EnvName] })]),
  ) as T;
}

/** Every environment variable the server reads, in the schema's order, with its description: what docs render. */
export function envSettings(): (EnvDoc & { name: string })[] {
  return Object.entries(envSchema.shape).map(([name, schema]) => ({
    name,
    ...(schema.meta() as unknown as EnvDoc),
  }));
}

export const envSchema = z.object(
  withEnvDocs({
    DIDIT_API_KEY: z
      .string()
      .transform((v) => v.trim())
      // Sent as an HTTP header, which undici refuses locally for control characters; the message never quotes it.
      .refine((v) => /^[\x21-\x7e]*$/.test(v), {
        error:
          "DIDIT_API_KEY contains a control character (such as a line break), a space or a non-ASCII character; copy the key again from the Didit Business Console",
      })
      .optional(),
    DIDIT_BASE_URL: z
      .url({
        protocol: /^https?$/,
        error: "DIDIT_BASE_URL must be an http(s) URL such as https://verification.didit.me",
      })
      .transform((value, ctx) => {
        const checked = normalizeBaseUrl(value);
        if (checked.ok) return checked.url;
        ctx.issues.push({ code: "custom", message: checked.error, input: value });
        return z.NEVER;
      })
      .optional(),
    DIDIT_TIMEOUT_MS: wholeNumber("DIDIT_TIMEOUT_MS", 1000, 300_000, {
      unit: "milliseconds",
      minNote: "1 s",
      maxNote: "5 min",
    }),
    DIDIT_ALLOWED_DIRS: z.string().optional(),
    DIDIT_MAX_CHECKS_PER_MINUTE: wholeNumber("DIDIT_MAX_CHECKS_PER_MINUTE", 1, 10_000),
    DIDIT_CONFIRM_UPLOADS: booleanFlag("DIDIT_CONFIRM_UPLOADS"),
    DIDIT_SANDBOX: booleanFlag("DIDIT_SANDBOX"),
    DIDIT_ALLOW_HARDLINKS: booleanFlag("DIDIT_ALLOW_HARDLINKS"),
    DIDIT_PRECHECK_MODELS_DIR: z.string().optional(),
    DIDIT_ALLOWED_URL_HOSTS: z.string().optional(),
    DIDIT_URL_ALLOW_ONLY: booleanFlag("DIDIT_URL_ALLOW_ONLY"),
    DIDIT_VIEW_THUMBNAILS: booleanFlag("DIDIT_VIEW_THUMBNAILS"),
    DIDIT_TOOLS: z.string().optional(),
    DIDIT_MCP_TOKENS: z.string().optional(),
    DIDIT_MCP_OAUTH_ISSUER: z
      .url({ protocol: /^https?$/, error: "DIDIT_MCP_OAUTH_ISSUER must be an https URL" })
      .optional(),
    DIDIT_MCP_OAUTH_AUDIENCE: z.string().optional(),
    DIDIT_ALLOWED_HOSTS: z.string().optional(),
    DIDIT_ALLOWED_ORIGINS: z.string().optional(),
    DIDIT_SHUTDOWN_GRACE_MS: wholeNumber("DIDIT_SHUTDOWN_GRACE_MS", 0, 600_000, {
      unit: "milliseconds",
      maxNote: "10 min",
    }),
    DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN: wholeNumber("DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN", 1, 10_000),
    DIDIT_HTTP_MAX_IN_FLIGHT: wholeNumber("DIDIT_HTTP_MAX_IN_FLIGHT", 1, 10_000),
    DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN: wholeNumber("DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN", 1, 10_000),
    DIDIT_HTTP_BODY_TIMEOUT_MS: wholeNumber("DIDIT_HTTP_BODY_TIMEOUT_MS", 1000, 300_000, {
      unit: "milliseconds",
      minNote: "1 s",
      maxNote: "5 min",
    }),
    DIDIT_REDIS_URL: z.string().optional(),
    DIDIT_REDIS_FALLBACK_PER_MINUTE: wholeNumber("DIDIT_REDIS_FALLBACK_PER_MINUTE", 1, 10_000),
  }),
);

/**
 * DIDIT_BASE_URL as origin + optional path prefix (checks go to <that>/v3/passive-liveness/ and <that>/v3/face-match/). Messages never echo
 * the value: it may hold credentials.
 */
function normalizeBaseUrl(raw: string): { ok: true; url: string } | { ok: false; error: string } {
  const url = new URL(raw);
  if (url.username !== "" || url.password !== "") {
    return { ok: false, error: "DIDIT_BASE_URL must not contain credentials; the key goes in DIDIT_API_KEY" };
  }
  if (url.search !== "" || url.hash !== "" || raw.includes("?") || raw.includes("#")) {
    return { ok: false, error: "DIDIT_BASE_URL must not contain a query or a fragment" };
  }
  // url.hostname is WHATWG-normalised, so 127.1 and 2130706433 already read 127.0.0.1 here.
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return {
      ok: false,
      error:
        "DIDIT_BASE_URL must use https unless it points at this machine (localhost, 127.0.0.0/8 or [::1]): plain http would send the API key and the image unencrypted",
    };
  }
  const prefix = url.pathname.replace(/\/+$/, "");
  if (/\/v3\/(passive-liveness|face-match)$/i.test(prefix)) {
    return {
      ok: false,
      error:
        "DIDIT_BASE_URL is the API origin (plus a proxy's path prefix, if any), without /v3/passive-liveness/ or /v3/face-match/, which the server adds",
    };
  }
  return { ok: true, url: `${url.origin}${prefix}` };
}

export interface ServerArgs {
  allowDirs: string[];
  sandbox: boolean;
  allowHardlinks: boolean;
  allowUrlHosts: string[];
  /** Streamable HTTP instead of stdio. */
  http: boolean;
  host: string | undefined;
  port: string | undefined;
  allowedHosts: string[];
  allowedOrigins: string[];
  /** --tools as given (each may hold a comma list); undefined when absent, so DIDIT_TOOLS applies. */
  tools: string[] | undefined;
  help: boolean;
  version: boolean;
}

/** Parses the server's own flags; unknown flags are an error so a typo never silently widens access. */
export function parseServerArgs(argv: readonly string[]): ServerArgs {
  try {
    const { values } = parseKnownOptions({
      args: [...argv],
      options: {
        "allow-dir": { type: "string", multiple: true },
        sandbox: { type: "boolean" },
        "allow-hardlinks": { type: "boolean" },
        "allow-url-host": { type: "string", multiple: true },
        http: { type: "boolean" },
        host: { type: "string" },
        port: { type: "string" },
        "allowed-host": { type: "string", multiple: true },
        "allowed-origin": { type: "string", multiple: true },
        tools: { type: "string", multiple: true },
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
      http: values.http ?? false,
      host: values.host,
      port: values.port,
      allowedHosts: values["allowed-host"] ?? [],
      allowedOrigins: values["allowed-origin"] ?? [],
      tools: values.tools,
      help: values.help ?? false,
      version: values.version ?? false,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const end = /[.?]$/.test(message) ? "" : ".";
    throw new ConfigError(`${message}${end} Run \`didit-passive-liveness-mcp --help\` for the options.`);
  }
}

/**
 * A CLI command's Config: env plus the command's own flags. The server's allowed directories do not apply to a
 * command (each typed path's own directory does), so a stale DIDIT_ALLOWED_DIRS cannot break it.
 */
export function loadCommandLineConfig(
  args: Parameters<typeof loadConfig>[0],
  env: NodeJS.ProcessEnv,
): Promise<Config> {
  return loadConfig(args, { ...env, DIDIT_ALLOWED_DIRS: undefined });
}

/** The API key as the environment holds it, untrimmed: what a redactor hides before (or beside) a Config. */
export function apiKeyInEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.DIDIT_API_KEY;
}

/** Reads env and flags into one frozen Config. The only place in the project that reads the environment. */
export async function loadConfig(
  args: Pick<ServerArgs, "allowDirs" | "sandbox"> &
    Partial<
      Pick<
        ServerArgs,
        | "allowHardlinks"
        | "allowUrlHosts"
        | "http"
        | "host"
        | "port"
        | "allowedHosts"
        | "allowedOrigins"
        | "tools"
      >
    >,
  env: NodeJS.ProcessEnv,
): Promise<Config> {
  const parsed = envSchema.safeParse(pickDiditEnv(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => i.message).join("; "));
  }
  const e = parsed.data;
  const fromEnv = (e.DIDIT_ALLOWED_DIRS ?? "").split(path.delimiter).filter((d) => d.trim() !== "");
  const allowedDirs = await resolveAllowedDirs([...args.allowDirs, ...fromEnv]);
  const allowedUrlHosts = splitList(...(args.allowUrlHosts ?? []), e.DIDIT_ALLOWED_URL_HOSTS ?? "");
  try {
    createUrlPolicy(allowedUrlHosts);
  } catch (error) {
    throw new ConfigError(`${ALLOW_URL_HOSTS_SETTING}: ${(error as Error).message}`);
  }
  return Object.freeze({
    apiKey: e.DIDIT_API_KEY === "" ? undefined : e.DIDIT_API_KEY,
    baseUrl: e.DIDIT_BASE_URL ?? DEFAULT_BASE_URL,
    timeoutMs: e.DIDIT_TIMEOUT_MS ?? 30_000,
    allowedDirs: Object.freeze(allowedDirs),
    maxChecksPerMinute: e.DIDIT_MAX_CHECKS_PER_MINUTE ?? DEFAULT_CHECKS_PER_MINUTE,
    confirmUploads: e.DIDIT_CONFIRM_UPLOADS ?? false,
    sandbox: args.sandbox || (e.DIDIT_SANDBOX ?? false),
    precheckModelsDir: await resolveModelsDir(e.DIDIT_PRECHECK_MODELS_DIR),
    allowHardlinks: (args.allowHardlinks ?? false) || (e.DIDIT_ALLOW_HARDLINKS ?? false),
    allowedUrlHosts: Object.freeze(allowedUrlHosts),
    urlAllowOnly: e.DIDIT_URL_ALLOW_ONLY ?? false,
    viewThumbnails: e.DIDIT_VIEW_THUMBNAILS ?? true,
    http: args.http ? httpConfig(args, e) : noHttpFlags(args),
    tools: await selectTools(args.tools, e.DIDIT_TOOLS),
  });
}

/** --tools (which replaces DIDIT_TOOLS): tool names or `free`, checked against the server's own list. */
async function selectTools(
  flags: readonly string[] | undefined,
  env: string | undefined,
): Promise<readonly string[] | undefined> {
  const setting = flags !== undefined ? "--tools" : "DIDIT_TOOLS";
  if (flags === undefined && (env ?? "").trim() === "") return undefined;
  const names = splitList(...(flags ?? [env ?? ""]));
  const free = FREE_TOOL_NAMES;
  const valid = `${TOOL_NAMES.join(", ")}, or free (${free.join(", ")})`;
  if (names.length === 0) throw new ConfigError(`${setting} names no tool; valid: ${valid}.`);
  const unknown = names.filter((name) => name !== "free" && !TOOL_NAMES.includes(name));
  if (unknown.length > 0) {
    const quoted = unknown.map((name) => `"${name.slice(0, 60)}"`).join(", ");
    throw new ConfigError(
      `${setting} names ${unknown.length === 1 ? "an unknown tool" : "unknown tools"}, ${quoted}; valid: ${valid}.`,
    );
  }
  const chosen = new Set(names.flatMap((name) => (name === "free" ? free : [name])));
  return Object.freeze(TOOL_NAMES.filter((name) => chosen.has(name)));
}

function httpConfig(
  args: Partial<Pick<ServerArgs, "host" | "port" | "allowedHosts" | "allowedOrigins">>,
  e: z.output<typeof envSchema>,
): HttpConfig {
  if (e.DIDIT_CONFIRM_UPLOADS) {
    // Stateless HTTP has no session to carry an elicitation answer back: every upload would be refused.
    throw new ConfigError(
      "DIDIT_CONFIRM_UPLOADS cannot be used with --http: the stateless HTTP transport cannot ask the user. Unset it, or run on stdio.",
    );
  }
  const host = (args.host ?? DEFAULT_HTTP_HOST).trim();
  if (host === "") throw new ConfigError("--host must not be empty.");
  const portText = args.port ?? String(DEFAULT_HTTP_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) {
    throw new ConfigError(`--port must be a whole number from 0 to 65535, not "${portText}".`);
  }
  const tokens = splitList(e.DIDIT_MCP_TOKENS ?? "");
  const shortToken = tokens.find((t) => t.length < 16);
  if (shortToken !== undefined) {
    throw new ConfigError("Every token in DIDIT_MCP_TOKENS must be at least 16 characters long.");
  }
  const issuer = e.DIDIT_MCP_OAUTH_ISSUER?.replace(/\/+$/, "");
  const audience = e.DIDIT_MCP_OAUTH_AUDIENCE?.trim() || undefined;
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new ConfigError("OAuth mode needs both DIDIT_MCP_OAUTH_ISSUER and DIDIT_MCP_OAUTH_AUDIENCE.");
  }
  if (
    issuer !== undefined &&
    new URL(issuer).protocol === "http:" &&
    !isLoopbackHost(new URL(issuer).hostname)
  ) {
    throw new ConfigError(
      "DIDIT_MCP_OAUTH_ISSUER must be https (http is accepted only for a loopback issuer).",
    );
  }
  const loopback = isLoopbackHost(host);
  if (!loopback && tokens.length === 0 && issuer === undefined) {
    throw new ConfigError(
      `Refusing to listen on ${host} without authentication: set DIDIT_MCP_TOKENS or DIDIT_MCP_OAUTH_ISSUER + DIDIT_MCP_OAUTH_AUDIENCE, or bind to 127.0.0.1.`,
    );
  }
  const listed = [...(args.allowedHosts ?? []), ...splitList(e.DIDIT_ALLOWED_HOSTS ?? "")].map((h) =>
    h.toLowerCase(),
  );
  let allowedHosts: string[];
  if (listed.length > 0) allowedHosts = listed;
  else if (loopback) allowedHosts = LOOPBACK_NAMES;
  else if (isWildcardHost(host)) {
    // Bound to every interface, the names clients will use are unknown here: the operator must say.
    throw new ConfigError(
      `Listening on ${host} needs the host names clients use: set DIDIT_ALLOWED_HOSTS (or --allowed-host), e.g. mcp.example.com, or "*" to accept any Host (tokens still apply).`,
    );
  } else allowedHosts = [host.toLowerCase()];
  const allowedOrigins = [...(args.allowedOrigins ?? []), ...splitList(e.DIDIT_ALLOWED_ORIGINS ?? "")].map(
    (o) => o.replace(/\/+$/, "").toLowerCase(),
  );
  const maxInFlight = e.DIDIT_HTTP_MAX_IN_FLIGHT ?? 64;
  const shared = parseSharedStore(e.DIDIT_REDIS_URL, e.DIDIT_REDIS_FALLBACK_PER_MINUTE);
  if (!shared.ok) throw new ConfigError(`${shared.error}.`);
  return Object.freeze({
    host,
    port,
    allowedHosts: Object.freeze(allowedHosts),
    allowedOrigins: Object.freeze(allowedOrigins),
    tokens: Object.freeze(tokens),
    oauth: issuer !== undefined && audience !== undefined ? Object.freeze({ issuer, audience }) : undefined,
    shutdownGraceMs: e.DIDIT_SHUTDOWN_GRACE_MS ?? 10_000,
    maxInFlight,
    // Half by default, so one token alone can never hold every slot.
    maxInFlightPerToken: e.DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN ?? Math.ceil(maxInFlight / 2),
    bodyTimeoutMs: e.DIDIT_HTTP_BODY_TIMEOUT_MS ?? 10_000,
    maxChecksPerMinutePerToken:
      e.DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN ?? e.DIDIT_MAX_CHECKS_PER_MINUTE ?? DEFAULT_CHECKS_PER_MINUTE,
    sharedStore: shared.store,
  });
}

/** Remote-mode flags without --http would silently do nothing: say so instead. */
function noHttpFlags(
  args: Partial<Pick<ServerArgs, "host" | "port" | "allowedHosts" | "allowedOrigins">>,
): undefined {
  if (
    args.host !== undefined ||
    args.port !== undefined ||
    args.allowedHosts?.length ||
    args.allowedOrigins?.length
  ) {
    throw new ConfigError("--host, --port, --allowed-host and --allowed-origin only apply with --http.");
  }
  return undefined;
}

/** Comma-separated entries (an env value, or flags that may each hold several), trimmed, empty ones dropped. */
function splitList(...values: string[]): string[] {
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

function pickDiditEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
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
