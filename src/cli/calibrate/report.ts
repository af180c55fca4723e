/**
 * The calibration report: one self-contained HTML file (inline CSS and SVG, no script, no external reference), so it
 * can be mailed, archived and opened offline.
 */
import { type Calibration, percent, type Rate, type ThresholdRow } from "./metrics.js";
import { escapeXml, histogram, lineChart, PALETTE, type Series } from "./svg.js";

export const DIDIT_DEFAULT_THRESHOLD = 30;

/** Where the labelled images and scores came from, as absolute paths. */
export interface CalibrationInputs {
  bona_fide: readonly string[];
  attack: readonly { dir: string; type: string }[];
  manifest?: string | undefined;
  scores?: string | undefined;
}

export interface ReportContext {
  engine: "didit" | "local";
  /** "didit-passive-liveness-mcp 0.1.0": which build computed the figures. */
  tool: string;
  inputs: CalibrationInputs;
  /** ISO timestamp, passed in so the renderer stays pure. */
  generatedAt: string;
  /** Files left out because an earlier one has the same bytes. */
  duplicates: readonly { input: string; same_as: string }[];
  /** Images left out of the rates, with why (no face, a failed check). */
  excluded: readonly { input: string; label: string; reason: string }[];
}

/** The inputs as [what, path] pairs: ["bona fide", dir], ["print", dir], ["manifest", file], ["scores", file]. */
export function inputParts(inputs: CalibrationInputs): [string, string][] {
  return [
    ...inputs.bona_fide.map((dir): [string, string] => ["bona fide", dir]),
    ...inputs.attack.map(({ dir, type }): [string, string] => [type, dir]),
    ...(inputs.manifest === undefined ? [] : [["manifest", inputs.manifest] as [string, string]]),
    ...(inputs.scores === undefined ? [] : [["scores", inputs.scores] as [string, string]]),
  ];
}

/** Thresholds worth a row: every 10, Didit's default, the recommendation, the EER and the BPCER-at-APCER points. */
export function keyThresholds(c: Calibration): number[] {
  const set = new Set<number>([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, c.eer.threshold]);
  if (c.recommendation.threshold !== null) set.add(c.recommendation.threshold);
  for (const p of c.bpcer_at_apcer) set.add(p.threshold);
  return [...set].sort((a, b) => a - b);
}

function cell(r: Rate | undefined): string {
  if (!r) return "<td>n/a</td>";
  return `<td>${r.errors}/${r.total} <b>${percent(r.rate)}</b><br><small>${(r.ci95[0] * 100).toFixed(1)}-${(r.ci95[1] * 100).toFixed(1)}%</small></td>`;
}

function tableRow(row: ThresholdRow, c: Calibration): string {
  const notes: string[] = [];
  if (row.threshold === c.recommendation.threshold) notes.push("recommended");
  if (row.threshold === c.eer.threshold) notes.push("EER");
  if (row.threshold === DIDIT_DEFAULT_THRESHOLD) notes.push("Didit default");
  const cls = row.threshold === c.recommendation.threshold ? ' class="rec"' : "";
  return `<tr${cls}><th>${row.threshold}${notes.length ? `<br><small>${notes.join(", ")}</small>` : ""}</th>${cell(row.bpcer)}${c.attack_types.map((t) => cell(row.apcer_pais[t])).join("")}${cell(row.apcer)}</tr>`;
}

/** An attack type's colour: never BPCER's or the worst type's (the first two). */
const typeColor = (i: number) => PALETTE[2 + (i % (PALETTE.length - 2))] as string;

