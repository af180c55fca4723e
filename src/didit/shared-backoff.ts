import { setTimeout as sleep } from "node:timers/promises";

/**
 * One pause shared by every request of a client: when Didit answers 429 to one worker, the others hold their next
 * request too, so a batch slows down as a whole instead of each worker hitting the limit in turn.
 */
export interface SharedBackoff {
  /** Holds new requests for `ms` from now (a longer pause already in force is kept). */
  pause(ms: number): void;
  /**
   * Resolves when no pause is in force; rejects when `signal` aborts while waiting. A pause shared with other
   * replicas (src/shared-state/) may instead reject with a `rate_limited` ToolFailure when it outlasts `deadlineAt`
   * (epoch ms): then nothing is sent.
   */
  ready(signal?: AbortSignal, deadlineAt?: number): Promise<void>;
  /** How many times a pause was started, for the summary. */
  readonly pauses: number;
}

export function createSharedBackoff(now: () => number = Date.now): SharedBackoff {
  let until = 0;
  let pauses = 0;
  return {
    get pauses() {
      return pauses;
    },
    pause(ms) {
      const end = now() + ms;
      if (end > until) {
        until = end;
        pauses += 1;
      }
    },
    async ready(signal) {
      for (let left = until - now(); left > 0; left = until - now()) {
        await sleep(left, undefined, { signal });
      }
    },
  };
}
