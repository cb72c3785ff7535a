import {
  disposeModel,
  firstScoredIndex,
  forecastResiduals,
  loadModel,
  scoreSeries,
  trainModel,
  type LoadedModel,
  type ModelParams,
  type ModelRecord,
} from "@/lib/detector/model";
import {
  DEFAULT_SETTINGS,
  initialDetectorState,
  rescaleDetectorState,
  scoreStream,
  type DetectedPoint,
  type DetectorSettings,
  type DetectorState,
} from "@/lib/detector/pipeline";
import {
  candidateServes,
  DEFAULT_RETRAIN_POLICY,
  holdoutSize,
  meanSquaredError,
  measureDrift,
  retrainReason,
  type RetrainPolicy,
  type RetrainReason,
} from "@/lib/detector/retrain-policy";

// The production detector replayed over a whole series, as if its values
// arrived one at a time. The first model trains once the series has
// minTrainingPoints values, and scoreStream scores every later value with
// the state carried over. Every checkEveryPoints values the retraining
// policy decides whether a candidate model is trained and whether it
// replaces the current one. The NAB evaluation uses it, so it measures
// what the worker runs.

export type ReplayOptions = {
  minTrainingPoints: number;
  /** Model parameters over DEFAULT_PARAMS, for experiments. */
  params?: Partial<ModelParams>;
  settings?: DetectorSettings;
  policy?: RetrainPolicy;
};

export type Retraining = {
  /** Index of the first value after the check that triggered it. */
  atIndex: number;
  reason: RetrainReason;
  /** Holdout mean squared residual of the serving and the candidate model,
   * in squared series units. */
  currentError: number;
  candidateError: number;
  served: boolean;
};

export type ReplayResult = {
  /** One entry per value after the first minTrainingPoints, in order. A
   * value the model cannot score yet has none. */
  points: DetectedPoint[];
  retrainings: Retraining[];
  /** Time spent in trainModel, first model and candidates, in ms. */
  trainingMs: number;
};

type Serving = { model: LoadedModel; record: ModelRecord; trainedTo: number };

async function train(
  values: readonly number[],
  end: number,
  params: Partial<ModelParams>,
): Promise<{ serving: Serving; ms: number }> {
  const started = performance.now();
  const record = await trainModel(values.slice(0, end), params);
  const ms = performance.now() - started;
  const model = await loadModel(record);
  return { serving: { model, record, trainedTo: end }, ms };
}

/** Mean raw score of the model over values[from..to). */
function meanRawScore(
  model: LoadedModel,
  values: readonly number[],
  from: number,
  to: number,
): number {
  const context = Math.max(0, from - firstScoredIndex(model.params));
  const points = scoreSeries(model, values.slice(context, to), from - context);
  let total = 0;
  for (const point of points) total += point.score;
  return total / points.length;
}

/**
 * Replays the production detector over `values`. Values before
 * minTrainingPoints get no point, because the first model trains on them.
 */
export async function replaySeries(
  values: readonly number[],
  options: ReplayOptions,
): Promise<ReplayResult> {
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const policy = options.policy ?? DEFAULT_RETRAIN_POLICY;
  const trainingPoints = options.minTrainingPoints;
  const result: ReplayResult = { points: [], retrainings: [], trainingMs: 0 };
  if (values.length <= trainingPoints) return result;

  const first = await train(values, trainingPoints, options.params ?? {});
  result.trainingMs += first.ms;
  let serving = first.serving;
  // The worker scores the training values too, with the model just trained
  // on them, and keeps the detector state. Those points are in-sample, so
  // they only warm the state here and are not returned.
  // NOTE: in-sample raw scores are lower than later ones. On a noise-free
  // series with a model trained on 500 points this raised a false alarm
  // soon after training; at 200 points it did not.
  let state: DetectorState = scoreStream(
    serving.model,
    values.slice(0, trainingPoints),
    0,
    initialDetectorState(),
    settings,
  ).state;
  const rawScores: number[] = [];
  // Start of the serving model's retraining clock: the end of its training
  // window, or the last rejected candidate's check.
  let clockStart = trainingPoints;
  let driftBlocked = false;

  try {
    let cursor = trainingPoints;
    while (cursor < values.length) {
      const end = Math.min(values.length, cursor + policy.checkEveryPoints);
      const context = Math.max(0, cursor - firstScoredIndex(serving.model.params));
      const scored = scoreStream(
        serving.model,
        values.slice(context, end),
        cursor - context,
        state,
        settings,
      );
      state = scored.state;
      for (const point of scored.points) {
        result.points.push({ ...point, index: point.index + context });
        rawScores.push(point.score);
      }
      cursor = end;
      if (cursor >= values.length) break;

      const drift = measureDrift(
        serving.record.metrics,
        values.slice(Math.max(0, cursor - policy.driftWindowPoints), cursor),
        rawScores.slice(-policy.driftWindowPoints),
      );
      // After a rejected candidate only the schedule retrains, because the
      // drift that triggered it is usually still there.
      const reason = retrainReason(
        cursor - clockStart,
        driftBlocked ? { inputPsi: null, scorePsi: null } : drift,
        policy,
        Math.min(serving.trainedTo, serving.record.metrics.params.maxTrainingPoints),
      );
      if (!reason) continue;

      const holdoutStart = cursor - holdoutSize(cursor, policy);
      const candidate = await train(values, holdoutStart, options.params ?? {});
      result.trainingMs += candidate.ms;
      const currentError = meanSquaredError(
        forecastResiduals(serving.model, values, holdoutStart, cursor),
      );
      const candidateError = meanSquaredError(
        forecastResiduals(candidate.serving.model, values, holdoutStart, cursor),
      );
      const served = candidateServes(currentError, candidateError, policy);
      result.retrainings.push({
        atIndex: cursor,
        reason,
        currentError,
        candidateError,
        served,
      });
      if (served) {
        // The candidate's raw scores have their own scale, so the history
        // is carried over in it, measured on the holdout.
        const factor =
          meanRawScore(candidate.serving.model, values, holdoutStart, cursor) /
          meanRawScore(serving.model, values, holdoutStart, cursor);
        if (Number.isFinite(factor) && factor > 0) {
          state = rescaleDetectorState(state, factor);
        }
        disposeModel(serving.model);
        serving = candidate.serving;
        clockStart = holdoutStart;
        driftBlocked = false;
      } else {
        disposeModel(candidate.serving.model);
        clockStart = cursor;
        driftBlocked = true;
      }
    }
  } finally {
    disposeModel(serving.model);
  }
  return result;
}
