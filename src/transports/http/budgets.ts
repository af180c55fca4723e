import { ToolFailure } from "../../errors.js";
import { createCheckBudget } from "../../rate-guard.js";

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
) {
  const processBudget = createCheckBudget(perMinute, now);
  const perCaller = new Map<string, { reserve: () => void; lastUsed: number }>();
  return (tokenId: string) => () => {
    const t = now();
    if (perCaller.size >= SWEEP_AT) {
      for (const [id, entry] of perCaller) if (entry.lastUsed <= t - 60_000) perCaller.delete(id);
    }
    let entry = perCaller.get(tokenId);
    if (entry === undefined) {
      entry = { reserve: createCheckBudget(perMinutePerCaller, now), lastUsed: t };
      perCaller.set(tokenId, entry);
    }
    entry.lastUsed = t;
    refusedAs("token", entry.reserve, onRefused);
    refusedAs("process", processBudget, onRefused);
  };
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
