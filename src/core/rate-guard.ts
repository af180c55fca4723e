import { ToolFailure } from "./errors.js";

/**
 * A sliding one-minute budget of checks for this process, so an agent stuck in a loop cannot drain the
 * account's credits. Refusals happen before any request is made. `setting` is the name the refusal quotes (a
 * caller's share in HTTP mode has a setting of its own).
 */
export function createCheckBudget(
  perMinute: number,
  now: () => number = Date.now,
  setting = "DIDIT_MAX_CHECKS_PER_MINUTE",
): MinuteBudget {
  const recent: number[] = [];
  const forget = (t: number) => {
    while (recent.length > 0 && (recent[0] ?? 0) <= t - 60_000) recent.shift();
  };
  const tryReserve = (count = 1) => {
    const t = now();
    forget(t);
    if (recent.length + count > perMinute) return false;
    for (let i = 0; i < count; i++) recent.push(t);
    return true;
  };
  const refusal = (count = 1) => {
    const t = now();
    return budgetRefusal(perMinute, setting, count, (recent[0] ?? t) + 60_000 - t);
  };
  const reserve = (count = 1) => {
    if (!tryReserve(count)) throw refusal(count);
  };
  return Object.assign(reserve, {
    tryReserve,
    refusal,
    // A reserved check that was not made (verify_selfie skipping its face match) goes back to the budget.
    release: (count = 1) => {
      recent.splice(Math.max(0, recent.length - count), count);
    },
    isIdle: () => {
      forget(now());
      return recent.length === 0;
    },
    readyIn: (count = 1) => {
      const t = now();
      forget(t);
      if (count <= 0) return 0;
      // Reserved as early as allowed, check i (of those held and those to come) waits a minute after check i - perMinute.
      const last = recent.length + count - 1;
      const minutes = Math.floor(last / perMinute);
      const first = last - minutes * perMinute;
      return Math.max(0, (recent[first] ?? t) + minutes * 60_000 - t);
    },
  });
}

/**
 * The `rate_limited` failure of a spent per-minute budget, whoever counts it (this process, or the shared store
 * in src/shared-state/): `waitMs` is when its oldest check leaves the minute.
 */
export function budgetRefusal(
  perMinute: number,
  setting: string,
  count: number,
  waitMs: number,
): ToolFailure {
  const waitS = Math.max(1, Math.ceil(waitMs / 1000));
  return new ToolFailure(
    "rate_limited",
    `This server allows ${perMinute} checks per minute (${setting}) and ${count > 1 ? `fewer than the ${count} this call needs are left` : "that budget is spent"}; no request was sent to Didit.`,
    `Wait ${waitS} s. If you are retrying the same photo in a loop, stop: ask the person for a new photo or hand the case to a human.`,
    waitS,
  );
}

/**
 * Reserves `count` checks at once (all or none, or throws `rate_limited`); `release` returns unused ones. Both
 * may be asynchronous (a budget shared through Redis): callers await them.
 */
export interface CheckBudget {
  (count?: number): void | Promise<void>;
  release(count?: number): void | Promise<void>;
}

/** One budget, with what sharing it out (src/transports/http/budgets.ts) and pacing a batch need. */
export interface MinuteBudget extends CheckBudget {
  /** This process's count: synchronous, so a caller may reserve without awaiting (the batch's pacing). */
  (count?: number): void;
  release(count?: number): void;
  /** The reservation without the throw: true when all `count` were taken, false when none were. */
  tryReserve(count: number): boolean;
  /** The `rate_limited` failure a refused reservation of `count` throws, as of now. */
  refusal(count: number): ToolFailure;
  /** Nothing reserved within the last minute. */
  isIdle(): boolean;
  /** How long until `count` more checks could all have been reserved, in ms (0: at once). */
  readyIn(count?: number): number;
}
