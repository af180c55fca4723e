/**
 * Plain inline-SVG charts for the calibration report: a line chart and a grouped histogram. No dependency, no script,
 * nothing fetched when the file is viewed. Every text that reaches the markup goes through escapeXml.
 */

export const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export interface Series {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
  width?: number;
  /** Below 1 for a band that lines drawn after it show through. */
  opacity?: number;
}

export interface Marker {
  /** A vertical line at this x (line chart) or a dot at [x, y]. */
  x: number;
  y?: number;
  label: string;
  color: string;
}

export interface Frame {
  width: number;
  height: number;
  title: string;
  xLabel: string;
  yLabel: string;
  xDomain: readonly [number, number];
  yDomain: readonly [number, number];
  xTicks: readonly number[];
  yTicks: readonly number[];
  formatX?: (v: number) => string;
  formatY?: (v: number) => string;
}

const MARGIN = { left: 56, right: 16, top: 28, bottom: 64 };

/** Maps data coordinates to pixels inside the frame's plot area (y grows upwards). */
export function scaler(frame: Frame): { x: (v: number) => number; y: (v: number) => number } {
  const [x0, x1] = frame.xDomain;
  const [y0, y1] = frame.yDomain;
  const w = frame.width - MARGIN.left - MARGIN.right;
  const h = frame.height - MARGIN.top - MARGIN.bottom;
  return {
    x: (v) => round(MARGIN.left + ((v - x0) / (x1 - x0)) * w),
    y: (v) => round(MARGIN.top + h - ((v - y0) / (y1 - y0)) * h),
  };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

function axes(frame: Frame): string {
  const s = scaler(frame);
  const fx = frame.formatX ?? String;
  const fy = frame.formatY ?? String;
  const [x0, x1] = frame.xDomain;
  const [y0, y1] = frame.yDomain;
  const parts = [
    `<rect x="0" y="0" width="${frame.width}" height="${frame.height}" fill="#fff"/>`,
    `<text x="${frame.width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(frame.title)}</text>`,
  ];
  for (const t of frame.yTicks) {
    parts.push(
      `<line x1="${s.x(x0)}" x2="${s.x(x1)}" y1="${s.y(t)}" y2="${s.y(t)}" stroke="#e5e5e5"/>`,
      `<text x="${s.x(x0) - 6}" y="${s.y(t) + 4}" text-anchor="end" font-size="11">${escapeXml(fy(t))}</text>`,
    );
  }
  for (const t of frame.xTicks) {
    parts.push(
      `<line x1="${s.x(t)}" x2="${s.x(t)}" y1="${s.y(y0)}" y2="${s.y(y0) + 4}" stroke="#333"/>`,
      `<text x="${s.x(t)}" y="${s.y(y0) + 16}" text-anchor="middle" font-size="11">${escapeXml(fx(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${s.x(x0)}" x2="${s.x(x1)}" y1="${s.y(y0)}" y2="${s.y(y0)}" stroke="#333"/>`,
    `<line x1="${s.x(x0)}" x2="${s.x(x0)}" y1="${s.y(y0)}" y2="${s.y(y1)}" stroke="#333"/>`,
    `<text x="${(s.x(x0) + s.x(x1)) / 2}" y="${s.y(y0) + 32}" text-anchor="middle" font-size="12">${escapeXml(frame.xLabel)}</text>`,
    `<text transform="translate(14 ${(s.y(y0) + s.y(y1)) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(frame.yLabel)}</text>`,
  );
  return parts.join("");
}

function legend(
  frame: Frame,
  entries: readonly { name: string; color: string; dashed?: boolean; opacity?: number }[],
): string {
  let x = MARGIN.left;
  const y = frame.height - 12;
  return entries
    .map((e) => {
      const item = `<g><line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${escapeXml(e.color)}" stroke-width="3"${e.opacity === undefined ? "" : ` stroke-opacity="${e.opacity}"`}${e.dashed ? ' stroke-dasharray="5 3"' : ""}/><text x="${x + 22}" y="${y}" font-size="11">${escapeXml(e.name)}</text></g>`;
      x += 30 + e.name.length * 6.5;
      return item;
    })
    .join("");
}

function open(frame: Frame, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeXml(label)}" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}" font-family="sans-serif">`;
}

/** Lines over a frame, with optional vertical markers (x only) or dots (x and y). */
export function lineChart(frame: Frame, series: readonly Series[], markers: readonly Marker[] = []): string {
  const s = scaler(frame);
  const [y0, y1] = frame.yDomain;
  const lines = series.map((line) => {
    const pts = line.points.map(([x, y]) => `${s.x(x)},${s.y(y)}`).join(" ");
    return `<polyline data-series="${escapeXml(line.name)}" fill="none" stroke="${escapeXml(line.color)}" stroke-width="${line.width ?? 2}"${line.opacity === undefined ? "" : ` stroke-opacity="${line.opacity}"`}${line.dashed ? ' stroke-dasharray="5 3"' : ""} points="${pts}"/>`;
  });
  // Vertical markers' labels go one line lower each, so markers a few units apart stay readable.
  const marks = markers.map((m, i) =>
    m.y === undefined
      ? `<g><line x1="${s.x(m.x)}" x2="${s.x(m.x)}" y1="${s.y(y0)}" y2="${s.y(y1)}" stroke="${escapeXml(m.color)}" stroke-dasharray="2 3"/><text x="${s.x(m.x) + 3}" y="${s.y(y1) + 12 + 13 * i}" font-size="11" fill="${escapeXml(m.color)}" paint-order="stroke" stroke="#fff" stroke-width="3">${escapeXml(m.label)}</text></g>`
      : `<g><circle cx="${s.x(m.x)}" cy="${s.y(m.y)}" r="5" fill="${escapeXml(m.color)}"/><text x="${s.x(m.x) + 8}" y="${s.y(m.y) - 6}" font-size="11" fill="${escapeXml(m.color)}">${escapeXml(m.label)}</text></g>`,
  );
  return `${open(frame, frame.title)}${axes(frame)}${lines.join("")}${marks.join("")}${legend(frame, series)}</svg>`;
}

/** Grouped bars: one group per bin, one bar per class (counts normalised to each class's share of its total). */
export function histogram(
  frame: Omit<Frame, "xDomain" | "yDomain" | "xTicks" | "yTicks">,
  binWidth: number,
  classes: readonly { name: string; color: string; counts: readonly number[] }[],
): string {
  const bins = classes[0]?.counts.length ?? 0;
  const shares = classes.map((c) => {
    const total = c.counts.reduce((a, b) => a + b, 0);
    return c.counts.map((n) => (total === 0 ? 0 : n / total));
  });
  const top = Math.max(0.1, ...shares.flat());
  const yMax = Math.ceil(top * 10) / 10;
  const full: Frame = {
    ...frame,
    xDomain: [0, bins * binWidth],
    yDomain: [0, yMax],
    xTicks: Array.from({ length: bins + 1 }, (_, i) => i * binWidth),
    yTicks: Array.from({ length: Math.round(yMax * 10) + 1 }, (_, i) => i / 10),
    formatY: (v) => `${Math.round(v * 100)}%`,
  };
  const s = scaler(full);
  const slot = (s.x(binWidth) - s.x(0)) / (classes.length + 1);
  const bars: string[] = [];
  classes.forEach((c, ci) => {
    (shares[ci] ?? []).forEach((share, bin) => {
      if (share === 0) return;
      const x = round(s.x(bin * binWidth) + slot * (ci + 0.5));
      const y = s.y(share);
      bars.push(
        `<rect data-class="${escapeXml(c.name)}" x="${x}" y="${y}" width="${round(slot)}" height="${round(s.y(0) - y)}" fill="${escapeXml(c.color)}"><title>${escapeXml(`${c.name}: ${c.counts[bin]} in ${bin * binWidth}-${(bin + 1) * binWidth}`)}</title></rect>`,
      );
    });
  });
  return `${open(full, full.title)}${axes(full)}${bars.join("")}${legend(full, classes)}</svg>`;
}