export function renderCharts(c: Calibration): { rates: string; tradeoff: string; histogram: string } {
  return { rates: ratesChart(c), tradeoff: tradeoffChart(c), histogram: scoreHistogram(c) };
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** BPCER, the worst APCER and each type's APCER against the threshold, with the default, EER and recommendation. */
function ratesChart(c: Calibration): string {
  const series: Series[] = [
    {
      name: "BPCER (real people declined)",
      color: PALETTE[0] as string,
      points: c.rows.map((r) => [r.threshold, r.bpcer.rate]),
      width: 3,
    },
    // A wide pale band under the types' lines: a type with the worst values still shows, in its own colour, on top.
    {
      name: "APCER, worst type",
      color: PALETTE[1] as string,
      points: c.rows.map((r) => [r.threshold, r.apcer.rate]),
      width: 9,
      opacity: 0.3,
    },
    ...c.attack_types.map((t, i) => ({
      name: `APCER ${t}`,
      color: typeColor(i),
      dashed: true,
      width: 2,
      points: c.rows.map((r) => [r.threshold, r.apcer_pais[t]?.rate ?? 0] as const),
    })),
  ];
  const markers = [
    { x: DIDIT_DEFAULT_THRESHOLD, label: "Didit default 30", color: "#777" },
    { x: c.eer.threshold, label: `EER ${percent(c.eer.rate)}`, color: "#555" },
    ...(c.recommendation.threshold !== null
      ? [{ x: c.recommendation.threshold, label: `recommended ${c.recommendation.threshold}`, color: "#000" }]
      : []),
  ];
  return lineChart(
    {
      width: 720,
      height: 380,
      title: "Error rates by decline threshold",
      xLabel: "decline threshold (declined when score <= threshold)",
      yLabel: "error rate",
      xDomain: [0, 100],
      yDomain: [0, 1],
      xTicks: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
      yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1],
      formatY: pct,
    },
    series,
    markers,
  );
}

/** BPCER against the worst APCER over the thresholds, the recommendation marked. */
function tradeoffChart(c: Calibration): string {
  const rec = c.recommendation.threshold !== null ? c.rows[c.recommendation.threshold] : undefined;
  return lineChart(
    {
      width: 420,
      height: 380,
      title: "Error trade-off (DET, linear axes)",
      xLabel: "APCER, worst type",
      yLabel: "BPCER",
      xDomain: [0, 1],
      yDomain: [0, 1],
      xTicks: [0, 0.2, 0.4, 0.6, 0.8, 1],
      yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1],
      formatX: pct,
      formatY: pct,
    },
    [
      {
        name: "thresholds 0-100",
        color: PALETTE[0] as string,
        points: c.rows.map((r) => [r.apcer.rate, r.bpcer.rate]),
        width: 3,
      },
      {
        name: "EER line",
        color: "#bbb",
        dashed: true,
        width: 1,
        points: [
          [0, 0],
          [1, 1],
        ],
      },
    ],
    rec ? [{ x: rec.apcer.rate, y: rec.bpcer.rate, label: `t=${rec.threshold}`, color: "#000" }] : [],
  );
}

function scoreHistogram(c: Calibration): string {
  return histogram(
    {
      width: 720,
      height: 340,
      title: "Score distribution per class (share of each class)",
      xLabel: "score (0-100)",
      yLabel: "share of class",
    },
    c.histograms.bin_width,
    [
      {
        name: `bona fide (${c.counts.bona_fide})`,
        color: PALETTE[0] as string,
        counts: c.histograms.bona_fide,
      },
      ...c.attack_types.map((t, i) => ({
        name: `${t} (${c.counts.by_attack_type[t]})`,
        color: typeColor(i),
        counts: c.histograms.by_attack_type[t] ?? [],
      })),
    ],
  );
}

