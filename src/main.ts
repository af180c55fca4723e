#!/usr/bin/env node
import { runCommandLine, splitCommand } from "./cli/command-line.js";
import { apiKeyInEnv, ConfigError, loadConfig, parseServerArgs } from "./config/config.js";
import { createRedactor } from "./core/redact.js";
import { packageVersion } from "./core/version.js";
import { runStdio } from "./transports/stdio/stdio.js";

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
    // Loaded only for --help: the usage text names every command, and the server start stays free of CLI code.
    const { SERVER_USAGE } = await import("./cli/usage.js");
    process.stdout.write(SERVER_USAGE);
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
    const redact = createRedactor([apiKeyInEnv(process.env)?.trim()]);
    process.stderr.write(`didit-passive-liveness-mcp: ${redact(message ?? "unknown error")}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  },
);
