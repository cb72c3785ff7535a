import { beforeAll, describe, expect, it } from "vitest";

import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import { seededRandom } from "@/lib/detector/windows";
import {
  ratioToUnitScore,
  vigilScores,
  zscoreScores,
  ZSCORE_WINDOW_ROWS,
  type VigilRun,
} from "@/lib/nab/detectors";

// The NAB detectors on a small synthetic series: a daily-like sine wave
// (period 288 rows) with Gaussian noise, 700 rows, so that the vigil model
// trains once on 500 rows and scores 200.

const TRAINING_POINTS = 500;
const LENGTH = 700;
const SPIKE_ROW = 620;

function periodicSeries(length: number, seed = 11): number[] {
  const random = seededRandom(seed);
  const gaussian = () =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from(
    { length },
    (_, row) => 50 + 10 * Math.sin((2 * Math.PI * row) / 288) + 0.5 * gaussian(),
  );
}

function withSpike(values: readonly number[]): number[] {
  const copy = [...values];
  copy[SPIKE_ROW] = copy[SPIKE_ROW]! + 30;
  return copy;
}

/** Values of the series followed by `extra` rows of the same shape. */
function extended(extra: number): number[] {
  return periodicSeries(LENGTH + extra);
}

const max = (values: readonly number[]) => Math.max(...values);

describe("ratioToUnitScore", () => {
  it("maps ratios into [0, 1] in order", () => {
    expect(ratioToUnitScore(0)).toBe(0);
    expect(ratioToUnitScore(1)).toBe(0.5);
    expect(ratioToUnitScore(3)).toBe(0.75);
    expect(ratioToUnitScore(Number.POSITIVE_INFINITY)).toBe(1);
    expect(ratioToUnitScore(1e6)).toBeLessThan(1);
    expect(ratioToUnitScore(2)).toBeGreaterThan(ratioToUnitScore(1.999));
  });
});

describe("vigil detector", () => {
  const base = periodicSeries(LENGTH);
  let first: VigilRun;
  let second: VigilRun;
  let spiked: VigilRun;
  let longer: VigilRun;

  beforeAll(async () => {
    const options = { minTrainingPoints: TRAINING_POINTS };
    first = await vigilScores(base, options);
    second = await vigilScores(base, options);
    spiked = await vigilScores(withSpike(base), options);
    longer = await vigilScores(extended(100), options);
  });

  it("scores one value per row in [0, 1]", () => {
    expect(first.scores).toHaveLength(LENGTH);
    for (const score of first.scores) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
  });

  it("scores rows before training 0", () => {
    expect(first.scores.slice(0, TRAINING_POINTS).every((s) => s === 0)).toBe(
      true,
    );
    expect(first.scores.slice(TRAINING_POINTS).every((s) => s > 0)).toBe(true);
  });

  it("repeats the same scores", () => {
    expect(second.scores).toEqual(first.scores);
    expect(second.retrainings).toEqual(first.retrainings);
  });

  it("ignores later rows when altered", () => {
    expect(spiked.scores.slice(0, SPIKE_ROW)).toEqual(
      first.scores.slice(0, SPIKE_ROW),
    );
    expect(spiked.scores[SPIKE_ROW]).not.toBe(first.scores[SPIKE_ROW]);
  });

  it("ignores later rows when appended", () => {
    expect(longer.scores).toHaveLength(LENGTH + 100);
    expect(longer.scores.slice(0, LENGTH)).toEqual(first.scores);
  });

  it("scores a spike above normal rows", () => {
    const normal = max(first.scores.slice(TRAINING_POINTS));
    const spike = max(spiked.scores.slice(SPIKE_ROW, SPIKE_ROW + 6));

    expect(spike).toBeGreaterThan(normal);
    // The production alarm fires on it.
    expect(spike).toBeGreaterThanOrEqual(DEFAULT_SETTINGS.alarmThreshold);
  });

  it("scores nothing when too short to train", async () => {
    const run = await vigilScores(base.slice(0, TRAINING_POINTS), {
      minTrainingPoints: TRAINING_POINTS,
    });

    expect(run.scores).toEqual(new Array(TRAINING_POINTS).fill(0));
    expect(run.retrainings).toEqual([]);
  });

  it("rejects a value that is not finite", async () => {
    const values = [...base];
    values[42] = Number.NaN;

    await expect(
      vigilScores(values, { minTrainingPoints: TRAINING_POINTS }),
    ).rejects.toThrow("row 42: value NaN is not a finite number");
  });
});

describe("zscore detector", () => {
  const base = periodicSeries(LENGTH);

  it("scores rows before a full window 0", () => {
    const scores = zscoreScores(base);

    expect(scores).toHaveLength(LENGTH);
    expect(scores.slice(0, ZSCORE_WINDOW_ROWS).every((s) => s === 0)).toBe(
      true,
    );
    expect(scores.slice(ZSCORE_WINDOW_ROWS).every((s) => s > 0)).toBe(true);
  });

  it("repeats the same scores", () => {
    expect(zscoreScores(base)).toEqual(zscoreScores(base));
  });

  it("ignores later rows", () => {
    const scores = zscoreScores(base);
    const spiked = zscoreScores(withSpike(base));
    const longer = zscoreScores(extended(100));

    expect(spiked.slice(0, SPIKE_ROW)).toEqual(scores.slice(0, SPIKE_ROW));
    expect(longer.slice(0, LENGTH)).toEqual(scores);
  });

  it("scores a spike above normal rows", () => {
    const normal = max(zscoreScores(base).slice(ZSCORE_WINDOW_ROWS));
    const spike = zscoreScores(withSpike(base))[SPIKE_ROW]!;

    expect(spike).toBeGreaterThan(normal);
  });

  it("computes z from the previous rows only", () => {
    // Window [1, 3]: mean 2, population std 1, so row 2 (value 5) has z = 3
    // and scores 3 / (1 + 3) = 0.75. Row 3's window [3, 5]: mean 4, std 1,
    // value 4, so z = 0.
    expect(zscoreScores([1, 3, 5, 4], 2)).toEqual([0, 0, 0.75, 0]);
  });

  it("handles a constant window", () => {
    const flat = new Array(300).fill(0.1);
    const stepped = [...flat, 0.1, 0.2];

    expect(zscoreScores(stepped).slice(ZSCORE_WINDOW_ROWS)).toEqual([
      ...new Array(300 - ZSCORE_WINDOW_ROWS + 1).fill(0),
      1,
    ]);
  });

  it("rejects a window under 2 rows", () => {
    expect(() => zscoreScores(base, 1)).toThrow(
      "the z-score window must be an integer of at least 2 rows, got 1",
    );
  });
});
