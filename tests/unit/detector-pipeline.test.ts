import { beforeAll, describe, expect, it } from "vitest";

import {
  firstScoredIndex,
  loadModel,
  trainModel,
  type LoadedModel,
} from "@/lib/detector/model";
import {
  DEFAULT_SETTINGS,
  initialDetectorState,
  OUT_OF_RANGE_DEVIATION,
  parseDetectorState,
  QUIET_POINTS,
  scoreStream,
  WARM_UP_POINTS,
  type DetectedPoint,
  type DetectorState,
} from "@/lib/detector/pipeline";
import { seededRandom } from "@/lib/detector/windows";

// scoreStream with a real model trained on a daily-like sine wave (period
// 288 points) with Gaussian noise.

const PERIOD = 288;

function periodicSeries(length: number, noise: number, seed = 5): number[] {
  const random = seededRandom(seed);
  const gaussian = () =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from(
    { length },
    (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / PERIOD) + noise * gaussian(),
  );
}

/** Scores `values` in chunks of the given sizes as the worker does: each
 * call gets the context before its chunk and the state through JSON. */
function scoreInChunks(
  model: LoadedModel,
  values: readonly number[],
  sizes: readonly number[],
): { points: DetectedPoint[]; state: DetectorState } {
  const context = firstScoredIndex(model.params);
  let state = initialDetectorState();
  let cursor = 0;
  const points: DetectedPoint[] = [];
  for (let call = 0; cursor < values.length; call += 1) {
    const end = Math.min(values.length, cursor + sizes[call % sizes.length]!);
    const from = Math.max(0, cursor - context);
    const result = scoreStream(
      model,
      values.slice(from, end),
      cursor - from,
      parseDetectorState(JSON.parse(JSON.stringify(state))),
    );
    for (const point of result.points) {
      points.push({ ...point, index: point.index + from });
    }
    state = result.state;
    cursor = end;
  }
  return { points, state };
}

const alarms = (points: readonly DetectedPoint[]) =>
  points.filter((point) => point.isAnomaly).map((point) => point.index);

