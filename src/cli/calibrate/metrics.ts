/**
 * Presentation-attack-detection error rates over Didit's decline threshold, named as in ISO/IEC 30107-3.
 *
 * Didit declines when score <= threshold. So at threshold t:
 * - a bona fide presentation is wrongly declined when its score <= t   (BPCER: bona fide presentation
 *   classification error rate);
 * - an attack presentation is wrongly accepted when its score > t      (APCER: attack presentation classification
 *   error rate), computed per attack type (APCER_PAIS, one per presentation attack instrument species) and reported
 *   overall as the maximum over the types, as 30107-3 asks (the worst species sets the level).
 * Pure: no I/O, no clock.
 */
import { ToolFailure } from "../../core/errors.js";

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;
export const THRESHOLDS: readonly number[] = Array.from({ length: 101 }, (_, t) => t);
export const KEY_RATES = [0.01, 0.05, 0.1] as const;

export interface ScoredSample {
  score: number;
  label: "bona_fide" | "attack";
  /** The attack type (PAI species), e.g. "print", "screen"; required for attacks. */
  attackType?: string | undefined;
}

/** An error count over a class, with its Wilson 95% interval. */
export interface Rate {
  errors: number;
  total: number;
  rate: number;
  ci95: [number, number];
}

export interface ThresholdRow {
  threshold: number;
  bpcer: Rate;
  /** APCER_PAIS: one per attack type. */
  apcer_pais: Record<string, Rate>;
  /** The maximum APCER_PAIS (ties: the first type in name order), as 30107-3 reports an attack potential level. */
  apcer: Rate & { attack_type: string };
}

export interface OperatingPoint {
  threshold: number;
  bpcer: Rate;
  apcer: Rate & { attack_type: string };
}

export type Target = { kind: "bpcer"; value: number } | { kind: "apcer"; value: number };

export interface Calibration {
  semantics: string;
  counts: { bona_fide: number; attack: number; by_attack_type: Record<string, number> };
  attack_types: string[];
  rows: ThresholdRow[];
  /** ISO names BPCER100/BPCER20/BPCER10: the BPCER at the lowest threshold whose APCER is at most 1%/5%/10%. */
  bpcer_at_apcer: (OperatingPoint & { apcer_target: number; iso_name: string })[];
  /** The APCER at the highest threshold whose BPCER is at most 1%/5%/10%; null when even threshold 0 exceeds it. */
  apcer_at_bpcer: ((OperatingPoint & { bpcer_target: number }) | { bpcer_target: number; threshold: null })[];
  /** At the grid threshold where |BPCER - APCER| is smallest (ties: the lowest), EER is their mean. */
  eer: { threshold: number; rate: number; bpcer: number; apcer: number };
  target: Target;
  /** Null when no threshold 0..100 meets the target. */
  recommendation: (OperatingPoint & { sentence: string }) | { threshold: null; sentence: string };
  histograms: { bin_width: number; bona_fide: number[]; by_attack_type: Record<string, number[]> };
  power_notes: string[];
}

/** Wilson score interval (95%) for k errors out of n; [0, 0] bounds are exact at the edges. */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (!(Number.isInteger(k) && Number.isInteger(n) && n > 0 && k >= 0 && k <= n)) {
    throw new RangeError(`wilson needs 0 <= k <= n, n > 0 (got ${k}/${n})`);
  }
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [k === 0 ? 0 : (centre - margin) / denom, k === n ? 1 : (centre + margin) / denom];
}

function rate(errors: number, total: number): Rate {
  return { errors, total, rate: errors / total, ci95: wilson(errors, total) };
}

/** "1.0%"; "0.35%" below 1% so small rates do not all read 0.0%. */
export function percent(value: number): string {
  const pct = value * 100;
  if (pct > 0 && pct < 1) return `${pct.toFixed(2)}%`;
  return `${pct.toFixed(1)}%`;
}

function emptyClass(what: string): ToolFailure {
  return new ToolFailure(
    "invalid_input",
    `Calibration needs at least one scored ${what}; there are none.`,
    "Give a folder (or manifest rows) with images of that class; images without a score (no face, failed checks) do not count.",
  );
}

/**
 * Computes every figure of the calibration. `expectedTypes` names attack types the caller asked for (e.g. one per
 * --attack folder): a type with no scored sample is an error rather than a silently missing column.
 */
