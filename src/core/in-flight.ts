import { ToolFailure } from "./errors.js";

/**
 * Image checks holding an image in memory at once: the Didit client's connection pool size (src/didit/client.ts,
 * `connections: 16`), so a check that gets a slot can get a connection and no decoded image waits for one.
 */
export const MAX_CHECKS_IN_FLIGHT = 16;

export interface InFlightLimit {
  /**
   * Resolves with the slot's release function once a slot is free, in arrival order. Rejects with `cancelled` if
   * `signal` aborts first; the waiter is then removed and holds nothing. Release is idempotent.
   */
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly active: number;
  readonly waiting: number;
}

interface Waiter {
  grant: (release: () => void) => void;
}

/**
 * A counting semaphore for image work. It is taken before an image is loaded or decoded, so a burst of calls holds
 * at most `max` images (up to 5 MB each, plus their copies) while the rest wait with only their arguments.
 */
export function createInFlightLimit(
  max = MAX_CHECKS_IN_FLIGHT,
  options: {
    /** Called once when the last slot is released after some call had to wait: a burst is over. */
    onBurstOver?: () => void;
  } = {},
): InFlightLimit {
  let active = 0;
  let queued = false;
  const waiters: Waiter[] = [];

  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      // The slot passes straight to the next waiter, so `active` stays the same and no newcomer can jump the queue.
      if (next) next.grant(releaser());
      else active -= 1;
      if (active === 0 && queued) {
        queued = false;
        options.onBurstOver?.();
      }
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return waiters.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(cancelledWhileWaiting());
      if (active < max && waiters.length === 0) {
        active += 1;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(cancelledWhileWaiting());
        };
        const waiter: Waiter = {
          grant: (release) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(release);
          },
        };
        waiters.push(waiter);
        queued = true;
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}

function cancelledWhileWaiting(): ToolFailure {
  return new ToolFailure(
    "cancelled",
    "The call was cancelled while it waited for one of the checks already in progress to finish.",
    "Nothing was uploaded and no credit was used; call again if you still need it.",
  );
}
