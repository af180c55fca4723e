/** What every bench figure is made of, shared by bench/run.ts and bench/precheck.ts. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface Row {
  figure: string;
  unit: string;
  value: Stats;
  baseline?: Stats;
  ratio?: number;
  target: string;
  met: boolean;
  note?: string;
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, n: sorted.length };
}

export const single = (v: number): Stats => ({ median: v, min: v, max: v, n: 1 });

export const log = (text: string) => process.stderr.write(`${text}\n`);

export function render(rows: Row[]): string {
  const fmt = (s?: Stats) =>
    s === undefined
      ? ""
      : s.n === 1
        ? s.median.toFixed(1)
        : `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
  const header = ["figure", "unit", "value: median (min-max)", "baseline", "ratio", "target", "met", "note"];
  const lines = rows.map((r) => [
    r.figure,
    r.unit,
    fmt(r.value),
    fmt(r.baseline),
    r.ratio === undefined ? "" : r.ratio.toFixed(2),
    r.target,
    r.met ? "yes" : "NO",
    r.note ?? "",
  ]);
  return [header, header.map(() => "---"), ...lines].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
