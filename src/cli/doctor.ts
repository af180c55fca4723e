import { type Config, ConfigError, loadConfig, parseServerArgs } from "../config.js";
import { ToolFailure } from "../errors.js";
import { createRedactor } from "../redact.js";
import { packageVersion } from "../version.js";

/** The Node floor in package.json's engines (undici 7 needs 20.18.1). */
const MIN_NODE: readonly [number, number, number] = [20, 18, 1];
const REACH_TIMEOUT_MS = 5_000;

export interface DoctorIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Injected for tests; the real one is Node's global fetch. */
  fetch?: typeof fetch;
}

export const DOCTOR_USAGE = `Usage: didit-passive-liveness-mcp doctor [--allow-dir DIR]... [--sandbox]

Checks the set-up without spending a credit: version, Node, whether the key is set (never printed), whether the
API origin answers (one GET with no key), the allowed directories, the pre-check engine and models, sandbox mode.
Exit 0 when a liveness check could run with this set-up, 3 when it could not, 2 on a usage error.
`;

/** Runs the checks, prints one line each, and returns 0 when a check could run now. */
export async function runDoctor(argv: readonly string[], io: DoctorIO): Promise<number> {
  const redact = createRedactor([io.env.DIDIT_API_KEY]);
  const line = (label: string, text: string) => io.out(`${label.padEnd(14)}${redact(text)}\n`);
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(DOCTOR_USAGE);
    return 0;
  }
  let args: ReturnType<typeof parseServerArgs>;
  try {
    args = parseServerArgs(argv);
  } catch (error) {
    io.err(`${redact(error instanceof Error ? error.message : String(error))}\n${DOCTOR_USAGE}`);
    return 2;
  }
  const problems: string[] = [];
  line("version", packageVersion());
  const nodeOk = atLeast(process.versions.node, MIN_NODE);
  line("node", `${process.version} ${nodeOk ? "ok" : `too old: needs >= ${MIN_NODE.join(".")}`}`);
  if (!nodeOk) problems.push("Node is too old");

  let config: Config;
  try {
    config = await loadConfig(args, io.env);
    line("config", "ok");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    line("config", `ERROR: ${error.message}`);
    problems.push("the configuration is invalid (the server would not start)");
    // Go on with what does load, so the other checks still report.
    const { DIDIT_ALLOWED_DIRS: _dirs, ...rest } = io.env;
    try {
      config = await loadConfig({ ...args, allowDirs: [] }, rest);
    } catch {
      io.out(`\nresult        a liveness check cannot run: ${problems.join("; ")}\n`);
      return 3;
    }
  }

  line("sandbox", config.sandbox ? "ON (mocked offline results; nothing is uploaded)" : "off");
  line("api key", config.apiKey ? "set" : "NOT set (DIDIT_API_KEY)");
  if (!config.sandbox && !config.apiKey) problems.push("DIDIT_API_KEY is not set");

  const reach = await probe(config.baseUrl, io.fetch ?? fetch);
  line("base url", `${config.baseUrl} ${reach}`);
  if (!config.sandbox && !reach.startsWith("reachable"))
    problems.push("the Didit API origin is not reachable");

  line(
    "allowed dirs",
    config.allowedDirs.length === 0
      ? "none (image_path is refused; image_base64 still works)"
      : config.allowedDirs.map((dir) => `${dir} (exists)`).join(", "),
  );

  line("pre-check", await precheckStatus(config));

  if (problems.length === 0) {
    io.out(`\nresult        a liveness check can run${config.sandbox ? " (sandbox)" : ""}\n`);
    return 0;
  }
  io.out(`\nresult        a liveness check cannot run: ${problems.join("; ")}\n`);
  return 3;
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
