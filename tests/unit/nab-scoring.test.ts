import { describe, expect, it } from "vitest";

import type { NabProfile } from "@/lib/nab/dataset";
import {
  probationRows,
  scaledSigmoid,
  scoreByCategory,
  scoreDetector,
  type ScoredFile,
} from "@/lib/nab/scoring";

// Hand-computed NAB scores on small files. Unless a case states otherwise, a
// file has 40 rows, so probation is floor(0.15 * 40) = 6 rows (0..5), and
// one window covers rows 10..14 (width 5).
//
// Values of S(x) = 2 / (1 + e^(5x)) - 1 used below:
//   S(-1)   = 2 / (1 + e^-5)   - 1 = 0.9866143  (left edge of a window)
//   S(-0.6) = 2 / (1 + e^-3)   - 1 = 0.9051483
//   S(-0.2) = 2 / (1 + e^-1)   - 1 = 0.4621172
//   S(0.25) = 2 / (1 + e^1.25) - 1 = -0.5545997
//   S(0.5)  = 2 / (1 + e^2.5)  - 1 = -0.8482836
//   S(3)    = 2 / (1 + e^15)   - 1 = -0.9999994 (still the sigmoid at exactly 3)

const STANDARD: NabProfile = { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 };
const LOW_FN: NabProfile = { tpWeight: 1, fnWeight: 2, fpWeight: 0.11 };

const S = (x: number) => 2 / (1 + Math.exp(5 * x)) - 1;

/** Builds a file of `rows` zero scores with 1 at each row of `detections`. */
function file(
  detections: number[],
  windows: [number, number][] = [[10, 14]],
  rows = 40,
  category = "test",
  name = "a.csv",
): ScoredFile {
  const scores = new Array<number>(rows).fill(0);
  for (const row of detections) scores[row] = 1;
  return { category, name, scores, windows };
}

/** Scores with a fixed threshold of 0.5, so rows scored 1 are the detections. */
function fixed(files: ScoredFile[], profile = STANDARD) {
  return scoreDetector(files, profile, { threshold: 0.5 });
}

describe("scaledSigmoid and probation", () => {
  it("matches hand-computed values", () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866143, 7);
    expect(scaledSigmoid(-0.6)).toBeCloseTo(0.9051483, 7);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(0.25)).toBeCloseTo(-0.5545997, 7);
    expect(scaledSigmoid(3)).toBeCloseTo(-0.9999994, 7);
    expect(scaledSigmoid(3.0001)).toBe(-1);
  });

  it("skips 15% of rows, at most 750", () => {
    expect(probationRows(40)).toBe(6);
    expect(probationRows(4032)).toBe(604); // 0.15 * 4032 = 604.8
    expect(probationRows(5000)).toBe(750);
    expect(probationRows(20_000)).toBe(750);
  });
});

describe("scoreDetector windows", () => {
  it("gives full credit at the left edge", () => {
    // Row 10: x = -(14 - 10 + 1) / 5 = -1, so S(-1) / S(-1) = 1.
    const score = fixed([file([10])]);
    expect(score.raw).toBeCloseTo(1, 12);
    expect(score.truePositives).toBe(1);
    expect(score.falseNegatives).toBe(0);
    expect(score.falsePositives).toBe(0);
  });

  it("gives less credit in the middle", () => {
    // Row 12: x = -(14 - 12 + 1) / 5 = -0.6, so 0.9051483 / 0.9866143 = 0.9174287.
    const score = fixed([file([12])]);
    expect(score.raw).toBeCloseTo(0.9174287, 7);
    expect(score.raw).toBeCloseTo(S(-0.6) / S(-1), 12);
  });

  it("gives little credit at the right edge", () => {
    // Row 14: x = -(14 - 14 + 1) / 5 = -0.2, so 0.4621172 / 0.9866143 = 0.4683868.
    const score = fixed([file([14])]);
    expect(score.raw).toBeCloseTo(0.4683868, 7);
    expect(score.raw).toBeCloseTo(S(-0.2) / S(-1), 12);
  });

  it("counts only the earliest detection", () => {
    // Rows 12, 13 and 14 are all in the window, but only row 12 counts.
    const score = fixed([file([12, 13, 14])]);
    expect(score.raw).toBeCloseTo(S(-0.6) / S(-1), 12);
    expect(score.truePositives).toBe(1);
    expect(score.falsePositives).toBe(0);
  });

  it("costs fnWeight for a missed window", () => {
    const standard = fixed([file([])]);
    expect(standard.raw).toBe(-1);
    expect(standard.falseNegatives).toBe(1);
    expect(standard.truePositives).toBe(0);

    const lowFn = fixed([file([])], LOW_FN);
    expect(lowFn.raw).toBe(-2);
  });
});