export function renderReport(c: Calibration, ctx: ReportContext): string {
  const charts = renderCharts(c);
  const e = escapeXml;
  const target = `${c.target.kind === "bpcer" ? "BPCER" : "APCER"} at most ${percent(c.target.value)}`;
  const keyRows = keyThresholds(c)
    .map((t) => c.rows[t])
    .filter((r): r is ThresholdRow => r !== undefined)
    .map((r) => tableRow(r, c))
    .join("");
  const bpcerAt = c.bpcer_at_apcer
    .map(
      (p) =>
        `<li>${e(p.iso_name)} (BPCER at APCER &le; ${percent(p.apcer_target)}): <b>${percent(p.bpcer.rate)}</b> at threshold ${p.threshold}</li>`,
    )
    .join("");
  const apcerAt = c.apcer_at_bpcer
    .map((p) =>
      "apcer" in p
        ? `<li>APCER at BPCER &le; ${percent(p.bpcer_target)}: <b>${percent(p.apcer.rate)}</b> at threshold ${p.threshold}</li>`
        : `<li>APCER at BPCER &le; ${percent(p.bpcer_target)}: no threshold reaches it</li>`,
    )
    .join("");
  const inputs = inputParts(ctx.inputs)
    .map(([what, where]) => `${e(what)} <code>${e(where)}</code>`)
    .join("; ");
  const duplicates =
    ctx.duplicates.length === 0
      ? ""
      : `<h2>Duplicates</h2>
<p>${ctx.duplicates.length} byte-identical file(s) counted once (each image is one sample):</p><ul>${ctx.duplicates
          .map((d) => `<li>${e(d.input)}: the same bytes as ${e(d.same_as)}</li>`)
          .join("")}</ul>
`;
  const excluded =
    ctx.excluded.length === 0
      ? "<p>Every image was scored.</p>"
      : `<p>${ctx.excluded.length} image(s) had no score and are left out of the rates:</p><ul>${ctx.excluded
          .map((x) => `<li>${e(x.input)} (${e(x.label)}): ${e(x.reason)}</li>`)
          .join("")}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Liveness threshold calibration</title>
<style>
body{font-family:sans-serif;margin:24px;color:#111;max-width:1180px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}
tr.rec{background:#fff6d5}.charts{display:flex;flex-wrap:wrap;gap:16px}.rec-box{border:2px solid #000;padding:8px 12px;margin:12px 0}
small{color:#555}
</style></head><body>
<h1>Liveness threshold calibration</h1>
<p>Tool: <b>${e(ctx.tool)}</b> · engine: <b>${ctx.engine === "didit" ? "Didit Passive Liveness API (score)" : "local pre-check (spoof_estimate, advisory)"}</b> · generated ${e(ctx.generatedAt)} · target: ${e(target)}</p>
<p>Inputs: ${inputs}</p>
<p>Data set: <b>${c.counts.bona_fide}</b> bona fide, <b>${c.counts.attack}</b> attacks (${c.attack_types.map((t) => `${e(t)}: ${c.counts.by_attack_type[t]}`).join(", ")})${ctx.duplicates.length > 0 ? `; ${ctx.duplicates.length} byte-identical file(s) counted once (listed below)` : ""}.</p>
<div class="rec-box"><b>Recommendation</b>: ${c.recommendation.threshold === null ? "" : `set <code>face_liveness_score_decline_threshold</code> to <b>${c.recommendation.threshold}</b>. `}${e(c.recommendation.sentence)}.</div>
<p><small>${e(c.semantics)} Rates are ISO/IEC 30107-3's: BPCER (bona fide presentations declined), APCER per attack type (APCER_PAIS) and the worst type. Intervals are Wilson 95%.</small></p>
<div class="charts">${charts.rates}${charts.tradeoff}</div>
<h2>Key figures</h2>
<ul><li>Equal-error rate: <b>${percent(c.eer.rate)}</b> at threshold ${c.eer.threshold} (BPCER ${percent(c.eer.bpcer)}, APCER ${percent(c.eer.apcer)})</li>${bpcerAt}${apcerAt}</ul>
<h2>At key thresholds</h2>
<table><thead><tr><th>threshold</th><th>BPCER</th>${c.attack_types.map((t) => `<th>APCER ${e(t)}</th>`).join("")}<th>APCER (worst)</th></tr></thead><tbody>${keyRows}</tbody></table>
<h2>Score distributions</h2>
<div class="charts">${charts.histogram}</div>
<h2>Statistical power</h2>
<ul>${c.power_notes.map((n) => `<li>${e(n)}</li>`).join("")}</ul>
${duplicates}<h2>Excluded images</h2>
${excluded}
</body></html>
`;
}
