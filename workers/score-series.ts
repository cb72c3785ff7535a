import type pg from "pg";

import packageJson from "@/package.json" with { type: "json" };
import { getConfig } from "@/lib/config";
import {
  disposeModel,
  firstScoredIndex,
  loadModel,
  trainModel,
  type LoadedModel,
} from "@/lib/detector/model";
import {
  DEFAULT_SETTINGS,
  initialDetectorState,
  parseDetectorState,
  scoreStream,
  type DetectorSettings,
  type DetectorState,
} from "@/lib/detector/pipeline";
import {
  loadActiveModel,
  storeModelVersion,
  type StoredModel,
} from "@/lib/detector/model-store";
import {
  findEpisodes,
  recordEpisode,
  type EpisodeState,
  type SeriesContext,
} from "@/lib/incidents/detector";
import { recordRecovery } from "@/lib/incidents/recovery";
import type { Logger } from "@/lib/logger";
import { checkRetraining } from "@/lib/models/retraining-check";
import {
  insertScores,
  loadEpisodeState,
  loadNewestPoints,
  loadPointsAfter,
  loadSeries,
} from "@/workers/series-queries";

// The score-series job: train a model for the series if it has none and
// enough history, score every point after scored_until with the detector
// pipeline, record episodes as incidents, resolve them when the series
// recovers, and advance scored_until with the pipeline's state. Everything
// happens in one transaction, so a crash or a failed attempt leaves no
// partial work and a retry redoes it without duplicates.
//
// The points a model first trains on are not scored: their errors would be
// in-sample, lower than on new points, and would skew the likelihood's
// history. The NAB evaluation (lib/nab/detectors.ts) starts scoring at the
// same point.

/** Points scored per round trip; bounds memory for long backlogs. */
export const SCORING_CHUNK_POINTS = 10_000;

// First key of the two-key advisory lock that serialises work on one series,
// across worker processes and direct calls alike. "VG" in ASCII.
const SERIES_LOCK_CLASS = 0x5647;

export type ScoreSeriesResult = {
  status: "scored" | "waiting_for_history" | "series_not_found";
  seriesId: number;
  modelVersionId?: number;
  trained: boolean;
  scoredPoints: number;
  opened: number[];
  joined: number[];
  /** Incidents resolved because their series recovered. */
  resolved: number[];
  /** Incidents left open with a "recovered" event. */
  recovered: number[];
};

export type ScoreSeriesOptions = {
  /** Points scored per round trip, SCORING_CHUNK_POINTS by default. */
  chunkPoints?: number;
  /** Resolve triggered incidents on recovery, VIGIL_AUTO_RESOLVE by default. */
  autoResolve?: boolean;
};

type ChunkSettings = Required<ScoreSeriesOptions>;

async function trainAndStore(
  db: pg.ClientBase,
  seriesId: number,
  log: Logger,
): Promise<
  (StoredModel & { trainedTo: Date; trainingValues: number[] }) | null
> {
  // The first model trains on the oldest VIGIL_MIN_TRAINING_POINTS points,
  // also when a longer history arrived at once, so that the points after
  // them are scored out of sample as in the NAB evaluation. Retraining
  // (lib/detector/retrain-policy.ts) later uses more history.
  const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
  const trained = await loadPointsAfter(db, seriesId, null, minimum);
  if (trained.length < minimum) {
    log.debug(
      { points: trained.length, minimum },
      "not enough history to train a model yet",
    );
    return null;
  }

  const trainingValues = trained.map((point) => point.value);
  const record = await trainModel(trainingValues);
  const stored = await storeModelVersion(db, seriesId, record, {
    trainedFrom: trained[0]!.ts,
    trainedTo: trained.at(-1)!.ts,
    pointCount: trained.length,
    codeVersion: packageJson.version,
  });
  log.info(
    {
      modelVersionId: stored.id,
      version: stored.version,
      points: trained.length,
      trainingMs: record.trainingMs,
      backend: record.backend,
      threshold: record.threshold,
      finalLoss: record.metrics.finalLoss,
    },
    "model trained",
  );
  return {
    ...stored,
    record,
    trainedTo: trained.at(-1)!.ts,
    trainingValues,
  };
}

