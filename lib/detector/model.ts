import type { io as tfio } from "@tensorflow/tfjs";

import { activeBackend, initBackend, tf } from "@/lib/detector/backend";
import {
  denormalizeValue,
  fitNormalization,
  normalizeValue,
  quantile,
  type Normalization,
} from "@/lib/detector/normalize";
import {
  buildNetwork,
  forecast,
  serializeNetwork,
  spanErrors,
} from "@/lib/detector/network";
import {
  DEFAULT_PARAMS,
  firstScoredIndex,
  inputLookback,
  inputSize,
  MODEL_KIND,
  type ModelParams,
} from "@/lib/detector/params";
import { binShares } from "@/lib/detector/retrain-policy";
import { packInputs, range, seededShuffle } from "@/lib/detector/windows";

export {
  DEFAULT_PARAMS,
  firstScoredIndex,
  inputLookback,
  MODEL_KIND,
  type ModelParams,
} from "@/lib/detector/params";

// A small dense forecaster per series. It reads the `windowSize` normalised
// values before t, and the values around t one season (a day) earlier, and
// predicts the value at t. The anomaly error at t is the root mean square
// of the last `errorSpan` forecast residuals. So the score of a point
// depends only on that point and earlier ones (strictly online).

export type TrainingMetrics = {
  finalLoss: number;
  lossHistory: number[];
  epochs: number;
  trainingWindows: number;
  errorQuantiles: { p50: number; p90: number; p99: number; p999: number };
  errorMax: number;
  threshold: number;
  params: ModelParams;
  /** Deciles of the training values (10th to 90th percentile), in the
   * series' units, the reference for input drift. Absent on older models. */
  inputDeciles?: number[];
  /** Share of the training values in each of the 10 bins that inputDeciles
   * bound, as binShares counts them. Ties make them differ from 0.1 (a flat
   * series has all its values in one bin). Absent on older models. */
  inputShares?: number[];
};

/** Everything needed to store a trained model and to score with it later. */
export type ModelRecord = {
  kind: string;
  topology: object;
  weightSpecs: tfio.WeightsManifestEntry[];
  weights: Uint8Array;
  normalization: Normalization;
  metrics: TrainingMetrics;
  threshold: number;
  windowSize: number;
  backend: string;
  trainingMs: number;
};

export type LoadedModel = {
  network: tf.LayersModel;
  record: ModelRecord;
  params: ModelParams;
};

export type PointScore = {
  /** RMS forecast residual over the error span, in normalised units. */
  error: number;
  /** error / threshold; above 1 is anomalous. */
  score: number;
  isAnomaly: boolean;
  /** Range around the forecast in which the point's own residual stays
   * below the threshold, in the series' units. */
  expectedLow: number;
  expectedHigh: number;
};


/** Training targets needed before the seasonal input is used. */
const SEASONAL_TRAINING_TARGETS = 200;

function toUnits(values: readonly number[], norm: Normalization) {
  return Float32Array.from(values, (value) => normalizeValue(value, norm));
}


function deciles(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return [1, 2, 3, 4, 5, 6, 7, 8, 9].map((tenth) =>
    quantile(sorted, tenth / 10),
  );
}

/**
 * Frees a trained network's tensors. The optimizer's state (Adam's moment
 * estimates) belongs to the optimizer, not to the layers, so the network's
 * own dispose() leaves it allocated.
 */
function releaseNetwork(network: tf.LayersModel): void {
  network.optimizer?.dispose();
  network.dispose();
}

/**
 * Trains a model on a series' values in time order. Training is
 * deterministic for a given backend: seeded initialisers, a seeded shuffle
 * and no dropout.
 */
export type TrainingOptions = {
  /** Called after each epoch with the epochs done so far, for progress. */
  onEpochEnd?: (
    epochsDone: number,
    totalEpochs: number,
    loss: number,
  ) => void | Promise<void>;
};

