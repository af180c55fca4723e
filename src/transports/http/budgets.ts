import { type CheckBudget, createCheckBudget } from "../../core/rate-guard.js";

/** Callers seen beyond which idle shares are dropped, so many OAuth subjects cannot grow memory. */
const SWEEP_AT = 1_000;

/** Something a caller holds a count of, up to a limit: checks in the last minute, or requests in flight. */
export interface Allowance {
  /** Takes all `count` when they fit, else none; says which. */
  tryReserve(count: number): boolean;
  release(count: number): void;
  /** Holds nothing: a caller's share in this state may be dropped and made afresh. */
  isIdle(): boolean;
}

export type ShareScope = "token" | "process";

export interface CallerShare<A extends Allowance> {
  /** All or nothing: undefined when taken, else which allowance refused (and it, for its message). */
  reserve(count: number): { scope: ShareScope; allowance: A } | undefined;
  release(count: number): void;
}

/**
 * The process's allowance and each caller's (token id's) share of it. The caller's share is asked first, so a
 * caller refused for its own share takes nothing from the allowance the others share; when the process refuses,
 * the caller's share is given back.
 */
export function createCallerShares<A extends Allowance>(
  whole: A,
  newShare: () => A,
): (callerId: string) => CallerShare<A> {
  const shares = new Map<string, A>();
  const shareOf = (callerId: string) => {
    if (shares.size >= SWEEP_AT) {
      for (const [id, share] of shares) if (share.isIdle()) shares.delete(id);
    }
    let share = shares.get(callerId);
    if (share === undefined) {
      share = newShare();
      shares.set(callerId, share);
    }
    return share;
  };
  return (callerId) => ({
    reserve(count) {
      const share = shareOf(callerId);
      if (!share.tryReserve(count)) return { scope: "token", allowance: share };
      if (!whole.tryReserve(count)) {
        share.release(count);
        return { scope: "process", allowance: whole };
      }
      return undefined;
    },
    release(count) {
      shareOf(callerId).release(count);
      whole.release(count);
    },
  });
}

/**
 * DIDIT_MAX_CHECKS_PER_MINUTE for the whole process, and each caller's share of it
 * (DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN, by default the same number); each refusal names its own setting.
 */
export function createCallerBudgets(
  perMinute: number,
  perMinutePerCaller: number,
  onRefused: (scope: ShareScope) => void,
  now: () => number = Date.now,
  // The settings the refusals name (the shared store's local fallback has a setting of its own).
  settings = { whole: "DIDIT_MAX_CHECKS_PER_MINUTE", share: "DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN" },
): (tokenId: string) => CheckBudget {
  const shares = createCallerShares(createCheckBudget(perMinute, now, settings.whole), () =>
    createCheckBudget(perMinutePerCaller, now, settings.share),
  );
  return (tokenId) => {
    const share = shares(tokenId);
    return Object.assign(
      (count = 1) => {
        const refused = share.reserve(count);
        if (refused === undefined) return;
        onRefused(refused.scope);
        throw refused.allowance.refusal(count);
      },
      { release: (count = 1) => share.release(count) },
    );
  };
}

/** Requests in flight: at most `max` at once. */
export interface RequestSlots extends Allowance {
  readonly held: number;
  readonly max: number;
}

export function createRequestSlots(max: number): RequestSlots {
  let held = 0;
  return {
    max,
    get held() {
      return held;
    },
    tryReserve(count) {
      if (held + count > max) return false;
      held += count;
      return true;
    },
    release(count) {
      held = Math.max(0, held - count);
    },
    isIdle: () => held === 0,
  };
}