type ChunkProgress = {
  cursor: Date | null;
  state: EpisodeState;
  detectorState: DetectorState;
};

/** Scores one chunk of points after `cursor` and records its episodes. */
async function scoreChunk(
  db: pg.ClientBase,
  series: SeriesContext,
  model: LoadedModel,
  modelVersionId: number,
  { cursor, state, detectorState }: ChunkProgress,
  detectorSettings: DetectorSettings,
  result: ScoreSeriesResult,
  log: Logger,
  { chunkPoints, autoResolve }: ChunkSettings,
): Promise<ChunkProgress & { done: boolean }> {
  const contextSize = firstScoredIndex(model.params);
  const context = cursor
    ? await loadNewestPoints(db, series.seriesId, contextSize, cursor)
    : [];
  const fresh = await loadPointsAfter(db, series.seriesId, cursor, chunkPoints);
  if (fresh.length === 0) {
    return { cursor, state, detectorState, done: true };
  }

  const points = [...context, ...fresh];
  const detected = scoreStream(
    model,
    points.map((point) => point.value),
    context.length,
    detectorState,
    detectorSettings,
  );
  const scored = detected.points.map((score) => ({
    ...score,
    likelihood: score.anomalyScore,
    ts: points[score.index]!.ts,
    value: points[score.index]!.value,
  }));
  await insertScores(db, series.seriesId, modelVersionId, scored);
  result.scoredPoints += scored.length;

  // In time order, so that an episode that ends before the next one starts
  // resolves its incident and the next episode opens a new one.
  const found = findEpisodes(scored, state);
  for (const event of found.events) {
    if (event.kind === "episode") {
      const outcome = await recordEpisode(db, series, event.episode, log);
      if (outcome.outcome === "opened") result.opened.push(outcome.incidentId);
      if (outcome.outcome === "joined") result.joined.push(outcome.incidentId);
      continue;
    }

    const outcome = await recordRecovery(
      db,
      series,
      event.point,
      { autoResolve },
      log,
    );
    if (outcome.outcome === "resolved") {
      result.resolved.push(outcome.incidentId);
    }
    if (outcome.outcome === "recovered") {
      result.recovered.push(outcome.incidentId);
    }
  }
  return {
    cursor: fresh.at(-1)!.ts,
    state: found.state,
    detectorState: detected.state,
    done: fresh.length < chunkPoints,
  };
}