describe("scoreDetector false positives", () => {
  it("costs fpWeight before any window", () => {
    // Row 7 has no earlier window: -0.11. The window is missed: -1.
    const score = fixed([file([7])]);
    expect(score.raw).toBeCloseTo(-1.11, 12);
    expect(score.falsePositives).toBe(1);
    expect(score.falseNegatives).toBe(1);
  });

  it("costs little right after a window", () => {
    // Row 15: d = 15 - 14 = 1, w - 1 = 4, x = 0.25:
    // 0.11 * -0.5545997 = -0.0610060. Plus the TP at row 10: 1.
    const score = fixed([file([10, 15])]);
    expect(score.raw).toBeCloseTo(1 - 0.061006, 6);
    expect(score.raw).toBeCloseTo(1 + 0.11 * S(0.25), 12);
  });

  it("costs the sigmoid at exactly 3 widths", () => {
    // Row 26: d = 12, x = 12 / 4 = 3, S(3) = -0.9999994, not yet -1.
    const score = fixed([file([10, 26])]);
    expect(score.raw).toBeCloseTo(1 + 0.11 * S(3), 12);
    expect(score.raw).not.toBe(1 - 0.11);
  });

  it("costs full fpWeight past 3 widths", () => {
    // Row 27: d = 13, x = 13 / 4 = 3.25 > 3, so S = -1: 1 - 0.11 = 0.89.
    const score = fixed([file([10, 27])]);
    expect(score.raw).toBeCloseTo(0.89, 12);
  });

  it("measures from the nearest earlier window", () => {
    // Windows 10..14 and 20..22 (width 3, w - 1 = 2). Row 23: d = 1,
    // x = 0.5, 0.11 * -0.8482836 = -0.0933112. Both windows are missed: -2.
    const score = fixed([file([23], [[10, 14], [20, 22]])]);
    expect(score.raw).toBeCloseTo(-2 - 0.0933112, 7);
    expect(score.raw).toBeCloseTo(-2 + 0.11 * S(0.5), 12);
    expect(score.falseNegatives).toBe(2);
  });
});

describe("scoreDetector probation", () => {
  it("ignores detections in probation rows", () => {
    // Rows 0..5 are probation: the detection at row 2 is no FP.
    const score = fixed([file([2, 10])]);
    expect(score.raw).toBeCloseTo(1, 12);
    expect(score.falsePositives).toBe(0);
  });

  it("scores a window that starts in probation", () => {
    // Window 4..8 (width 5). Row 4 is in probation and does not count.
    // Row 6 is the first scored row: x = -(8 - 6 + 1) / 5 = -0.6.
    const early = fixed([file([4], [[4, 8]])]);
    expect(early.raw).toBe(-1);
    expect(early.falseNegatives).toBe(1);

    const scored = fixed([file([4, 6], [[4, 8]])]);
    expect(scored.raw).toBeCloseTo(S(-0.6) / S(-1), 12);
    expect(scored.truePositives).toBe(1);
  });

  it("leaves a window inside probation out of null", () => {
    // Window 1..3 has no scored row: null counts only window 10..14 (-1),
    // perfect counts both (2). Row 10 is a TP (1), and nothing is charged
    // for window 1..3.
    const score = fixed([file([10], [[1, 3], [10, 14]])]);
    expect(score.nullScore).toBe(-1);
    expect(score.perfectScore).toBe(2);
    expect(score.raw).toBeCloseTo(1, 12);
    expect(score.falseNegatives).toBe(0);
    expect(score.truePositives).toBe(1);
    // 100 * (1 - -1) / (2 - -1) = 66.67
    expect(score.normalized).toBeCloseTo(200 / 3, 10);
  });
});

