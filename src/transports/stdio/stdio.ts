import type { Config } from "../../config/config.js";
import { createRateLimitedLog, createStderrLogger } from "../../core/log.js";
import { createRedactor } from "../../core/redact.js";
import { packageVersion } from "../../core/version.js";
import { selectLivenessClient } from "../../flows/liveness/select-client.js";
import { describePrecheckEngine } from "../../precheck/loader.js";
import { createServer } from "../../server/server.js";
import { StdioLineTransport } from "./line-transport.js";

/** A 5 MB image is ~7 MB of base64; leave room so an oversized argument gets a tool error, not a closed session. */
const STDIO_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 500;

/** Serves one MCP client on stdin/stdout until stdin ends or a signal arrives. */
export async function runStdio(config: Config): Promise<void> {
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
    }, ${await precheck}${config.tools ? `, tools: ${config.tools.join(", ")}` : ""})`,
  );
}
