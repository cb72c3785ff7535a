// Hyperparameters of the per-series forecaster, stored with each model
// version so that a model is always scored with the settings it was
// trained with.

export const MODEL_KIND = "dense-forecaster";

export type ModelParams = {
  /** Values just before the forecast point that the model reads. */
  windowSize: number;
  /** Distance in points to the same time one season (a day) earlier, 0 for
   * no seasonal input. */
  seasonLag: number;
  /** Values read on each side of the point one season earlier. */
  seasonHalfWidth: number;
  errorSpan: number;
  hiddenUnits: [number, number];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Quantile of the training errors that the threshold starts from. */
  thresholdQuantile: number;
  /** Factor applied to that quantile. */
  thresholdMargin: number;
  /** Newest points used for training when the history is longer. */
  maxTrainingPoints: number;
};

// Chosen by training and scoring each of the 17 NAB AWS CloudWatch files
// whole, with episodes closed after 12 quiet points: 9 of 30 labelled
// windows get an episode, and 4 episodes start outside windows after NAB's
// probation period. Margin 1.25 hit 10 windows with 12 false episodes and
// errorSpan 3 hit 10 with 20, so these defaults favour few false alarms.
// Training took 1.6 to 2.7 s per 4,032-point file on wasm, 2 cores.
export const DEFAULT_PARAMS: ModelParams = {
  windowSize: 24,
  // A day at 5-minute steps, the interval of NAB's files and of the demo.
  // NOTE: for other intervals the seasonal input is not a day apart.
  seasonLag: 288,
  seasonHalfWidth: 3,
  errorSpan: 1,
  hiddenUnits: [32, 16],
  epochs: 25,
  batchSize: 64,
  learningRate: 0.003,
  seed: 20261204,
  thresholdQuantile: 0.99,
  thresholdMargin: 1.5,
  maxTrainingPoints: 8064,
};

/** Values before a forecast point that its input reads. */
export function inputLookback(params: ModelParams): number {
  if (params.seasonLag <= 0) return params.windowSize;
  return Math.max(params.windowSize, params.seasonLag + params.seasonHalfWidth);
}

/** Number of inputs of the network: the recent window, then the values
 * around the same time one season earlier. */
export function inputSize(params: ModelParams): number {
  const seasonal = params.seasonLag > 0 ? 2 * params.seasonHalfWidth + 1 : 0;
  return params.windowSize + seasonal;
}

/** Index of the first point that gets a score: the model needs its whole
 * lookback plus the error span before it. */
export function firstScoredIndex(params: ModelParams): number {
  return inputLookback(params) + params.errorSpan - 1;
}
