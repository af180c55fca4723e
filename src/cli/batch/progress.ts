/** What the progress display shows, updated as each check finishes. */
export interface ProgressState {
  done: number;
  total: number;
  approved: number;
  declined: number;
  failed: number;
  credits: number;
  elapsedMs: number;
  /** The least time left that the per-minute budget allows for the uploads still to come, in ms. */
  budgetMs?: number | undefined;
  /** What the batch is holding for now, and for how much longer (ms): shown, and counted in the ETA. */
  waiting?: { reason: string; ms: number } | undefined;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Time left: at the rate so far, but never less than a wait in force or what the per-minute budget still needs;
 * unknown before the first input is done unless one of those says more.
 */
export function eta(state: ProgressState): string {
  if (state.done >= state.total) return "0s";
  const floor = Math.max(state.budgetMs ?? 0, state.waiting?.ms ?? 0);
  if (state.done === 0 && floor === 0) return "?";
  const atRate = state.done === 0 ? 0 : (state.elapsedMs / state.done) * (state.total - state.done);
  return formatDuration(Math.max(atRate, floor));
}

/** "waiting 41 s for the per-minute budget (DIDIT_MAX_CHECKS_PER_MINUTE=30)"; "" when nothing is waited for. */
export function waitText(state: ProgressState): string {
  return state.waiting ? `waiting ${Math.ceil(state.waiting.ms / 1000)} s for ${state.waiting.reason}` : "";
}

/** One line for a terminal: a bar with done/total, verdict counts, credits and the estimated time left. */
export function renderBar(state: ProgressState, width = 24): string {
  const fraction = state.total === 0 ? 1 : Math.min(1, state.done / state.total);
  const filled = Math.round(fraction * width);
  const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
  return `[${bar}] ${state.done}/${state.total} · approved ${state.approved} · declined ${state.declined} · failed ${state.failed} · credits ${state.credits} · ETA ${eta(state)}${
    state.waiting ? ` · ${waitText(state)}` : ""
  }`;
}

/** A plain line for logs (stderr not a terminal). */
export function renderLine(state: ProgressState): string {
  const percent = state.total === 0 ? 100 : Math.floor((state.done / state.total) * 100);
  return `progress: ${state.done}/${state.total} (${percent}%) approved ${state.approved}, declined ${state.declined}, failed ${state.failed}, credits ${state.credits}, ETA ${eta(state)}${
    state.waiting ? `; ${waitText(state)}` : ""
  }`;
}

export interface ProgressDisplay {
  update(state: ProgressState): void;
  /** Clears the bar so the summary starts on a clean line. */
  finish(): void;
}

/**
 * On a terminal, the bar is redrawn in place at most every `intervalMs` (at once when a wait starts); otherwise a
 * plain line is written each time another 10% of the inputs is done, and once when a wait starts, so a log gets at
 * most 10 lines and one per wait.
 */
export function createProgress(
  write: (text: string) => void,
  options: { tty: boolean; intervalMs?: number; now?: () => number },
): ProgressDisplay {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 100;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastDecile = 0;
  let drawn = false;
  /** The reason of the wait last shown, until it is over: a new wait is shown at once, a wait's tick is not. */
  let shownWait: string | undefined;
  return {
    update(state) {
      const waitStarts = state.waiting !== undefined && state.waiting.reason !== shownWait;
      shownWait = state.waiting?.reason;
      if (options.tty) {
        const t = now();
        if (t - lastDraw < interval && state.done < state.total && !waitStarts) return;
        lastDraw = t;
        drawn = true;
        write(`\r\x1b[2K${renderBar(state)}`);
        return;
      }
      const decile = state.total === 0 ? 10 : Math.floor((state.done / state.total) * 10);
      if (decile > lastDecile || waitStarts) {
        lastDecile = Math.max(lastDecile, decile);
        write(`${renderLine(state)}\n`);
      }
    },
    finish() {
      if (options.tty && drawn) write("\r\x1b[2K");
    },
  };
}
