import { ToolFailure } from "./errors.js";

/**
 * A sliding one-minute budget of checks for this process, so an agent stuck in a loop cannot drain the
 * account's credits. Refusals happen before any request is made.
 */
export function createCheckBudget(perMinute: number, now: () => number = Date.now): CheckBudget {
  const recent: number[] = [];
  const reserve = (count = 1) => {
    const t = now();
    while (recent.length > 0 && (recent[0] ?? 0) <= t - 60_000) recent.shift();
    if (recent.length + count > perMinute) {
      const waitS = Math.max(1, Math.ceil(((recent[0] ?? t) + 60_000 - t) / 1000));
      throw new ToolFailure(
        "rate_limited",
        `This server allows ${perMinute} checks per minute (DIDIT_MAX_CHECKS_PER_MINUTE) and ${count > 1 ? `fewer than the ${count} this call needs are left` : "that budget is spent"}; no request was sent to Didit.`,
        `Wait ${waitS} s. If you are retrying the same photo in a loop, stop: ask the person for a new photo or hand the case to a human.`,
        waitS,
      );
    }
    for (let i = 0; i < count; i++) recent.push(t);
  };
  return Object.assign(reserve, {
    // A reserved check that was not made (verify_selfie skipping its face match) goes back to the budget.
    release: (count = 1) => {
      recent.splice(Math.max(0, recent.length - count), count);
    },
  });
}

/** Reserves `count` checks at once (all or none); `release` returns unused ones. */
export interface CheckBudget {
  (count?: number): void;
  release(count?: number): void;
}