export function computeCalibration(
  samples: readonly ScoredSample[],
  target: Target,
  expectedTypes: readonly string[] = [],
): Calibration {
  checkCalibrationInputs(samples, target);
  const { bonaFide, byType, types } = scoresByClass(samples, expectedTypes);
  const rows = thresholdRows(bonaFide, byType, types);

  // APCER falls and BPCER rises as the threshold rises, so "lowest t with APCER <= x" is BPCER's best case.
  const isoName = (x: number) => `BPCER${Math.round(1 / x)}`;
  const bpcerAtApcer = KEY_RATES.map((x) => {
    const row = rows.find((r) => r.apcer.rate <= x) ?? (rows[100] as ThresholdRow);
    return { apcer_target: x, iso_name: isoName(x), ...operatingPoint(row) };
  });
  const apcerAtBpcer = KEY_RATES.map((x) => {
    const row = rows.findLast((r) => r.bpcer.rate <= x);
    return row ? { bpcer_target: x, ...operatingPoint(row) } : { bpcer_target: x, threshold: null };
  });

  return {
    semantics:
      "Didit declines when score <= threshold: a bona fide image counts toward BPCER when its score <= t, an attack toward APCER when its score > t.",
    counts: {
      bona_fide: bonaFide.length,
      attack: types.reduce((n, t) => n + (byType.get(t)?.length ?? 0), 0),
      by_attack_type: Object.fromEntries(types.map((t) => [t, byType.get(t)?.length ?? 0])),
    },
    attack_types: types,
    rows,
    bpcer_at_apcer: bpcerAtApcer,
    apcer_at_bpcer: apcerAtBpcer,
    eer: equalErrorRate(rows),
    target,
    recommendation: recommend(rows, target, bonaFide, types),
    histograms: {
      bin_width: HISTOGRAM_BIN_WIDTH,
      bona_fide: histogram(bonaFide),
      by_attack_type: Object.fromEntries(types.map((t) => [t, histogram(byType.get(t) ?? [])])),
    },
    power_notes: powerNotes(bonaFide.length, types, byType),
  };
}

function checkCalibrationInputs(samples: readonly ScoredSample[], target: Target): void {
  for (const s of samples) {
    if (!(Number.isFinite(s.score) && s.score >= 0 && s.score <= 100)) {
      throw new RangeError(`score out of 0-100: ${s.score}`);
    }
  }
  if (!(target.value >= 0 && target.value <= 1)) {
    throw new ToolFailure(
      "invalid_input",
      `The target ${target.kind.toUpperCase()} must be a fraction from 0 to 1 (got ${target.value}).`,
      "Write 5% as 0.05.",
    );
  }
}

/** The bona fide scores and the attack scores by type (each expected type present, even empty: then it fails). */
function scoresByClass(samples: readonly ScoredSample[], expectedTypes: readonly string[]) {
  const bonaFide = samples.filter((s) => s.label === "bona_fide").map((s) => s.score);
  const byType = new Map<string, number[]>();
  for (const t of expectedTypes) byType.set(t, []);
  for (const s of samples) {
    if (s.label !== "attack") continue;
    const type = s.attackType ?? "attack";
    const list = byType.get(type) ?? [];
    list.push(s.score);
    byType.set(type, list);
  }
  if (bonaFide.length === 0) emptyClassThrow("bona fide image");
  if (byType.size === 0) emptyClassThrow("attack image");
  for (const [type, scores] of byType)
    if (scores.length === 0) emptyClassThrow(`attack image of type "${type}"`);
  return { bonaFide, byType, types: [...byType.keys()].sort() };
}

/** BPCER and each type's APCER at every threshold of the grid; the worst type's is the APCER. */
function thresholdRows(
  bonaFide: readonly number[],
  byType: ReadonlyMap<string, readonly number[]>,
  types: readonly string[],
): ThresholdRow[] {
  return THRESHOLDS.map((t) => {
    const bpcer = rate(bonaFide.filter((s) => s <= t).length, bonaFide.length);
    const apcerPais: Record<string, Rate> = {};
    let worst: (Rate & { attack_type: string }) | undefined;
    for (const type of types) {
      const scores = byType.get(type) ?? [];
      const r = rate(scores.filter((s) => s > t).length, scores.length);
      apcerPais[type] = r;
      if (!worst || r.rate > worst.rate) worst = { ...r, attack_type: type };
    }
    if (!worst) throw emptyClass("attack image");
    return { threshold: t, bpcer, apcer_pais: apcerPais, apcer: worst };
  });
}

