import type { Redact } from "./redact.js";

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface Logger {
  log(level: LogLevel, message: string): void;
}

/** stdout carries JSON-RPC, so logs go to stderr, one line each, with secrets redacted. */
export function createStderrLogger(redact: Redact, write: (line: string) => void = defaultWrite): Logger {
  return {
    log(level, message) {
      write(`[didit-passive-liveness-mcp] ${level}: ${redact(message)}\n`);
    },
  };
}

function defaultWrite(line: string): void {
  process.stderr.write(line);
}
