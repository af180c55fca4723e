// How the human output of every command prints a figure that may be missing.

/** Whole numbers as they are, others to one decimal; "n/a" when there is none. */
export function figureText(v: number | null): string {
  return v === null ? "n/a" : Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** A 0-100 score: "42/100", or "n/a" when there is none (never "n/a/100"). */
export function scoreText(v: number | null): string {
  return v === null ? "n/a" : `${figureText(v)}/100`;
}