async function scoreInTransaction(
  db: pg.ClientBase,
  seriesId: number,
  log: Logger,
  settings: ChunkSettings,
): Promise<ScoreSeriesResult> {
  const result: ScoreSeriesResult = {
    status: "scored",
    seriesId,
    trained: false,
    scoredPoints: 0,
    opened: [],
    joined: [],
    resolved: [],
    recovered: [],
  };
  await db.query("SELECT pg_advisory_xact_lock($1, $2)", [
    SERIES_LOCK_CLASS,
    seriesId,
  ]);

  const row = await loadSeries(db, seriesId);
  if (!row) return { ...result, status: "series_not_found" };

  // Ingest leaves last_point_at alone to keep its writes to the points, so
  // the worker moves it forward here. The primary key index finds max(ts).
  await db.query(
    `UPDATE metric_series m SET last_point_at = p.newest
       FROM (SELECT max(ts) AS newest FROM data_point WHERE series_id = $1) p
      WHERE m.id = $1 AND p.newest IS NOT NULL
        AND (m.last_point_at IS NULL OR m.last_point_at < p.newest)`,
    [seriesId],
  );

  let cursor = row.scored_until;
  let stored = await loadActiveModel(db, seriesId);
  let warmUpValues: number[] | null = null;
  if (!stored) {
    const trained = await trainAndStore(db, seriesId, log);
    if (!trained) return { ...result, status: "waiting_for_history" };
    stored = trained;
    result.trained = true;
    // Scoring starts after the training window (see the header).
    if (!cursor) warmUpValues = trained.trainingValues;
    if (!cursor || cursor < trained.trainedTo) cursor = trained.trainedTo;
  }
  result.modelVersionId = stored.id;
  const detectorSettings: DetectorSettings = {
    alarmThreshold: row.alarm_threshold ?? DEFAULT_SETTINGS.alarmThreshold,
  };

  const series: SeriesContext = {
    seriesId,
    serviceId: row.service_id,
    serviceSlug: row.service_slug,
    serviceName: row.service_name,
    metricName: row.name,
    labels: row.labels ?? {},
  };
  const model = await loadModel(stored.record);
  let detectorState = parseDetectorState(row.detector_state);
  if (warmUpValues) {
    // The training points warm the pipeline's history and range without
    // being stored or raising incidents, exactly as in the NAB replay
    // (lib/detector/replay.ts), so the first new points get a likelihood.
    detectorState = scoreStream(
      model,
      warmUpValues,
      0,
      initialDetectorState(),
      detectorSettings,
    ).state;
  }
  let progress: ChunkProgress = {
    cursor,
    state: await loadEpisodeState(db, seriesId, cursor, row.episode_state),
    detectorState,
  };
  try {
    for (;;) {
      const step = await scoreChunk(
        db,
        series,
        model,
        stored.id,
        progress,
        detectorSettings,
        result,
        log,
        settings,
      );
      progress = step;
      if (step.done) break;
    }
  } finally {
    disposeModel(model);
  }

  cursor = progress.cursor;
  if (cursor && cursor !== row.scored_until) {
    await db.query(
      `UPDATE metric_series
          SET scored_until = $2, detector_state = $3, episode_state = $4
        WHERE id = $1 AND (scored_until IS NULL OR scored_until < $2)`,
      [
        seriesId,
        cursor,
        JSON.stringify(progress.detectorState),
        JSON.stringify(progress.state),
      ],
    );
  }
  // Drift and schedule checks, which may queue a train-series job that
  // commits with these scores.
  if (result.scoredPoints > 0) {
    await checkRetraining(db, seriesId, stored.id, log);
  }
  return result;
}

/**
 * Runs the score-series work for one series in a transaction on `db`, which
 * must be a dedicated connection (a pool client or a pg.Client).
 */
export async function runScoreSeries(
  db: pg.ClientBase,
  seriesId: number,
  log: Logger,
  options: ScoreSeriesOptions = {},
): Promise<ScoreSeriesResult> {
  const settings: ChunkSettings = {
    chunkPoints: options.chunkPoints ?? SCORING_CHUNK_POINTS,
    autoResolve: options.autoResolve ?? getConfig().VIGIL_AUTO_RESOLVE,
  };
  const started = performance.now();
  await db.query("BEGIN");
  let result: ScoreSeriesResult;
  try {
    result = await scoreInTransaction(db, seriesId, log, settings);
    await db.query("COMMIT");
  } catch (error) {
    await db.query("ROLLBACK").catch((rollbackError: unknown) => {
      log.error({ err: rollbackError }, "rollback failed");
    });
    throw error;
  }

  // One job runs per ingest request and series, so only jobs that changed
  // a model or an incident log at info.
  const news =
    result.trained ||
    result.opened.length > 0 ||
    result.resolved.length > 0 ||
    result.recovered.length > 0;
  log[news ? "info" : "debug"](
    {
      status: result.status,
      modelVersionId: result.modelVersionId,
      trained: result.trained,
      scoredPoints: result.scoredPoints,
      openedIncidentIds: result.opened,
      joinedIncidentIds: result.joined,
      resolvedIncidentIds: result.resolved,
      recoveredIncidentIds: result.recovered,
      durationMs: Math.round(performance.now() - started),
    },
    "series scored",
  );
  return result;
}