export async function trainModel(
  values: readonly number[],
  overrides: Partial<ModelParams> = {},
  options: TrainingOptions = {},
): Promise<ModelRecord> {
  let params = { ...DEFAULT_PARAMS, ...overrides };
  // A history too short for the seasonal input trains without it, so a new
  // series gets a model early and a retraining adds the season later.
  if (values.length < firstScoredIndex(params) + SEASONAL_TRAINING_TARGETS) {
    params = { ...params, seasonLag: 0, seasonHalfWidth: 0 };
  }
  const minimum = firstScoredIndex(params) + 2 * params.windowSize;
  if (values.length < minimum) {
    throw new Error(
      `training needs at least ${minimum} points, the series has ${values.length}`,
    );
  }
  if (values.some((value) => !Number.isFinite(value))) {
    throw new Error("training values must all be finite numbers");
  }
  await initBackend();
  const started = performance.now();

  const history = values.slice(-params.maxTrainingPoints);
  const normalization = fitNormalization(history);
  const units = toUnits(history, normalization);
  const targets = range(inputLookback(params), units.length);
  const order = seededShuffle(targets, params.seed);
  const inputs = packInputs(units, params, order);
  const labels = Float32Array.from(order, (target) => units[target]!);

  const network = buildNetwork(params);
  const xs = tf.tensor2d(inputs, [order.length, inputSize(params)]);
  const ys = tf.tensor2d(labels, [order.length, 1]);
  let lossHistory: number[];
  try {
    const fitted = await network.fit(xs, ys, {
      epochs: params.epochs,
      batchSize: params.batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: options.onEpochEnd
        ? {
            onEpochEnd: async (epoch, logs) => {
              await options.onEpochEnd?.(
                epoch + 1,
                params.epochs,
                Number(logs?.loss ?? Number.NaN),
              );
            },
          }
        : undefined,
    });
    lossHistory = (fitted.history.loss ?? []).map(Number);
  } finally {
    xs.dispose();
    ys.dispose();
  }

  const predicted = forecast(network, units, params, targets);
  const residuals = predicted.map(
    (prediction, row) => units[targets[row]!]! - prediction,
  );
  const errors = spanErrors(residuals, params.errorSpan).filter(
    (error) => !Number.isNaN(error),
  );
  const sorted = [...errors].sort((a, b) => a - b);
  const threshold = Math.max(
    quantile(sorted, params.thresholdQuantile) * params.thresholdMargin,
    1e-6,
  );
  const finalLoss = lossHistory.at(-1) ?? Number.NaN;
  const inputDeciles = deciles(history);
  if (!Number.isFinite(finalLoss) || !Number.isFinite(threshold)) {
    releaseNetwork(network);
    throw new Error(
      `training diverged: final loss ${finalLoss}, threshold ${threshold}`,
    );
  }
  const serialized = await serializeNetwork(network);
  releaseNetwork(network);
  const trainingMs = Math.round(performance.now() - started);

  return {
    kind: MODEL_KIND,
    ...serialized,
    normalization,
    threshold,
    windowSize: params.windowSize,
    backend: activeBackend(),
    trainingMs,
    metrics: {
      finalLoss,
      lossHistory,
      epochs: params.epochs,
      trainingWindows: targets.length,
      errorQuantiles: {
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
        p999: quantile(sorted, 0.999),
      },
      errorMax: sorted.at(-1) ?? Number.NaN,
      threshold,
      params,
      inputDeciles,
      inputShares: binShares(history, inputDeciles),
    },
  };
}

/** Rebuilds a trained network from a stored record. */
export async function loadModel(record: ModelRecord): Promise<LoadedModel> {
  if (record.kind !== MODEL_KIND) {
    throw new Error(
      `model kind "${record.kind}" is not supported, expected "${MODEL_KIND}"`,
    );
  }
  await initBackend();
  const weights = record.weights;
  const weightData = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer;
  const network = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: record.topology,
      weightSpecs: record.weightSpecs,
      weightData,
    }),
  );
  // Models stored before the seasonal input have no seasonLag.
  const params = {
    ...DEFAULT_PARAMS,
    seasonLag: 0,
    seasonHalfWidth: 0,
    ...(record.metrics.params as Partial<ModelParams>),
  };
  return { network, record, params };
}

/**
 * Scores values[startIndex..], reading earlier values for the windows.
 * Points before firstScoredIndex() get no score, so the result may be
 * shorter than values.length - startIndex. Each `index` is a position in
 * `values`.
 */
export function scoreSeries(
  model: LoadedModel,
  values: readonly number[],
  startIndex: number,
): Array<PointScore & { index: number }> {
  const { params, record } = model;
  const from = Math.max(startIndex, firstScoredIndex(params));
  if (from >= values.length) return [];

  // Only the points that feed a scored span are needed.
  const firstTarget = from - params.errorSpan + 1;
  const lookback = inputLookback(params);
  const windowStart = firstTarget - lookback;
  const units = toUnits(values.slice(windowStart), record.normalization);
  const targets = range(lookback, units.length);
  const predicted = forecast(model.network, units, params, targets);
  const residuals = predicted.map(
    (prediction, row) => units[targets[row]!]! - prediction,
  );
  const errors = spanErrors(residuals, params.errorSpan);

  const result: Array<PointScore & { index: number }> = [];
  for (let row = params.errorSpan - 1; row < targets.length; row += 1) {
    const error = errors[row]!;
    const score = error / record.threshold;
    const prediction = predicted[row]!;
    result.push({
      index: windowStart + targets[row]!,
      error,
      score,
      isAnomaly: score > 1,
      expectedLow: denormalizeValue(
        prediction - record.threshold,
        record.normalization,
      ),
      expectedHigh: denormalizeValue(
        prediction + record.threshold,
        record.normalization,
      ),
    });
  }
  return result;
}

/**
 * Returns the forecast residuals (actual - forecast) of the points
 * values[from..to) in the series' units, so that models with different
 * normalisations compare on the same scale. Each forecast reads the
 * inputLookback values before its point, so `from` must be at least that.
 */
export function forecastResiduals(
  model: LoadedModel,
  values: readonly number[],
  from: number,
  to: number,
): Float64Array {
  const { params, record } = model;
  const lookback = inputLookback(params);
  if (from < lookback || to > values.length || from > to) {
    throw new RangeError(
      `residual range ${from}..${to} does not fit a series of ${values.length} points with lookback ${lookback}`,
    );
  }
  const windowStart = from - lookback;
  const units = toUnits(values.slice(windowStart, to), record.normalization);
  const targets = range(lookback, units.length);
  const predicted = forecast(model.network, units, params, targets);
  return Float64Array.from(
    predicted,
    (prediction, row) =>
      values[from + row]! - denormalizeValue(prediction, record.normalization),
  );
}

/** Frees the network's tensors. */
export function disposeModel(model: LoadedModel): void {
  model.network.dispose();
}
