import { describe, expect, it } from "vitest";
import { createRateLimitedLog, createStderrLogger, type LogLevel } from "../../src/core/log.js";

/** A clock the test moves by hand; timers fire when it passes their time. */
function manualClock() {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimer(fn: () => void, ms: number) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => {
        const i = timers.indexOf(timer);
        if (i !== -1) timers.splice(i, 1);
      };
    },
    advance(ms: number) {
      now += ms;
      for (const timer of [...timers].sort((a, b) => a.at - b.at))
        if (timer.at <= now) {
          timers.splice(timers.indexOf(timer), 1);
          timer.fn();
        }
    },
    pending: () => timers.length,
  };
}

function recorder() {
  const lines: { level: LogLevel; message: string }[] = [];
  return { lines, logger: { log: (level: LogLevel, message: string) => lines.push({ level, message }) } };
}

describe("createStderrLogger", () => {
  it("writes one line per message, newlines escaped, the key redacted", () => {
    const written: string[] = [];
    const logger = createStderrLogger(
      (s) => s.replaceAll("sekret", "[REDACTED]"),
      (line) => written.push(line),
    );
    logger.log("error", 'first\n  "second" sekret\r\nthird');
    expect(written).toEqual([
      '[didit-passive-liveness-mcp] error: first\\n  "second" [REDACTED]\\r\\nthird\n',
    ]);
  });
});

describe("createRateLimitedLog", () => {
  it("passes 10 a second, then one line with the count of the rest", () => {
    const clock = manualClock();
    const { lines, logger } = recorder();
    const log = createRateLimitedLog(logger, { redact: (t) => t, perSecond: 10, maxChars: 200, clock });
    for (let i = 0; i < 1000; i++) log("warning", `bad message ${i}`);
    expect(lines).toHaveLength(10);
    expect(lines.map((l) => l.message)).toEqual(Array.from({ length: 10 }, (_, i) => `bad message ${i}`));
    clock.advance(1000);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toEqual({
      level: "warning",
      message: "990 more like it suppressed (at most 10 logged a second)",
    });
    // The next second starts afresh.
    log("warning", "bad message again");
    expect(lines.at(-1)?.message).toBe("bad message again");
    clock.advance(5000);
    expect(lines).toHaveLength(12);
    expect(clock.pending()).toBe(0);
  });

  it("keeps a steady flood to about 11 lines a second", () => {
    const clock = manualClock();
    const { lines, logger } = recorder();
    const log = createRateLimitedLog(logger, { redact: (t) => t, perSecond: 10, maxChars: 200, clock });
    for (let ms = 0; ms < 10_000; ms++) {
      log("warning", "x");
      log("warning", "y");
      clock.advance(1);
    }
    expect(lines.length).toBeLessThanOrEqual(10 * 11 + 1);
    const suppressed = lines
      .map((l) => /^(\d+) more like it/.exec(l.message)?.[1])
      .filter((n): n is string => n !== undefined)
      .reduce((sum, n) => sum + Number(n), 0);
    expect(suppressed + lines.filter((l) => !/more like it/.test(l.message)).length).toBe(20_000);
  });

  it("cuts each line to maxChars and flush() reports what is pending", () => {
    const clock = manualClock();
    const { lines, logger } = recorder();
    const log = createRateLimitedLog(logger, { redact: (t) => t, perSecond: 1, maxChars: 50, clock });
    log("error", "z".repeat(10_000));
    log("error", "dropped");
    expect(lines[0]?.message).toHaveLength(50);
    expect(lines[0]?.message.endsWith("…")).toBe(true);
    log.flush();
    expect(lines.map((l) => l.message).slice(1)).toEqual([
      "1 more like it suppressed (at most 1 logged a second)",
    ]);
    expect(clock.pending()).toBe(0);
  });

  it("redacts before cutting, so no part of a key is left at the cut", () => {
    const clock = manualClock();
    const { lines, logger } = recorder();
    const key = "k3y-0123456789abcdef";
    const redact = (t: string) => t.replaceAll(key, "[REDACTED]");
    const log = createRateLimitedLog(logger, { redact, perSecond: 10, maxChars: 20, clock });
    log("error", `bad: ${key}`);
    expect(lines[0]?.message).toBe("bad: [REDACTED]");
    log("error", `0123456789 ${key}`);
    expect(lines[1]?.message).not.toContain("k3y-01");
  });
});
