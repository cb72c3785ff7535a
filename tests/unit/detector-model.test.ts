import { beforeAll, describe, expect, it } from "vitest";

import {
  DEFAULT_PARAMS,
  firstScoredIndex,
  inputLookback,
  loadModel,
  scoreSeries,
  trainModel,
  type LoadedModel,
  type ModelRecord,
} from "@/lib/detector/model";
import { tf } from "@/lib/detector/backend";
import { seededRandom } from "@/lib/detector/windows";

// The forecaster on synthetic series with known shape: a daily-like sine
// wave with Gaussian noise (period 288 points, 5-minute steps), with and
// without a spike.

const PERIOD = 288;
const FIRST = firstScoredIndex(DEFAULT_PARAMS);

function periodicSeries(length: number, noise: number, seed = 7): number[] {
  const random = seededRandom(seed);
  const gaussian = () =>
    Math.sqrt(-2 * Math.log(1 - random())) *
    Math.cos(2 * Math.PI * random());
  return Array.from(
    { length },
    (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / PERIOD) + noise * gaussian(),
  );
}

/** Copies a record through JSON and a Buffer, as the database stores it. */
function storedCopy(record: ModelRecord): ModelRecord {
  const json = JSON.parse(JSON.stringify({ ...record, weights: undefined }));
  return { ...json, weights: new Uint8Array(Buffer.from(record.weights)) };
}

const anomalies = (scores: ReturnType<typeof scoreSeries>) =>
  scores.filter((point) => point.isAnomaly).map((point) => point.index);

describe("detector model", () => {
  const training = periodicSeries(1000, 0.5);
  let record: ModelRecord;
  let model: LoadedModel;

  beforeAll(async () => {
    record = await trainModel(training);
    model = await loadModel(record);
  });

  it("records training metadata", () => {
    expect(record.kind).toBe("dense-forecaster");
    expect(record.windowSize).toBe(DEFAULT_PARAMS.windowSize);
    expect(record.threshold).toBeGreaterThan(0);
    expect(record.weights.byteLength).toBeGreaterThan(1000);
    expect(record.metrics.lossHistory).toHaveLength(DEFAULT_PARAMS.epochs);
    expect(record.metrics.finalLoss).toBeLessThan(
      record.metrics.lossHistory[0]!,
    );
    expect(record.metrics.trainingWindows).toBe(
      1000 - inputLookback(DEFAULT_PARAMS),
    );
    expect(record.metrics.params.seasonLag).toBe(DEFAULT_PARAMS.seasonLag);
    expect(record.normalization.nonNegative).toBe(true);
  });

  it("detects a spike at the spike", () => {
    const values = periodicSeries(1500, 0.5);
    values[1200] = values[1200]! + 25;

    const found = anomalies(scoreSeries(model, values, 0));

    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toBeGreaterThanOrEqual(1200);
    expect(found[0]).toBeLessThanOrEqual(1202);
  });

  it("rarely exceeds its threshold on a smooth periodic series", () => {
    const values = periodicSeries(3000, 0.5);

    const scores = scoreSeries(model, values, 0);

    // The threshold is 1.5 times the 99th percentile of single training
    // residuals, so Gaussian noise crosses it a few times in 3,000 points.
    expect(scores).toHaveLength(3000 - FIRST);
    expect(anomalies(scores).length).toBeLessThan(0.002 * scores.length);
  });

  it("raises no alarm on a flat series", async () => {
    const flat = Array.from({ length: 800 }, () => 12.5);
    const flatModel = await loadModel(await trainModel(flat));

    const scores = scoreSeries(flatModel, flat, 0);

    expect(anomalies(scores)).toEqual([]);
    expect(scores[0]!.expectedLow).toBeLessThanOrEqual(12.5);
    expect(scores[0]!.expectedHigh).toBeGreaterThanOrEqual(12.5);
  });

  it("gives an expected range around the value", () => {
    const values = periodicSeries(1500, 0.5);
    const scores = scoreSeries(model, values, 0);
    const inside = scores.filter(
      (point) =>
        point.expectedLow <= values[point.index]! &&
        values[point.index]! <= point.expectedHigh,
    );

    expect(inside.length / scores.length).toBeGreaterThan(0.95);
  });

  it("frees every tensor after training", async () => {
    const before = tf.memory().numTensors;
    await trainModel(training);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("trains deterministically", async () => {
    const again = await trainModel(training);
    const values = periodicSeries(1500, 0.5, 11);

    expect(Buffer.from(again.weights).equals(Buffer.from(record.weights))).toBe(
      true,
    );
    expect(again.threshold).toBe(record.threshold);
    const reloaded = await loadModel(again);
    expect(scoreSeries(reloaded, values, 0)).toEqual(
      scoreSeries(model, values, 0),
    );
  });

  it("scores the same after a save and load", async () => {
    const values = periodicSeries(1500, 0.5, 13);
    const reloaded = await loadModel(storedCopy(record));

    expect(scoreSeries(reloaded, values, 0)).toEqual(
      scoreSeries(model, values, 0),
    );
  });

  it("keeps earlier scores when points are appended", () => {
    const values = periodicSeries(2000, 0.5, 17);
    values[1500] = values[1500]! + 30;
    const full = scoreSeries(model, values, 0);

    for (const k of [FIRST + 1, 700, 1501, 1999]) {
      const prefix = scoreSeries(model, values.slice(0, k), 0);
      expect(prefix).toEqual(full.slice(0, k - FIRST));
    }
  });

  it("scores from a start index like a full pass", () => {
    const values = periodicSeries(2000, 0.5, 19);
    const full = scoreSeries(model, values, 0);

    const tail = scoreSeries(model, values, 1234);

    expect(tail[0]!.index).toBe(1234);
    expect(tail).toEqual(full.filter((point) => point.index >= 1234));
  });

  it("trains without the season on a short history", async () => {
    const short = await trainModel(periodicSeries(300, 0.5));
    const shortModel = await loadModel(short);
    const values = periodicSeries(400, 0.5, 23);

    expect(short.metrics.params.seasonLag).toBe(0);
    expect(short.metrics.trainingWindows).toBe(300 - DEFAULT_PARAMS.windowSize);
    expect(scoreSeries(shortModel, values, 0)[0]!.index).toBe(
      DEFAULT_PARAMS.windowSize + DEFAULT_PARAMS.errorSpan - 1,
    );
  });

  it("loads a stored model without seasonal params", async () => {
    const flat = periodicSeries(300, 0.5);
    const record = await trainModel(flat);
    const { seasonLag, seasonHalfWidth, ...older } = record.metrics.params;
    const stored = { ...record, metrics: { ...record.metrics, params: older } };

    const reloaded = await loadModel(stored as ModelRecord);

    expect(seasonLag).toBe(0);
    expect(seasonHalfWidth).toBe(0);
    expect(reloaded.params.seasonLag).toBe(0);
    expect(scoreSeries(reloaded, flat, 0)).toEqual(
      scoreSeries(await loadModel(record), flat, 0),
    );
  });

  it("rejects too short or non-finite input", async () => {
    await expect(trainModel([1, 2, 3])).rejects.toThrow(/at least/);
    const broken = periodicSeries(500, 0.5);
    broken[10] = Number.NaN;
    await expect(trainModel(broken)).rejects.toThrow(/finite/);
  });
});
