import { describe, expect, it } from "vitest";
import {
  computeCalibration,
  type ScoredSample,
  wilson,
  zeroErrorBound,
} from "../../src/cli/calibrate/metrics.js";
import { ToolFailure } from "../../src/core/errors.js";

const bf = (score: number): ScoredSample => ({ score, label: "bona_fide" });
const atk = (attackType: string, score: number): ScoredSample => ({ score, label: "attack", attackType });

/*
 * The worked example (Didit declines when score <= t):
 *   bona fide  10 35 60 80 95        -> BPCER(t) = #{score <= t} / 5
 *   print      5 20 40               -> APCER_print(t)  = #{score > t} / 3
 *   screen     15 25 30 70           -> APCER_screen(t) = #{score > t} / 4
 *
 *   t        BPCER   print   screen   APCER=max   |BPCER-APCER|
 *   0-4      0       3/3     4/4      1           1
 *   5-9      0       2/3     4/4      1           1
 *   10-14    1/5     2/3     4/4      1           0.8
 *   15-19    1/5     2/3     3/4      3/4         0.55
 *   20-24    1/5     1/3     3/4      3/4         0.55
 *   25-29    1/5     1/3     2/4      2/4         0.3
 *   30-34    1/5     1/3     1/4      1/3         0.1333
 *   35-39    2/5     1/3     1/4      1/3         0.0667   <- smallest gap: EER at 35 = (2/5 + 1/3) / 2 = 11/30
 *   40-59    2/5     0       1/4      1/4         0.15
 *   60-69    3/5     0       1/4      1/4         0.35
 *   70-79    3/5     0       0        0           0.6
 *   80-94    4/5     0       0        0
 *   95-100   1       0       0        0
 *
 * BPCER10 (APCER <= 10%): lowest t with APCER <= 0.1 is 70, BPCER 3/5. BPCER20 and BPCER100 likewise (APCER 0 at 70).
 * APCER at BPCER <= 10%: highest t with BPCER <= 0.1 is 9, APCER 1. At BPCER <= 1% and 5%: also 9.
 * Target BPCER 0.2: highest t with BPCER <= 0.2 is 34 (APCER 1/3, print). Target APCER 0.25: lowest t is 40 (BPCER 2/5).
 */
const EXAMPLE: ScoredSample[] = [
  ...[10, 35, 60, 80, 95].map(bf),
  ...[5, 20, 40].map((s) => atk("print", s)),
  ...[15, 25, 30, 70].map((s) => atk("screen", s)),
];

describe("computeCalibration on a hand-worked set", () => {
  const c = computeCalibration(EXAMPLE, { kind: "bpcer", value: 0.2 });
  const row = (t: number) => c.rows[t];

  it("counts each class and type", () => {
    expect(c.counts).toEqual({ bona_fide: 5, attack: 7, by_attack_type: { print: 3, screen: 4 } });
    expect(c.attack_types).toEqual(["print", "screen"]);
    expect(c.rows).toHaveLength(101);
  });

  it("BPCER counts score <= t, APCER counts score > t, the overall APCER is the worst type", () => {
    const expected: [number, number, number, number, number, string][] = [
      // t, BPCER errors, print accepted, screen accepted, APCER, worst type
      [0, 0, 3, 4, 1, "print"],
      [9, 0, 2, 4, 1, "screen"],
      [10, 1, 2, 4, 1, "screen"],
      [15, 1, 2, 3, 3 / 4, "screen"],
      [20, 1, 1, 3, 3 / 4, "screen"],
      [25, 1, 1, 2, 2 / 4, "screen"],
      [30, 1, 1, 1, 1 / 3, "print"],
      [35, 2, 1, 1, 1 / 3, "print"],
      [40, 2, 0, 1, 1 / 4, "screen"],
      [69, 3, 0, 1, 1 / 4, "screen"],
      [70, 3, 0, 0, 0, "print"],
      [95, 5, 0, 0, 0, "print"],
      [100, 5, 0, 0, 0, "print"],
    ];
    for (const [t, bErr, pAcc, sAcc, apcer, worst] of expected) {
      const r = row(t);
      expect(r?.bpcer.errors, `BPCER errors at ${t}`).toBe(bErr);
      expect(r?.bpcer.rate).toBe(bErr / 5);
      expect(r?.apcer_pais.print?.errors, `print at ${t}`).toBe(pAcc);
      expect(r?.apcer_pais.screen?.errors, `screen at ${t}`).toBe(sAcc);
      expect(r?.apcer.rate, `APCER at ${t}`).toBe(apcer);
      expect(r?.apcer.attack_type, `worst at ${t}`).toBe(worst);
    }
  });

  it("EER is at the smallest |BPCER - APCER| gap, the mean of the two there", () => {
    expect(c.eer).toEqual({ threshold: 35, rate: (2 / 5 + 1 / 3) / 2, bpcer: 2 / 5, apcer: 1 / 3 });
    expect(c.eer.rate).toBeCloseTo(11 / 30, 15);
  });

  it("BPCER at APCER 1/5/10% (BPCER100/20/10) and APCER at BPCER 1/5/10%", () => {
    expect(c.bpcer_at_apcer.map((p) => [p.iso_name, p.threshold, p.bpcer.rate])).toEqual([
      ["BPCER100", 70, 3 / 5],
      ["BPCER20", 70, 3 / 5],
      ["BPCER10", 70, 3 / 5],
    ]);
    expect(
      c.apcer_at_bpcer.map((p) => [p.bpcer_target, p.threshold, "apcer" in p ? p.apcer.rate : null]),
    ).toEqual([
      [0.01, 9, 1],
      [0.05, 9, 1],
      [0.1, 9, 1],
    ]);
  });

  it("recommends the highest threshold within a BPCER target, the lowest within an APCER target", () => {
    expect(c.recommendation.threshold).toBe(34);
    expect(c.recommendation.sentence).toBe(
      "at 34: 1 of 5 real people declined (20.0%, CI 3.6-62.4%); print 1/3, screen 1/4 accepted (worst APCER 33.3%, CI 6.1-79.2%)",
    );
    const byApcer = computeCalibration(EXAMPLE, { kind: "apcer", value: 0.25 });
    expect(byApcer.recommendation.threshold).toBe(40);
    expect("bpcer" in byApcer.recommendation && byApcer.recommendation.bpcer.errors).toBe(2);
  });

  it("bins scores per class by tens (100 goes in the last bin)", () => {
    expect(c.histograms.bona_fide).toEqual([0, 1, 0, 1, 0, 0, 1, 0, 1, 1]);
    expect(c.histograms.by_attack_type.screen).toEqual([0, 1, 1, 1, 0, 0, 0, 1, 0, 0]);
    const top = computeCalibration([bf(100), atk("print", 0)], { kind: "bpcer", value: 0.05 });
    expect(top.histograms.bona_fide[9]).toBe(1);
  });
});