describe("scoreStream", () => {
  let model: LoadedModel;

  beforeAll(async () => {
    model = await loadModel(await trainModel(periodicSeries(1000, 0.5)));
  });

  it("scores in chunks exactly as in one call", () => {
    const values = periodicSeries(2500, 0.5, 9);
    values[1800] = values[1800]! + 25;
    const whole = scoreStream(model, values, 0, initialDetectorState());

    for (const sizes of [[1], [7, 300, 1], [1000]]) {
      const chunked = scoreInChunks(model, values, sizes);
      expect(chunked.points).toEqual(whole.points);
      expect(chunked.state).toEqual(whole.state);
    }
  });

  it("leaves the given state unchanged", () => {
    const values = periodicSeries(800, 0.5, 19);
    const state = scoreStream(model, values.slice(0, 500), 0, initialDetectorState()).state;
    const copy = JSON.parse(JSON.stringify(state));

    scoreStream(model, values, 500, state);

    expect(state).toEqual(copy);
  });

  it("repeats the same scores", () => {
    const values = periodicSeries(1500, 0.5, 21);

    const first = scoreStream(model, values, 0, initialDetectorState());
    const second = scoreStream(model, values, 0, initialDetectorState());

    expect(second).toEqual(first);
  });

  it("keeps a small JSON state", () => {
    const values = periodicSeries(2500, 0.5, 23);
    const { state } = scoreStream(model, values, 0, initialDetectorState());
    const numbers = JSON.stringify(state).match(/-?\d+(\.\d+)?(e[-+]?\d+)?/g);

    expect(numbers!.length).toBeLessThanOrEqual(100);
    expect(parseDetectorState(JSON.parse(JSON.stringify(state)))).toEqual(state);
  });

  it("gives no score during warm-up", () => {
    const values = periodicSeries(600, 0.5, 25);
    const { points } = scoreStream(model, values, 0, initialDetectorState());

    const warmUp = points.slice(0, WARM_UP_POINTS);
    expect(warmUp.every((point) => point.anomalyScore === 0)).toBe(true);
    expect(warmUp.every((point) => point.deviation === null)).toBe(true);
    expect(points[WARM_UP_POINTS]!.deviation).not.toBeNull();
  });

  it("raises no alarm on a smooth periodic series", () => {
    const values = periodicSeries(3000, 0.5, 27);

    const { points } = scoreStream(model, values, 0, initialDetectorState());

    expect(alarms(points)).toEqual([]);
  });

  it("alarms at a spike", () => {
    const values = periodicSeries(2000, 0.5, 29);
    values[1500] = values[1500]! + 8;

    const { points } = scoreStream(model, values, 0, initialDetectorState());

    expect(alarms(points)).toEqual([1500]);
  });

  it("alarms at a value out of the seen range", () => {
    const values = periodicSeries(2000, 0.5, 31);
    // The sine peaks near 60, so 80 is far above every earlier value.
    values[1500] = 80;

    const { points } = scoreStream(model, values, 0, initialDetectorState());
    const point = points.find((candidate) => candidate.index === 1500)!;

    expect(point.outOfRange).toBe(true);
    expect(point.deviation).toBeGreaterThanOrEqual(OUT_OF_RANGE_DEVIATION);
    expect(point.isAnomaly).toBe(true);
    expect(points.filter((candidate) => candidate.outOfRange)).toHaveLength(1);
  });

  it("stays quiet after an alarm", () => {
    const values = periodicSeries(2400, 0.5, 33);
    values[1200] = values[1200]! + 8;
    values[1250] = values[1250]! + 8;
    values[1200 + QUIET_POINTS + 50] = values[1200 + QUIET_POINTS + 50]! + 8;

    const { points } = scoreStream(model, values, 0, initialDetectorState());
    const second = points.find((point) => point.index === 1250)!;

    const found = alarms(points);
    expect(found).toHaveLength(2);
    expect(found[0]).toBe(1200);
    // The first spike widened the history, so the third may take a few
    // points of the short-term mean to cross the threshold.
    expect(found[1]).toBeGreaterThanOrEqual(1200 + QUIET_POINTS + 50);
    expect(found[1]).toBeLessThan(1200 + QUIET_POINTS + 60);
    expect(second.deviation).toBeGreaterThan(3);
    expect(second.anomalyScore).toBeLessThan(0.5);
  });

  it("stops paging once a series stays noisy", () => {
    // Quiet for 1,000 points, then six times the noise for 3,000 points.
    const quiet = periodicSeries(1000, 0.5, 35);
    const noisy = periodicSeries(4000, 3, 37).slice(1000);
    const values = [...quiet, ...noisy];

    const { points } = scoreStream(model, values, 0, initialDetectorState());
    const late = points.filter((point) => point.index >= 3000);
    const lateRaw = late.reduce((sum, point) => sum + point.score, 0) / late.length;

    // The model's raw score stays well above its quiet level...
    expect(lateRaw).toBeGreaterThan(1);
    // ...but the anomaly score settles: the noise has become the history.
    expect(alarms(points).filter((index) => index >= 1000).length).toBeGreaterThan(0);
    expect(alarms(late)).toEqual([]);
  });

  it("scores the same surprise higher on a quiet series", () => {
    const quietValues = periodicSeries(2000, 0.5, 39);
    // Noise bursts every 100 points make the other series' raw scores vary.
    const noisyValues = periodicSeries(2000, 0.5, 39).map((value, t) =>
      t % 100 < 20 ? value + 4 * Math.sin(t * 1.7) : value,
    );
    quietValues[1500] = quietValues[1500]! + 6;
    noisyValues[1500] = noisyValues[1500]! + 6;

    const deviationAt = (values: number[]) =>
      scoreStream(model, values, 0, initialDetectorState()).points.find(
        (point) => point.index === 1500,
      )!.deviation!;

    expect(deviationAt(quietValues)).toBeGreaterThan(
      2 * deviationAt(noisyValues),
    );
  });

  it("flags anomalies by the settings' threshold", () => {
    const values = periodicSeries(2000, 0.5, 41);
    values[1500] = values[1500]! + 8;
    const strict = { alarmThreshold: 0.9999 };

    const loose = scoreStream(model, values, 0, initialDetectorState());
    const tight = scoreStream(model, values, 0, initialDetectorState(), strict);

    expect(DEFAULT_SETTINGS.alarmThreshold).toBeLessThan(0.9999);
    expect(alarms(loose.points)).toEqual([1500]);
    expect(alarms(tight.points)).toEqual([]);
  });
});

describe("parseDetectorState", () => {
  it("returns a fresh state for missing or other versions", () => {
    expect(parseDetectorState(null)).toEqual(initialDetectorState());
    expect(parseDetectorState({ version: 1, recent: [] })).toEqual(
      initialDetectorState(),
    );
  });

  it("returns a fresh state for malformed fields", () => {
    const malformed = { ...initialDetectorState(), recent: ["1"] };
    const missing = { ...initialDetectorState(), count: undefined };

    expect(parseDetectorState(malformed)).toEqual(initialDetectorState());
    expect(parseDetectorState(missing)).toEqual(initialDetectorState());
  });
});
