import type { Redact } from "./redact.js";

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface Logger {
  log(level: LogLevel, message: string): void;
}

/** stdout carries JSON-RPC, so logs go to stderr, one line each (line breaks escaped), with secrets redacted. */
export function createStderrLogger(redact: Redact, write: (line: string) => void = defaultWrite): Logger {
  return {
    log(level, message) {
      write(`[didit-passive-liveness-mcp] ${level}: ${oneLine(redact(message))}\n`);
    },
  };
}

let stderrGuarded = false;

function defaultWrite(line: string): void {
  if (!stderrGuarded) {
    // A host that closed our stderr must not crash us with EPIPE: with nowhere to log, the line is lost.
    process.stderr.on("error", () => {});
    stderrGuarded = true;
  }
  process.stderr.write(line);
}

function oneLine(text: string): string {
  return text.replace(/\r/g, "\\r").replace(/\n/g, "\\n");
}

/** Time and timers for the rate limiter, injectable so tests need no sleeps. `setTimer` returns a cancel function. */
export interface LogClock {
  now(): number;
  setTimer(fn: () => void, ms: number): () => void;
}

const systemClock: LogClock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref(); // a pending count must not keep the process alive
    return () => clearTimeout(timer);
  },
};

export interface RateLimitedLog {
  (level: LogLevel, message: string): void;
  /** Logs the count of suppressed lines now, if any (e.g. before exiting). */
  flush(): void;
}

const WINDOW_MS = 1000;

/**
 * For lines a peer can trigger at will (bad messages): at most `perSecond` lines a second, each cut to `maxChars`
 * after redaction (cutting first could leave half a key unrecognised), then one line with the count of the rest.
 */
export function createRateLimitedLog(
  logger: Logger,
  options: { redact: Redact; perSecond?: number; maxChars?: number; clock?: LogClock },
): RateLimitedLog {
  const { redact, perSecond = 10, maxChars = 200, clock = systemClock } = options;
  let windowStart = Number.NEGATIVE_INFINITY;
  let passed = 0;
  let suppressed = 0;
  let suppressedLevel: LogLevel = "warning";
  let cancelTimer: (() => void) | undefined;

  const flush = () => {
    cancelTimer?.();
    cancelTimer = undefined;
    if (suppressed === 0) return;
    logger.log(
      suppressedLevel,
      `${suppressed} more like it suppressed (at most ${perSecond} logged a second)`,
    );
    suppressed = 0;
  };
  const log = (level: LogLevel, message: string) => {
    const now = clock.now();
    if (now - windowStart >= WINDOW_MS) {
      flush();
      windowStart = now;
      passed = 0;
    }
    if (passed < perSecond) {
      passed++;
      logger.log(level, clip(redact(message), maxChars));
      return;
    }
    suppressed++;
    suppressedLevel = level;
    cancelTimer ??= clock.setTimer(flush, windowStart + WINDOW_MS - now);
  };
  return Object.assign(log, { flush });
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}
