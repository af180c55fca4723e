import { ToolFailure } from "../core/errors.js";

/** Calls waiting beyond this are refused: each holds its image (up to 5 MB) in memory while it waits. */
export const MAX_WAITING = 32;

/**
 * Runs one task at a time, in arrival order: the TF.js and ONNX WASM backends are single-threaded, so parallel
 * analyses would only interleave and all finish late. A task whose signal aborts while it waits never starts.
 */
export function createSerialQueue(maxWaiting = MAX_WAITING) {
  let tail: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  return {
    get waiting() {
      return waiting;
    },
    run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (waiting >= maxWaiting) {
        return Promise.reject(
          new ToolFailure(
            "rate_limited",
            `${waiting} local pre-checks are already waiting; this machine analyses one image at a time.`,
            "Wait for the pending pre-checks to finish, then call again (one at a time is fastest).",
            1,
          ),
        );
      }
      waiting += 1;
      const result = tail.then(() => {
        waiting -= 1;
        if (signal?.aborted) {
          throw new ToolFailure(
            "cancelled",
            "The pre-check was cancelled before it started.",
            "Call again if needed.",
          );
        }
        return task();
      });
      tail = result.catch(() => {});
      return result;
    },
  };
}