describe("scoreDetector threshold sweep", () => {
  it("keeps the higher threshold on a tie", () => {
    // Row 10 = 0.9, row 11 = 0.8, rest 0.
    //   no detections: -1
    //   T = 0.9: TP at row 10 = 1
    //   T = 0.8: row 11 is a later detection in the same window, still 1
    //   T = 0:   every scored row, with 29 FPs, far below 1
    const scored = file([]);
    scored.scores[10] = 0.9;
    scored.scores[11] = 0.8;
    const score = scoreDetector([scored], STANDARD);
    expect(score.threshold).toBe(0.9);
    expect(score.raw).toBeCloseTo(1, 12);
  });

  it("lowers the threshold for an earlier detection", () => {
    // Row 12 = 0.9, row 30 = 0.8 (FP, d = 16 > 3 widths), row 10 = 0.7.
    //   T = 0.9: 0.9174287
    //   T = 0.8: 0.9174287 - 0.11 = 0.8074287
    //   T = 0.7: row 10 now counts: 1 - 0.11 = 0.89
    // The best is T = 0.9.
    const scored = file([]);
    scored.scores[12] = 0.9;
    scored.scores[30] = 0.8;
    scored.scores[10] = 0.7;
    const best = scoreDetector([scored], STANDARD);
    expect(best.threshold).toBe(0.9);
    expect(best.raw).toBeCloseTo(S(-0.6) / S(-1), 12);

    // With the FP below row 10 instead (0.6), T = 0.7 gives 1 and wins.
    scored.scores[30] = 0.6;
    const lower = scoreDetector([scored], STANDARD);
    expect(lower.threshold).toBe(0.7);
    expect(lower.raw).toBeCloseTo(1, 12);
    expect(lower.falsePositives).toBe(0);
  });

  it("returns null when no detections is best", () => {
    // Only row 20 scores 1, an FP at d = 6, x = 1.5:
    //   T = 1: -1 + 0.11 * S(1.5) = -1.1099
    //   T = 0: TP at row 10 (1), 4 FPs before the window (-0.44) and 25
    //          after it (rows 15..39, sum of 0.11 * S(d / 4) = -2.6772): -2.1172
    // No detections (-1) is best.
    const score = scoreDetector([file([20])], STANDARD);
    expect(score.threshold).toBeNull();
    expect(score.raw).toBe(-1);
    expect(score.normalized).toBe(0);
    expect(score.falseNegatives).toBe(1);
    expect(score.falsePositives).toBe(0);
  });

  it("uses a fixed threshold when given", () => {
    // Row 10 = 0.4 and row 12 = 0.6: at T = 0.5 only row 12 is a detection.
    const scored = file([]);
    scored.scores[10] = 0.4;
    scored.scores[12] = 0.6;
    const score = scoreDetector([scored], STANDARD, { threshold: 0.5 });
    expect(score.threshold).toBe(0.5);
    expect(score.raw).toBeCloseTo(S(-0.6) / S(-1), 12);

    // T equal to a score counts that row (score >= T).
    const atScore = scoreDetector([scored], STANDARD, { threshold: 0.4 });
    expect(atScore.raw).toBeCloseTo(1, 12);
  });
});

describe("scoreDetector normalisation", () => {
  it("maps null to 0 and perfect to 100", () => {
    expect(fixed([file([])]).normalized).toBe(0);
    expect(fixed([file([10])]).normalized).toBeCloseTo(100, 10);
  });

  it("normalises between null and perfect", () => {
    // Standard: raw 0.9174287, null -1, perfect 1:
    //   100 * 1.9174287 / 2 = 95.871434
    const standard = fixed([file([12])]);
    expect(standard.nullScore).toBe(-1);
    expect(standard.perfectScore).toBe(1);
    expect(standard.normalized).toBeCloseTo(95.871434, 5);

    // Low FN rate: null -2, perfect 1: 100 * 2.9174287 / 3 = 97.247623
    const lowFn = fixed([file([12])], LOW_FN);
    expect(lowFn.nullScore).toBe(-2);
    expect(lowFn.normalized).toBeCloseTo(97.247623, 5);
  });

  it("returns null without windows", () => {
    // No windows: every detection is an FP, so no detections (0) is best.
    const scored = file([], []);
    scored.scores[20] = 0.9;
    const score = scoreDetector([scored], STANDARD);
    expect(score.normalized).toBeNull();
    expect(score.threshold).toBeNull();
    expect(score.raw).toBe(0);
    expect(score.nullScore).toBe(-0);
    expect(score.perfectScore).toBe(0);
  });
});

