import { ToolFailure } from "../../../core/errors.js";
import { createSharedBackoff, type SharedBackoff } from "../../../didit/shared-backoff.js";
import type { SharedStore } from "./store.js";

/** Time an upload needs after a wait (Didit answers within 2 s): a pause leaving less than this refuses at once. */
const UPLOAD_MARGIN_MS = 2_000;
/** Re-reads of the pause per request: another replica may lengthen it while this one waits. */
const MAX_ROUNDS = 4;
/**
 * How old a reading of the pause may be and still stand for a fresh one: the reservation just before an upload
 * reads it, so the first upload of a call costs no second round trip.
 */
const READING_MAX_AGE_MS = 250;

/**
 * The client's 429 pause shared by every replica: a 429 seen by one is written to the store with its Retry-After,
 * and every replica reads it before each upload, waiting it out within the call's deadline or refusing at once with
 * `rate_limited` (nothing sent). While the store is down only this process's own pauses hold.
 */
export function createStoreBackoff(
  store: SharedStore,
  key: string,
  now: () => number = Date.now,
): SharedBackoff {
  const local = createSharedBackoff(now);
  return {
    get pauses() {
      return local.pauses;
    },
    pause(ms) {
      local.pause(ms);
      void store.pause(key, ms).catch(() => undefined);
    },
    async ready(signal, deadlineAt) {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const left = await store.pauseLeft(key, round === 0 ? READING_MAX_AGE_MS : 0).catch(() => 0);
        if (left <= 0) break;
        if (deadlineAt !== undefined && now() + left + UPLOAD_MARGIN_MS > deadlineAt) {
          store.countHold("refused");
          const seconds = Math.max(1, Math.ceil(left / 1000));
          throw new ToolFailure(
            "rate_limited",
            `Didit is rate limiting this API key (a 429 answered to one of the replicas sharing DIDIT_REDIS_URL) for ${seconds} s more, longer than this call can wait; no request was sent to Didit.`,
            `Wait ${seconds} s and try again.`,
            seconds,
          );
        }
        store.countHold("waited");
        local.pause(left);
        await local.ready(signal);
      }
      await local.ready(signal);
    },
  };
}