describe("wilson", () => {
  it("matches published 95% intervals", () => {
    // 5/10: 0.2366-0.7634; 0/10 upper z²/(n+z²) = 3.8415/13.8415; 3/300: 0.0034-0.0290 (the "0.3-2.9%").
    const [lo5, hi5] = wilson(5, 10);
    expect(lo5).toBeCloseTo(0.2366, 4);
    expect(hi5).toBeCloseTo(0.7634, 4);
    expect(wilson(0, 10)).toEqual([0, expect.closeTo(0.2775, 4)]);
    expect(wilson(10, 10)).toEqual([expect.closeTo(0.7225, 4), 1]);
    const [lo, hi] = wilson(3, 300);
    expect(lo).toBeCloseTo(0.0034, 4);
    expect(hi).toBeCloseTo(0.029, 4);
  });

  it("bounds zero errors in 19 attacks below 17%, as the power note says", () => {
    expect(zeroErrorBound(19)).toBeCloseTo(0.1682, 4);
    const c = computeCalibration([bf(90), ...Array.from({ length: 19 }, () => atk("print", 5))], {
      kind: "bpcer",
      value: 0.05,
    });
    expect(c.power_notes).toContain("with 19 attacks, an APCER of 0% only bounds the true rate below 16.8%");
  });

  it("refuses impossible counts", () => {
    expect(() => wilson(1, 0)).toThrow(RangeError);
    expect(() => wilson(3, 2)).toThrow(RangeError);
  });
});

describe("edge cases", () => {
  it("all-equal scores: a step at the shared score, EER 50% at threshold 0", () => {
    const c = computeCalibration([bf(50), bf(50), atk("print", 50)], { kind: "bpcer", value: 0.05 });
    expect(c.rows[49]?.bpcer.rate).toBe(0);
    expect(c.rows[49]?.apcer.rate).toBe(1);
    expect(c.rows[50]?.bpcer.rate).toBe(1);
    expect(c.rows[50]?.apcer.rate).toBe(0);
    expect(c.eer).toEqual({ threshold: 0, rate: 0.5, bpcer: 0, apcer: 1 });
    expect(c.recommendation.threshold).toBe(49);
  });

  it("says so when no threshold meets a BPCER target", () => {
    const c = computeCalibration([bf(0), bf(60), atk("print", 10)], { kind: "bpcer", value: 0.1 });
    expect(c.recommendation.threshold).toBeNull();
    expect(c.recommendation.sentence).toMatch(/No threshold from 0 to 100 keeps BPCER at or below 10\.0%/);
    expect(c.apcer_at_bpcer[0]).toEqual({ bpcer_target: 0.01, threshold: null });
  });

  it.each([
    ["no bona fide", [atk("print", 10)], [], /bona fide/],
    ["no attacks", [bf(90)], [], /attack image/],
    ["an asked-for type with no attacks", [bf(90), atk("print", 10)], ["print", "mask"], /type "mask"/],
  ])("an empty class is a clear invalid_input: %s", (_, samples, types, message) => {
    let thrown: unknown;
    try {
      computeCalibration(samples, { kind: "bpcer", value: 0.05 }, types);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ToolFailure);
    expect((thrown as ToolFailure).code).toBe("invalid_input");
    expect((thrown as ToolFailure).message).toMatch(message);
  });

  it("refuses scores outside 0-100 and targets outside 0-1", () => {
    expect(() => computeCalibration([bf(101), atk("p", 1)], { kind: "bpcer", value: 0.05 })).toThrow(
      RangeError,
    );
    expect(() => computeCalibration([bf(50), atk("p", 1)], { kind: "apcer", value: 5 })).toThrow(/fraction/);
  });
});