describe("scoreDetector on several files", () => {
  // File a: window 10..14, row 10 = 0.8.
  // File b: window 10..14, row 7 = 0.7 (FP before the window), row 10 = 0.6.
  // Sweep over both:
  //   no detections: -2
  //   T = 0.8: a's TP 1, b missed -1: 0
  //   T = 0.7: plus b's FP -0.11: -0.11
  //   T = 0.6: plus b's TP 1: 1.89
  //   T = 0:   adds 2 * 28 other FPs, far lower
  // Best T = 0.6, raw 1.89, null -2, perfect 2: 100 * 3.89 / 4 = 97.25.
  function twoFiles(): ScoredFile[] {
    const a = file([], [[10, 14]], 40, "first", "a.csv");
    a.scores[10] = 0.8;
    const b = file([], [[10, 14]], 40, "second", "b.csv");
    b.scores[7] = 0.7;
    b.scores[10] = 0.6;
    return [a, b];
  }

  it("sweeps one threshold over all files", () => {
    const score = scoreDetector(twoFiles(), STANDARD);
    expect(score.threshold).toBe(0.6);
    expect(score.raw).toBeCloseTo(1.89, 12);
    expect(score.nullScore).toBe(-2);
    expect(score.perfectScore).toBe(2);
    expect(score.normalized).toBeCloseTo(97.25, 10);
    expect(score.truePositives).toBe(2);
    expect(score.falsePositives).toBe(1);
    expect(score.falseNegatives).toBe(0);
  });

  it("sweeps each category on its own", () => {
    // Category first alone: T = 0.8, raw 1, normalized 100.
    // Category second alone: T = 0.6, raw 0.89, 100 * 1.89 / 2 = 94.5.
    const [result] = scoreByCategory(twoFiles(), { standard: STANDARD });
    expect(result!.profile).toBe("standard");
    expect(result!.overall.normalized).toBeCloseTo(97.25, 10);
    expect(Object.keys(result!.categories)).toEqual(["first", "second"]);
    expect(result!.categories.first!.threshold).toBe(0.8);
    expect(result!.categories.first!.normalized).toBeCloseTo(100, 10);
    expect(result!.categories.second!.threshold).toBe(0.6);
    expect(result!.categories.second!.normalized).toBeCloseTo(94.5, 10);
  });

  it("returns profiles in the given order", () => {
    const results = scoreByCategory(twoFiles(), {
      standard: STANDARD,
      reward_low_FN_rate: LOW_FN,
    });
    expect(results.map((result) => result.profile)).toEqual([
      "standard",
      "reward_low_FN_rate",
    ]);
    // Low FN rate at T = 0.6: raw 1.89, null -4, perfect 2: 100 * 5.89 / 6.
    expect(results[1]!.overall.normalized).toBeCloseTo(589 / 6, 10);
  });
});

describe("scoreDetector input checks", () => {
  it("rejects a NaN score", () => {
    const scored = file([]);
    scored.scores[3] = Number.NaN;
    expect(() => scoreDetector([scored], STANDARD)).toThrow(
      "test/a.csv: score of row 3 is NaN, not a number",
    );
  });

  it("rejects a window outside the rows", () => {
    expect(() => scoreDetector([file([], [[30, 40]])], STANDARD)).toThrow(
      /test\/a\.csv: window 0 \[30, 40\] is invalid/,
    );
  });

  it("rejects overlapping windows", () => {
    expect(() =>
      scoreDetector([file([], [[10, 14], [14, 20]])], STANDARD),
    ).toThrow(/window 1 \[14, 20\] is invalid/);
  });
});

describe("scoreDetector sweep speed and result", () => {
  /** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG). */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  function randomFiles(count: number, rows: number, seed: number): ScoredFile[] {
    const next = random(seed);
    return Array.from({ length: count }, (_, index) => {
      const scores = Array.from({ length: rows }, () =>
        // Coarse values so that many rows share a score.
        Math.round(next() * 50) / 50,
      );
      const width = Math.floor(rows / 10);
      const start = Math.floor(rows / 2);
      return {
        category: index % 2 === 0 ? "even" : "odd",
        name: `f${index}.csv`,
        scores,
        windows: [[start, start + width - 1]] as [number, number][],
      };
    });
  }

  it("matches the best fixed threshold", () => {
    const files = randomFiles(4, 200, 7);
    const swept = scoreDetector(files, STANDARD);

    // Brute force: every distinct score as a fixed threshold, plus none.
    const thresholds = [...new Set(files.flatMap((f) => f.scores))];
    let bestRaw = swept.nullScore;
    for (const threshold of thresholds) {
      const raw = scoreDetector(files, STANDARD, { threshold }).raw;
      bestRaw = Math.max(bestRaw, raw);
    }
    expect(swept.raw).toBeCloseTo(bestRaw, 9);
  });

  it("sweeps 30 files of 4,000 rows quickly", () => {
    // Distinct scores on nearly every row: a quadratic sweep would need
    // about 10^10 steps here.
    const next = random(11);
    const files = randomFiles(30, 4_000, 3).map((f) => ({
      ...f,
      scores: f.scores.map(() => next()),
    }));
    const started = performance.now();
    const results = scoreByCategory(files, { standard: STANDARD });
    const elapsedMs = performance.now() - started;
    expect(results[0]!.overall.perfectScore).toBe(30);
    // NOTE: the bound is generous for busy CI machines. The whole test took
    // 0.2 s on a 2-core Debian 12 development machine.
    expect(elapsedMs).toBeLessThan(10_000);
  });
});
