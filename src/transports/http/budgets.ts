import { ToolFailure } from "../../errors.js";
import { type CheckBudget, createCheckBudget } from "../../rate-guard.js";

/** Callers seen in the last minute beyond which idle budgets are dropped, so many OAuth subjects cannot grow memory. */
const SWEEP_AT = 1_000;

/**
 * DIDIT_MAX_CHECKS_PER_MINUTE for the whole process, and each caller's (token id's) share of it
 * (DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN, by default the same number). The caller's budget is asked first,
 * so a caller refused for its own share takes nothing from the process budget the others share.
 */
export function createCallerBudgets(
  perMinute: number,
  perMinutePerCaller: number,
  onRefused: (scope: "token" | "process") => void,
  now: () => number = Date.now,
): (tokenId: string) => CheckBudget {
  const processBudget = createCheckBudget(perMinute, now);
  const perCaller = new Map<string, { budget: CheckBudget; lastUsed: number }>();
  const callerBudget = (tokenId: string) => {
    const t = now();
    if (perCaller.size >= SWEEP_AT) {
      for (const [id, entry] of perCaller) if (entry.lastUsed <= t - 60_000) perCaller.delete(id);
    }
    let entry = perCaller.get(tokenId);
    if (entry === undefined) {
      entry = { budget: createCheckBudget(perMinutePerCaller, now), lastUsed: t };
      perCaller.set(tokenId, entry);
    }
    entry.lastUsed = t;
    return entry.budget;
  };
  return (tokenId) =>
    Object.assign(
      // All or nothing, like each budget alone: the caller's share is given back when the process refuses.
      (count = 1) => {
        const caller = callerBudget(tokenId);
        refusedAs("token", () => caller(count), onRefused);
        try {
          refusedAs("process", () => processBudget(count), onRefused);
        } catch (error) {
          caller.release(count);
          throw error;
        }
      },
      {
        release: (count = 1) => {
          callerBudget(tokenId).release(count);
          processBudget.release(count);
        },
      },
    );
}

function refusedAs(
  scope: "token" | "process",
  reserve: () => void,
  onRefused: (scope: "token" | "process") => void,
) {
  try {
    reserve();
  } catch (error) {
    if (error instanceof ToolFailure && error.code === "rate_limited") onRefused(scope);
    throw error;
  }
}
