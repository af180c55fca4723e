import { describe, expect, it } from "vitest";
import { readCsv } from "../../src/cli/batch/batch-output.js";
import { computeCalibration, type ScoredSample } from "../../src/cli/calibrate/metrics.js";
import { keyThresholds, renderCharts, renderReport } from "../../src/cli/calibrate/report.js";
import { parseAttackArg, parseScoreRows } from "../../src/cli/calibrate/run.js";
import { escapeXml, histogram, lineChart, scaler } from "../../src/cli/calibrate/svg.js";

const frame = {
  width: 200,
  height: 150,
  title: "t",
  xLabel: "x",
  yLabel: "y",
  xDomain: [0, 100] as const,
  yDomain: [0, 1] as const,
  xTicks: [0, 50, 100],
  yTicks: [0, 1],
};

describe("svg charts", () => {
  it("maps data to the plot area (margins 56/16/28/64, y up)", () => {
    const s = scaler(frame);
    expect([s.x(0), s.x(100), s.y(0), s.y(1)]).toEqual([56, 184, 86, 28]);
    const svg = lineChart(frame, [
      {
        name: "a",
        color: "#000",
        points: [
          [0, 0],
          [50, 0.5],
          [100, 1],
        ],
      },
    ]);
    expect(svg).toContain('points="56,86 120,57 184,28"');
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.endsWith("</svg>")).toBe(true);
  });

  it("escapes every label that reaches the markup", () => {
    const evil = `<script>alert("x")</script>&'`;
    const svg = lineChart(
      { ...frame, title: evil },
      [{ name: evil, color: "#000", points: [[0, 0]] }],
      [{ x: 10, label: evil, color: "#000" }],
    );
    expect(svg).not.toContain("<script>");
    expect(svg).toContain(escapeXml(evil));
    const bars = histogram({ ...frame }, 50, [{ name: evil, color: "#111", counts: [1, 3] }]);
    expect(bars).not.toContain("<script>");
  });

  it("draws one bar per non-empty bin, height proportional to the class share", () => {
    const bars = histogram({ ...frame }, 50, [
      { name: "a", color: "#111", counts: [1, 3] },
      { name: "b", color: "#222", counts: [0, 2] },
    ]);
    expect(bars.match(/<rect data-class=/g)).toHaveLength(3);
    // a: 25% and 75% of the class; b: 100% in the second bin. y domain 0-1, plot 58 px high.
    expect(bars).toMatch(/data-class="b"[^>]* y="28" [^>]*height="58"/);
    expect(bars).toMatch(/data-class="a"[^>]* y="42.5" [^>]*height="43.5"/);
  });
});

