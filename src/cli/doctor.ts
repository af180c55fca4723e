import {
  apiKeyInEnv,
  type Config,
  ConfigError,
  loadCommandLineConfig,
  loadConfig,
  parseServerArgs,
} from "../config/config.js";
import { ToolFailure } from "../core/errors.js";
import { createRedactor } from "../core/redact.js";
import { packageVersion } from "../core/version.js";
import { createDiditClient } from "../didit/client.js";

/** The Node floor in package.json's engines (undici 7 needs 20.18.1). */
const MIN_NODE: readonly [number, number, number] = [20, 18, 1];
const REACH_TIMEOUT_MS = 5_000;
const KEY_CHECK_TIMEOUT_MS = 10_000;

export interface DoctorIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Injected for tests; the real one is Node's global fetch. */
  fetch?: typeof fetch;
}

export const DOCTOR_USAGE = `Usage: didit-passive-liveness-mcp doctor [--json] [--allow-dir DIR]... [--sandbox]

Checks the set-up without spending a credit: version, Node, whether the key is set (never printed), whether the
API origin answers (one GET with no key), whether Didit accepts the key (one POST without an image, which Didit
refuses after checking the key and before processing anything: not billed), the allowed directories, the
pre-check engine and models, sandbox mode.
  --json   One JSON report instead of lines: {ok, result, checks: [{name, status: ok|warn|fail, message}]}
Exit 0 when a liveness check could run with this set-up, 3 when it could not, 2 on a usage error.
`;

type CheckStatus = "ok" | "warn" | "fail";

interface CheckLine {
  /** Stable, for --json: version, node, config, sandbox, api_key, base_url, key_check, allowed_dirs, precheck. */
  name: string;
  status: CheckStatus;
  message: string;
}

/** The text output's label of each check. */
const LABELS: Record<string, string> = {
  api_key: "api key",
  base_url: "base url",
  key_check: "key check",
  allowed_dirs: "allowed dirs",
  precheck: "pre-check",
};

/** Runs the checks, prints one line each (or one JSON report), and returns 0 when a check could run now. */
export async function runDoctor(argv: readonly string[], io: DoctorIO): Promise<number> {
  const redact = createRedactor([apiKeyInEnv(io.env)]);
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(DOCTOR_USAGE);
    return 0;
  }
  const json = argv.includes("--json");
  let args: ReturnType<typeof parseServerArgs>;
  try {
    args = parseServerArgs(argv.filter((arg) => arg !== "--json"));
  } catch (error) {
    io.err(`${redact(error instanceof Error ? error.message : String(error))}\n${DOCTOR_USAGE}`);
    return 2;
  }
  const report = createReport(json, io, redact);
  const { check } = report;

  check("version", "ok", packageVersion());
  const nodeOk = atLeast(process.versions.node, MIN_NODE);
  check(
    "node",
    nodeOk ? "ok" : "fail",
    `${process.version} ${nodeOk ? "ok" : `too old: needs >= ${MIN_NODE.join(".")}`}`,
    nodeOk ? undefined : "Node is too old",
  );
  const config = await checkConfig(args, io, report);
  if (!config) return report.finish();
  await checkDidit(config, io, report);

  check(
    "allowed_dirs",
    "ok",
    config.allowedDirs.length === 0
      ? "none (image_path is refused; image_base64 still works)"
      : config.allowedDirs.map((dir) => `${dir} (exists)`).join(", "),
  );

  const precheck = await precheckStatus(config);
  check("precheck", precheck.startsWith("engine found, MiniFASNet") ? "ok" : "warn", precheck);

  return report.finish(config.sandbox ? " (sandbox)" : "");
}

/** The lines so far and the problems they found; `finish` prints them (or one JSON report) and gives the exit code. */
interface DoctorReport {
  check(name: string, status: CheckStatus, message: string, problem?: string): void;
  finish(suffix?: string): number;
}

function createReport(json: boolean, io: DoctorIO, redact: (text: string) => string): DoctorReport {
  const checks: CheckLine[] = [];
  const problems: string[] = [];
  return {
    check(name, status, message, problem) {
      checks.push({ name, status, message });
      if (problem !== undefined) problems.push(problem);
    },
    finish(suffix = "") {
      const ok = problems.length === 0;
      const result = ok
        ? `a liveness check can run${suffix}`
        : `a liveness check cannot run: ${problems.join("; ")}`;
      if (json) io.out(`${redact(JSON.stringify({ ok, result, checks }, null, 2))}\n`);
      else {
        for (const c of checks) io.out(`${(LABELS[c.name] ?? c.name).padEnd(14)}${redact(c.message)}\n`);
        io.out(`\nresult        ${redact(result)}\n`);
      }
      return ok ? 0 : 3;
    },
  };
}

