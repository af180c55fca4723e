#!/usr/bin/env node
import { CLI_USAGE, runCli } from "./cli.js";
import { ConfigError, loadConfig, parseServerArgs } from "./config.js";
import { selectLivenessClient } from "./liveness/select-client.js";
import { createRateLimitedLog, createStderrLogger } from "./log.js";
import { describePrecheckEngine } from "./precheck/loader.js";
import { createRedactor } from "./redact.js";
import { createServer } from "./server.js";
import { StdioLineTransport } from "./stdio-transport.js";
import { packageVersion } from "./version.js";

/** A 5 MB image is ~7 MB of base64; leave room so an oversized argument gets a tool error, not a closed session. */
const STDIO_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 500;

const USAGE = `Usage: didit-passive-liveness-mcp [--allow-dir DIR]... [--allow-hardlinks] [--allow-url-host H]... [--sandbox]

Runs the Didit Passive Liveness MCP server on stdio (what an MCP host starts).

Options:
  --allow-dir DIR   Directory image_path may read from (repeatable; also DIDIT_ALLOWED_DIRS)
  --allow-hardlinks Read image files that have more than one hard link (also DIDIT_ALLOW_HARDLINKS=true)
  --allow-url-host H Host name, IP or CIDR image_url may also reach over http: and at private or loopback
                    addresses (repeatable, comma-separated; also DIDIT_ALLOWED_URL_HOSTS)
  --sandbox         Mocked offline results instead of Didit (also DIDIT_SANDBOX=1)
  -h, --help        Show this help
  -v, --version     Show the version

Environment:
  DIDIT_API_KEY               Didit API key (needed for checks, not for start-up)
  DIDIT_BASE_URL              API origin (default https://verification.didit.me)
  DIDIT_TIMEOUT_MS            Deadline per check in ms (default 30000)
  DIDIT_ALLOWED_DIRS          Allowed image directories, separated by the OS path delimiter
  DIDIT_MAX_CHECKS_PER_MINUTE Checks allowed per minute in this process (default 30)
  DIDIT_CONFIRM_UPLOADS       true: ask the user (MCP elicitation) before each upload
  DIDIT_SANDBOX               1/true: same as --sandbox
  DIDIT_ALLOW_HARDLINKS       true: same as --allow-hardlinks
  DIDIT_PRECHECK_MODELS_DIR   Folder with the MiniFASNet ONNX files for precheck_face_image's spoof estimate
                              (default: the copies shipped in the package)
  DIDIT_ALLOWED_URL_HOSTS     Same as --allow-url-host, comma-separated
  DIDIT_URL_ALLOW_ONLY        true: image_url may fetch only from the listed hosts

Scripted use:
${CLI_USAGE}`;

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (
    command === "check" ||
    command === "explain" ||
    command === "precheck" ||
    command === "match" ||
    command === "verify"
  ) {
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    return runCli(command, rest, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
      signal: controller.signal,
    });
  }
  const args = parseServerArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const config = await loadConfig(args, process.env);
  const redact = createRedactor([config.apiKey]);
  const logger = createStderrLogger(redact);
  // A client can send bad lines as fast as it likes; one short line each, at most 10 a second, then a count.
  const badMessageLog = createRateLimitedLog(logger, { redact });
  const client = selectLivenessClient(config);
  const server = createServer({ config, client, logger, redact, version: packageVersion() });
  const transport = new StdioLineTransport(process.stdin, process.stdout, STDIO_MAX_MESSAGE_BYTES);
  // Only resolves paths (no engine import), alongside the connect, so start-up does not wait on it.
  const precheck = describePrecheckEngine(
    config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : {},
  );

  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    badMessageLog.flush();
    logger.log("info", `shutting down (${reason})`);
    // Closing the server aborts in-flight handlers, whose signals abort their HTTP requests.
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    void server
      .close()
      .then(() => client?.close())
      .finally(() => process.exit(0));
  };
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  transport.onerror = (error) => badMessageLog("warning", `transport: ${error.message}`);
  // A failing stdin or stdout (EPIPE: the client closed our stdout) closes the transport: shut down, no crash.
  transport.onclose = () => shutdown(transport.closeReason ?? "transport closed");

  await server.connect(transport);
  logger.log(
    "info",
    `ready (version ${packageVersion()}, ${config.sandbox ? "SANDBOX mode" : `API key ${config.apiKey ? "set" : "NOT set"}`}, allowed dirs: ${
      config.allowedDirs.length > 0 ? config.allowedDirs.join(", ") : "none"
    }, ${await precheck})`,
  );
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
    process.stderr.write(`didit-passive-liveness-mcp: ${message ?? "unknown error"}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  },
);