describe("renderReport", () => {
  const samples: ScoredSample[] = [
    { score: 80, label: "bona_fide" },
    { score: 90, label: "bona_fide" },
    { score: 20, label: "attack", attackType: "<print>" },
  ];
  const c = computeCalibration(samples, { kind: "bpcer", value: 0.05 });
  const html = renderReport(c, {
    engine: "didit",
    tool: "didit-passive-liveness-mcp 9.9.9",
    inputs: {
      bona_fide: ["/data/<img onerror=alert(1)>/live"],
      attack: [{ dir: "/data/'\"print", type: "<print>" }],
      scores: "/data/<s>.jsonl",
    },
    generatedAt: "2026-01-01T00:00:00Z",
    duplicates: [{ input: "a/<c>.jpg", same_as: "a/<d>.jpg" }],
    excluded: [{ input: "a/<b>.jpg", label: "bona fide", reason: "no face" }],
  });

  it("is self-contained: no script, no external reference, a CSP that forbids fetching", () => {
    expect(html).not.toMatch(/<script|(src|href)\s*=|url\(|@import/i);
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<svg /g)).toHaveLength(3);
  });

  it("shows the recommendation, counts, power notes and escapes names", () => {
    expect(html).toContain(`to <b>${c.recommendation.threshold}</b>`);
    expect(html).toContain("<b>2</b> bona fide");
    expect(html).toContain("bounds the true rate below");
    expect(html).toContain("&lt;print&gt;");
    expect(html).toContain("a/&lt;b&gt;.jpg");
    expect(html).not.toContain("<print>");
  });

  it("names the tool version, the inputs and the duplicates left out, every path escaped", () => {
    expect(html).toContain("Tool: <b>didit-passive-liveness-mcp 9.9.9</b>");
    expect(html).toContain("bona fide <code>/data/&lt;img onerror=alert(1)&gt;/live</code>");
    expect(html).toContain("&lt;print&gt; <code>/data/&#39;&quot;print</code>");
    expect(html).toContain("scores <code>/data/&lt;s&gt;.jsonl</code>");
    expect(html).toContain("1 byte-identical file(s) counted once");
    expect(html).toContain("a/&lt;c&gt;.jpg: the same bytes as a/&lt;d&gt;.jpg");
    expect(html).not.toMatch(/<img|<s>|<c>|<d>/);
  });

  it("draws a type whose APCER equals the worst type's above the worst-type line, in a colour of its own", () => {
    // One type: its APCER is the worst at every threshold. Eight types: the palette wraps.
    const many: ScoredSample[] = [
      { score: 80, label: "bona_fide" },
      ...Array.from({ length: 8 }, (_, i) => ({
        score: 10 * i,
        label: "attack" as const,
        attackType: `t${i}`,
      })),
    ];
    for (const set of [samples, many]) {
      const svg = renderCharts(computeCalibration(set, { kind: "bpcer", value: 0.05 })).rates;
      const lines = [
        ...svg.matchAll(
          /<polyline data-series="([^"]+)"[^>]*stroke="([^"]+)" stroke-width="([\d.]+)"([^>]*)/g,
        ),
      ];
      const worst = lines.findIndex((l) => l[1] === "APCER, worst type");
      const types = lines.filter((l) => l[1]?.startsWith("APCER ") && l[1] !== "APCER, worst type");
      expect(types.length).toBeGreaterThan(0);
      for (const t of types) {
        expect(lines.indexOf(t)).toBeGreaterThan(worst); // drawn after: on top
        expect(t[2]).not.toBe(lines[worst]?.[2]); // not the worst line's colour
        expect(t[2]).not.toBe(lines[0]?.[2]); // nor BPCER's
      }
      // The worst line lets what is drawn over it show: a see-through band, not an opaque stroke.
      expect(lines[worst]?.[4]).toMatch(/stroke-opacity="0\.\d+"/);
    }
  });

  it("tables every tenth threshold plus the recommendation and the EER", () => {
    const keys = keyThresholds(c);
    expect(keys).toEqual(expect.arrayContaining([0, 30, 100, c.eer.threshold, c.recommendation.threshold]));
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
  });
});

describe("calibrate inputs", () => {
  it("reads DIR=TYPE, else names the type after the folder", () => {
    expect(parseAttackArg("/data/p=print")).toEqual({ dir: "/data/p", type: "print" });
    expect(parseAttackArg("/data/screens")).toEqual({ dir: "/data/screens", type: "screens" });
    expect(parseAttackArg("/data/a=b/masks")).toEqual({ dir: "/data/a=b/masks", type: "masks" });
  });

  // Was splitCsvLine's test: the manifest now goes through the one CSV reader.
  it("splits CSV lines with quotes", () => {
    expect(readCsv('"a, b.jpg",attack,"print ""A4"""')[0]?.record).toEqual([
      "a, b.jpg",
      "attack",
      'print "A4"',
    ]);
  });

  it("takes scores from finished batch rows only (null = no face), skipping failed and cut lines", () => {
    const sha = (c: string) => c.repeat(64);
    const rows = parseScoreRows(
      [
        JSON.stringify({ input: "a", sha256: sha("a"), ok: true, result: { score: 42.5 } }),
        JSON.stringify({ input: "b", sha256: sha("b"), ok: true, result: { score: null } }),
        JSON.stringify({ input: "c", sha256: sha("c"), ok: false, error: { code: "timeout" } }),
        JSON.stringify({ input: "d", sha256: sha("d"), ok: true, result: { score: 140 } }),
        '{"input":"e","sha2',
      ].join("\n"),
    );
    expect([...rows]).toEqual([
      [sha("a"), 42.5],
      [sha("b"), null],
    ]);
  });
});
