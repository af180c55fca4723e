/** What the progress display shows, updated as each check finishes. */
export interface ProgressState {
  done: number;
  total: number;
  approved: number;
  declined: number;
  failed: number;
  credits: number;
  elapsedMs: number;
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Time left at the rate so far; unknown before the first input is done. */
export function eta(state: ProgressState): string {
  if (state.done === 0 || state.done >= state.total) return state.done >= state.total ? "0s" : "?";
  return formatDuration((state.elapsedMs / state.done) * (state.total - state.done));
}

/** One line for a terminal: a bar with done/total, verdict counts, credits and the estimated time left. */
export function renderBar(state: ProgressState, width = 24): string {
  const fraction = state.total === 0 ? 1 : Math.min(1, state.done / state.total);
  const filled = Math.round(fraction * width);
  const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
  return `[${bar}] ${state.done}/${state.total} · approved ${state.approved} · declined ${state.declined} · failed ${state.failed} · credits ${state.credits} · ETA ${eta(state)}`;
}

/** A plain line for logs (stderr not a terminal). */
export function renderLine(state: ProgressState): string {
  const percent = state.total === 0 ? 100 : Math.floor((state.done / state.total) * 100);
  return `progress: ${state.done}/${state.total} (${percent}%) approved ${state.approved}, declined ${state.declined}, failed ${state.failed}, credits ${state.credits}, ETA ${eta(state)}`;
}

export interface ProgressDisplay {
  update(state: ProgressState): void;
  /** Clears the bar so the summary starts on a clean line. */
  finish(): void;
}

/**
 * On a terminal, the bar is redrawn in place at most every `intervalMs`; otherwise a plain line is written each
 * time another 10% of the inputs is done, so a log gets at most 10 lines.
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
  return {
    update(state) {
      if (options.tty) {
        const t = now();
        if (t - lastDraw < interval && state.done < state.total) return;
        lastDraw = t;
        drawn = true;
        write(`\r\x1b[2K${renderBar(state)}`);
        return;
      }
      const decile = state.total === 0 ? 10 : Math.floor((state.done / state.total) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        write(`${renderLine(state)}\n`);
      }
    },
    finish() {
      if (options.tty && drawn) write("\r\x1b[2K");
    },
  };
}
