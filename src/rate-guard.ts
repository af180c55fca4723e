import { ToolFailure } from "./errors.js";

/**
 * A sliding one-minute budget of checks for this process, so an agent stuck in a loop cannot drain the
 * account's credits. Refusals happen before any request is made.
 */
export function createCheckBudget(perMinute: number, now: () => number = Date.now): () => void {
  const recent: number[] = [];
  return () => {
    const t = now();
    while (recent.length > 0 && (recent[0] ?? 0) <= t - 60_000) recent.shift();
    if (recent.length >= perMinute) {
      const waitS = Math.max(1, Math.ceil(((recent[0] ?? t) + 60_000 - t) / 1000));
      throw new ToolFailure(
        "rate_limited",
        `This server allows ${perMinute} checks per minute (DIDIT_MAX_CHECKS_PER_MINUTE) and that budget is spent; no request was sent to Didit.`,
        `Wait ${waitS} s. If you are retrying the same photo in a loop, stop: ask the person for a new photo or hand the case to a human.`,
        waitS,
      );
    }
    recent.push(t);
  };
}
