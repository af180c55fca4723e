import type { BatchClock } from "../../src/cli/batch/batch.js";

/**
 * A clock whose sleeps end at once and move its time on by what they asked for: a batch that waits a minute for its
 * budget runs in milliseconds and still sees the minute pass.
 */
export function virtualClock(start = 0): BatchClock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms, signal) => {
      signal.throwIfAborted();
      slept.push(ms);
      t += ms;
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