function operatingPoint(row: ThresholdRow): OperatingPoint {
  return { threshold: row.threshold, bpcer: row.bpcer, apcer: row.apcer };
}

function equalErrorRate(rows: readonly ThresholdRow[]): Calibration["eer"] {
  let eerRow = rows[0] as ThresholdRow;
  for (const r of rows) {
    if (Math.abs(r.bpcer.rate - r.apcer.rate) < Math.abs(eerRow.bpcer.rate - eerRow.apcer.rate)) eerRow = r;
  }
  return {
    threshold: eerRow.threshold,
    rate: (eerRow.bpcer.rate + eerRow.apcer.rate) / 2,
    bpcer: eerRow.bpcer.rate,
    apcer: eerRow.apcer.rate,
  };
}

function recommend(
  rows: readonly ThresholdRow[],
  target: Target,
  bonaFide: readonly number[],
  types: readonly string[],
): Calibration["recommendation"] {
  const chosen =
    target.kind === "bpcer"
      ? rows.findLast((r) => r.bpcer.rate <= target.value)
      : rows.find((r) => r.apcer.rate <= target.value);
  return chosen
    ? { ...operatingPoint(chosen), sentence: describeOperatingPoint(chosen, types) }
    : {
        threshold: null,
        sentence: `No threshold from 0 to 100 keeps BPCER at or below ${percent(target.value)}: ${bonaFide.filter((s) => s <= 0).length} of ${bonaFide.length} real people score 0.`,
      };
}

const HISTOGRAM_BIN_WIDTH = 10;

function histogram(scores: readonly number[]): number[] {
  const bins = Array.from({ length: 100 / HISTOGRAM_BIN_WIDTH }, () => 0);
  for (const s of scores) {
    const i = Math.min(bins.length - 1, Math.floor(s / HISTOGRAM_BIN_WIDTH));
    bins[i] = (bins[i] ?? 0) + 1;
  }
  return bins;
}

function emptyClassThrow(what: string): never {
  throw emptyClass(what);
}

/** "at 42: 3 of 300 real people declined (1.0%, CI 0.3-2.9%); print 0/40, screen 2/60 accepted (worst APCER ...)" */
export function describeOperatingPoint(row: ThresholdRow, types: readonly string[]): string {
  const b = row.bpcer;
  const ci = `${(b.ci95[0] * 100).toFixed(1)}-${(b.ci95[1] * 100).toFixed(1)}%`;
  const attacks = types
    .map((t) => {
      const r = row.apcer_pais[t];
      return r ? `${t} ${r.errors}/${r.total}` : "";
    })
    .join(", ");
  const a = row.apcer;
  const aci = `${(a.ci95[0] * 100).toFixed(1)}-${(a.ci95[1] * 100).toFixed(1)}%`;
  return `at ${row.threshold}: ${b.errors} of ${b.total} real people declined (${percent(b.rate)}, CI ${ci}); ${attacks} accepted (worst APCER ${percent(a.rate)}, CI ${aci})`;
}

/**
 * With no errors among n, the 95% Wilson upper bound z²/(n+z²) is the smallest rate the data can rule out
 * (close to the rule of three's 3/n).
 */
export function zeroErrorBound(n: number): number {
  return wilson(0, n)[1];
}

function powerNotes(bonaFide: number, types: readonly string[], byType: Map<string, number[]>): string[] {
  const note = (n: number, what: string, metric: string) =>
    `with ${n} ${what}, ${metric === "APCER" ? "an" : "a"} ${metric} of 0% only bounds the true rate below ${percent(zeroErrorBound(n))}`;
  const attacks = types.reduce((n, t) => n + (byType.get(t)?.length ?? 0), 0);
  return [
    note(bonaFide, bonaFide === 1 ? "bona fide image" : "bona fide images", "BPCER"),
    note(attacks, attacks === 1 ? "attack" : "attacks", "APCER"),
    ...types.map((t) => {
      const n = byType.get(t)?.length ?? 0;
      return note(n, `"${t}" attack${n === 1 ? "" : "s"}`, "APCER");
    }),
    "(95% Wilson upper bound for zero errors, z²/(n+z²); for large n close to the rule of three, 3/n)",
  ];
}
