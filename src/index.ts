#!/usr/bin/env node
import { runCommandLine, splitCommand } from "./cli/command-line.js";
import { CLI_USAGE } from "./cli/main.js";
import { ConfigError, loadConfig, parseServerArgs } from "./config/config.js";
import { createRedactor } from "./core/redact.js";
import { packageVersion } from "./core/version.js";
import { runStdio } from "./transports/stdio/stdio.js";

const USAGE = `Usage: didit-passive-liveness-mcp [--allow-dir DIR]... [--allow-hardlinks] [--allow-url-host H]... [--sandbox]
                                  [--tools LIST]
       didit-passive-liveness-mcp --http [--host H] [--port P] [--allowed-host NAME]... [options above]

Runs the Didit Passive Liveness MCP server on stdio (what an MCP host starts), or with --http as a remote
MCP server (Streamable HTTP at /mcp, stateless) for hosted agents.

Options:
  --allow-dir DIR   Directory image_path may read from (repeatable; also DIDIT_ALLOWED_DIRS)
  --allow-hardlinks Read image files that have more than one hard link (also DIDIT_ALLOW_HARDLINKS=true)
  --allow-url-host H Host name, IP or CIDR image_url may also reach over http: and at private or loopback
                    addresses (repeatable, comma-separated; also DIDIT_ALLOWED_URL_HOSTS)
  --sandbox         Mocked offline results instead of Didit (also DIDIT_SANDBOX=1)
  --tools LIST      Serve only these tools: comma-separated names, or free (explain_warning, precheck_face_image:
                    they never upload, so never spend a credit); also DIDIT_TOOLS, which this replaces
  --http            Serve MCP over Streamable HTTP at /mcp instead of stdio
  --host H          Address to listen on with --http (default 127.0.0.1; others need DIDIT_MCP_TOKENS or OAuth)
  --port P          Port to listen on with --http (default 8080; 0 picks a free one)
  --allowed-host NAME  Host header accepted on /mcp (repeatable; also DIDIT_ALLOWED_HOSTS)
  --allowed-origin ORIGIN  Browser Origin accepted on /mcp (repeatable; also DIDIT_ALLOWED_ORIGINS)
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
  DIDIT_TOOLS                 Same as --tools (default: every tool)

Environment, --http only:
  DIDIT_MCP_TOKENS            Comma-separated static bearer tokens clients must send
  DIDIT_MCP_OAUTH_ISSUER      OAuth issuer whose JWT access tokens are accepted (with DIDIT_MCP_OAUTH_AUDIENCE)
  DIDIT_MCP_OAUTH_AUDIENCE    Audience those tokens must carry
  DIDIT_ALLOWED_HOSTS         Comma-separated Host names (any port) or name:port accepted ("*": any); default loopback names or --host
  DIDIT_ALLOWED_ORIGINS       Comma-separated browser origins accepted
  DIDIT_SHUTDOWN_GRACE_MS     How long SIGTERM waits for in-flight requests (default 10000)
  DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN  Each token's share of the per-minute budget (default: the same number)
  DIDIT_HTTP_MAX_IN_FLIGHT    MCP requests handled at once; more get 503 (default 64)
  DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN  Each token's share of those; more get 429 (default: half)
  DIDIT_HTTP_BODY_TIMEOUT_MS  How long a request body may take to arrive; then 408 (default 10000)
  DIDIT_REDIS_URL             redis:// or rediss:// URL: one budget (and Didit's 429 pauses) for every replica
  DIDIT_REDIS_FALLBACK_PER_MINUTE  Checks per minute each process may make alone while Redis is down (default: none)

CLI (commands; options may come before or after the command; <command> --help for one command):
${CLI_USAGE}`;

async function main(argv: string[]): Promise<number | undefined> {
  const { command, rest } = splitCommand(argv);
  if (command !== undefined) {
    // `... | head`: a reader that closed our stdout ends the command quietly, as for any Unix tool.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
      throw error;
    });
    const controller = new AbortController();
    const force = new AbortController();
    // First Ctrl-C stops the check (a batch: starts nothing new); a second one cancels a batch's uploads too.
    process.on("SIGINT", () => {
      if (force.signal.aborted) process.exit(130);
      (controller.signal.aborted ? force : controller).abort();
    });
    return runCommandLine(command, rest, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
      signal: controller.signal,
      forceSignal: force.signal,
      stdin: process.stdin,
      stderrIsTTY: process.stderr.isTTY === true,
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
  if (config.http) {
    // Loaded only in HTTP mode: node:http, jose and prom-client stay out of the stdio cold start.
    const { runHttp } = await import("./transports/http/http.js");
    await runHttp(config);
  } else {
    await runStdio(config);
  }
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
    // Before the logger exists, so redact here too: a stack trace may quote anything it was handed.
    const redact = createRedactor([process.env.DIDIT_API_KEY?.trim()]);
    process.stderr.write(`didit-passive-liveness-mcp: ${redact(message ?? "unknown error")}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  },
);