/** The configuration, or what of it loads without the allowed dirs; undefined when not even that loads. */
async function checkConfig(
  args: ReturnType<typeof parseServerArgs>,
  io: DoctorIO,
  { check }: DoctorReport,
): Promise<Config | undefined> {
  try {
    const config = await loadConfig(args, io.env);
    check("config", "ok", "ok");
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    check(
      "config",
      "fail",
      `ERROR: ${error.message}`,
      "the configuration is invalid (the server would not start)",
    );
    // Go on with what does load, so the other checks still report.
    try {
      return await loadCommandLineConfig({ ...args, allowDirs: [] }, io.env);
    } catch {
      return undefined;
    }
  }
}

/** Sandbox, key, the API origin's reachability and what Didit says of the key. */
async function checkDidit(config: Config, io: DoctorIO, { check }: DoctorReport): Promise<void> {
  check("sandbox", "ok", config.sandbox ? "ON (mocked offline results; nothing is uploaded)" : "off");
  if (config.apiKey) check("api_key", "ok", "set");
  else if (config.sandbox) check("api_key", "warn", "NOT set (DIDIT_API_KEY)");
  else check("api_key", "fail", "NOT set (DIDIT_API_KEY)", "DIDIT_API_KEY is not set");

  const reach = await probe(config.baseUrl, io.fetch ?? fetch);
  const reachable = reach.startsWith("reachable");
  if (reachable || config.sandbox) check("base_url", reachable ? "ok" : "warn", `${config.baseUrl} ${reach}`);
  else check("base_url", "fail", `${config.baseUrl} ${reach}`, "the Didit API origin is not reachable");

  if (config.sandbox) check("key_check", "ok", "skipped (sandbox: nothing is sent to Didit)");
  else if (!config.apiKey) check("key_check", "warn", "skipped (no key)");
  else if (!reachable) check("key_check", "warn", "skipped (the API origin is not reachable)");
  else {
    const { status, message, problem } = await checkKey(config, config.apiKey);
    check("key_check", status, message, problem);
  }
}

/** Didit's answer to a request without an image, as a doctor line: refused, empty balance and unknown answers fail. */
async function checkKey(
  config: Config,
  apiKey: string,
): Promise<{ status: CheckStatus; message: string; problem?: string }> {
  const client = createDiditClient({
    baseUrl: config.baseUrl,
    apiKey,
    timeoutMs: Math.min(config.timeoutMs, KEY_CHECK_TIMEOUT_MS),
  });
  try {
    const answer = await client.checkKey();
    const hint = answer.hint ? ` ${answer.hint}` : "";
    switch (answer.verdict) {
      case "accepted":
        return { status: "ok", message: `works: ${answer.message}` };
      case "billed":
        return { status: "warn", message: `WARNING: ${answer.message}` };
      case "rate_limited":
        return { status: "warn", message: `RATE LIMITED, so not confirmed: ${answer.message}${hint}` };
      case "refused":
        return {
          status: "fail",
          message: `REFUSED: ${answer.message}${hint}`,
          problem: "Didit refused the API key",
        };
      case "no_credits":
        return {
          status: "fail",
          message: `NO CREDITS: the key works, but ${answer.message}${hint}`,
          problem: "the key has no credits left",
        };
      default:
        return {
          status: "fail",
          message: `NOT confirmed: ${answer.message}${hint}`,
          problem: "the key could not be confirmed",
        };
    }
  } catch (error) {
    if (!(error instanceof ToolFailure)) throw error;
    return {
      status: "fail",
      message: `NOT confirmed: ${error.message}`,
      problem: "the key could not be confirmed",
    };
  } finally {
    await client.close();
  }
}

/** One GET of the origin's root, without the key: any HTTP answer means reachable, and no credit is spent. */
async function probe(baseUrl: string, fetchFn: typeof fetch): Promise<string> {
  const started = performance.now();
  try {
    const response = await fetchFn(new URL(baseUrl).origin, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(REACH_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return `reachable (HTTP ${response.status} in ${Math.round(performance.now() - started)} ms)`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const name = error instanceof Error ? error.name : "";
    const why = name === "TimeoutError" ? `no answer within ${REACH_TIMEOUT_MS / 1000} s` : (cause ?? name);
    return `NOT reachable (${why || "error"})`;
  }
}

async function precheckStatus(config: Config): Promise<string> {
  const { resolveEngine } = await import("../precheck/loader.js");
  try {
    const engine = await resolveEngine(
      config.precheckModelsDir === undefined ? {} : { modelsDir: config.precheckModelsDir },
    );
    return engine.spoofModels
      ? "engine found, MiniFASNet models found"
      : `engine found, models missing: ${engine.spoofUnavailable ?? "not found"}`;
  } catch (error) {
    if (!(error instanceof ToolFailure)) throw error;
    return `engine not installed (optional): ${error.message}`;
  }
}

function atLeast(version: string, floor: readonly [number, number, number]): boolean {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const have = parts[i] ?? 0;
    const need = floor[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}
