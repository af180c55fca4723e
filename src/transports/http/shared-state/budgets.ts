import { randomUUID } from "node:crypto";
import { ToolFailure } from "../../../core/errors.js";
import { budgetRefusal, type CheckBudget } from "../../../core/rate-guard.js";
import type { ShareScope } from "../budgets.js";
import { type ReserveKeys, type SharedStore, StoreUnavailable } from "./store.js";

/** The 429 pause's key under the prefix (src/shared-state/backoff.ts keeps it; reservations read it). */
export const PAUSE_KEY = "didit-429";

/** How long a refusal for a store that is down asks the caller to wait: about how long a reconnect takes. */
const STORE_DOWN_RETRY_S = 5;

export interface SharedBudgetOptions {
  /** Key prefix of this Didit key's state (see `stateKeys`). */
  prefix: string;
  /** Hashes a token id for its key name: no token id (or token) in a key. */
  hash: (value: string) => string;
  perMinute: number;
  perMinutePerCaller: number;
  /** The local budget while the store is down (DIDIT_REDIS_FALLBACK_PER_MINUTE), or undefined: refuse. */
  fallback: ((tokenId: string) => CheckBudget) | undefined;
  onRefused: (scope: ShareScope) => void;
}

/**
 * DIDIT_MAX_CHECKS_PER_MINUTE and each token's share, counted in the shared store for every replica at once: the same
 * interface and the same refusals as the per-process budget (src/transports/http/budgets.ts), so no flow changes.
 * Each reservation is one atomic script over both keys (all or nothing); a release removes this call's own entries.
 * While the store cannot be reached a check is refused, or counted on the local fallback budget when one is set.
 */
export function createSharedCallerBudgets(
  store: SharedStore,
  options: SharedBudgetOptions,
): (tokenId: string) => CheckBudget {
  const limits = { whole: options.perMinute, share: options.perMinutePerCaller };
  const settings = { token: "DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN", process: "DIDIT_MAX_CHECKS_PER_MINUTE" };
  return (tokenId) => {
    const keys: ReserveKeys = {
      whole: `${options.prefix}checks`,
      share: `${options.prefix}checks:token:${options.hash(tokenId)}`,
      pause: `${options.prefix}${PAUSE_KEY}`,
    };
    // What this call holds, newest last: a store entry's member, or undefined for a check on the local fallback.
    const held: (string | undefined)[] = [];
    let local: CheckBudget | undefined;
    const reserve = async (count = 1) => {
      const member = randomUUID();
      let result: Awaited<ReturnType<SharedStore["reserve"]>>;
      try {
        result = await store.reserve(keys, count, limits, member);
      } catch (error) {
        if (!(error instanceof StoreUnavailable)) throw error;
        if (options.fallback === undefined) {
          store.countUnavailable("refused");
          throw storeDownFailure();
        }
        local ??= options.fallback(tokenId);
        await local(count);
        store.countUnavailable("fallback");
        for (let i = 0; i < count; i++) held.push(undefined);
        return;
      }
      if (!result.taken) {
        options.onRefused(result.scope);
        const perMinute = result.scope === "token" ? limits.share : limits.whole;
        throw budgetRefusal(perMinute, settings[result.scope], count, result.waitMs);
      }
      for (let i = 1; i <= count; i++) held.push(`${member}:${i}`);
    };
    return Object.assign(reserve, {
      release: async (count = 1) => {
        const given = held.splice(Math.max(0, held.length - count), count);
        const members = given.filter((m): m is string => m !== undefined);
        if (given.length > members.length) await local?.release(given.length - members.length);
        // A release the store cannot take is counted in its errors; the entries leave the window within a minute.
        await store.release(keys, members).catch(() => undefined);
      },
    });
  };
}

export function storeDownFailure(): ToolFailure {
  return new ToolFailure(
    "rate_limited",
    "The shared budget store (Redis, DIDIT_REDIS_URL) cannot be reached, so this server cannot count the check against its per-minute budget; no request was sent to Didit.",
    `Try again in ${STORE_DOWN_RETRY_S} s; if it keeps failing, the server's operator must bring the shared store back (or set DIDIT_REDIS_FALLBACK_PER_MINUTE).`,
    STORE_DOWN_RETRY_S,
  );
}
