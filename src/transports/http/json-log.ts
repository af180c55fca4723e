import type { Logger, LogLevel } from "../../core/log.js";
import type { Redact } from "../../core/redact.js";

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface JsonLogger extends Logger {
  /** One JSON object per line; values are ours (ids, codes, numbers), and are redacted all the same. */
  event(level: LogLevel, msg: string, fields: LogFields): void;
}

/** HTTP mode logs JSON lines on stderr, one per event, so a log pipeline can index them without parsing prose. */
export function createJsonLogger(redact: Redact, write: (line: string) => void = defaultWrite): JsonLogger {
  const event = (level: LogLevel, msg: string, fields: LogFields) => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
    write(`${redact(line)}\n`);
  };
  return { event, log: (level, message) => event(level, message, {}) };
}

function defaultWrite(line: string): void {
  process.stderr.write(line);
}
