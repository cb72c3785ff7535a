import type pg from "pg";

import packageJson from "@/package.json" with { type: "json" };
import { getConfig } from "@/lib/config";
import {
  DEFAULT_PARAMS,
  disposeModel,
  firstScoredIndex,
  loadModel,
  scoreSeries,
  trainModel,
  type LoadedModel,
} from "@/lib/detector/model";
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
import {
  insertScores,
  loadEpisodeState,
  loadNewestPoints,
  loadPointsAfter,
  loadSeries,
} from "@/workers/series-queries";

// The score-series job: train a model for the series if it has none and
// enough history, score every point after scored_until, record episodes as
// incidents, resolve them when the series recovers, and advance scored_until. Everything happens in one transaction,
// so a crash or a failed attempt leaves no partial work and a retry redoes
// it without duplicates.

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
): Promise<StoredModel | null> {
  const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
  const limit = Math.max(minimum, DEFAULT_PARAMS.maxTrainingPoints);
  const points = await loadNewestPoints(db, seriesId, limit);
  if (points.length < minimum) {
    log.debug(
      { points: points.length, minimum },
      "not enough history to train a model yet",
    );
    return null;
  }

  const record = await trainModel(points.map((point) => point.value));
  const trained = points.slice(-DEFAULT_PARAMS.maxTrainingPoints);
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
  return { ...stored, record };
}

/** Scores one chunk of points after `cursor` and records its episodes. */
async function scoreChunk(
  db: pg.ClientBase,
  series: SeriesContext,
  model: LoadedModel,
  modelVersionId: number,
  cursor: Date | null,
  state: EpisodeState,
  result: ScoreSeriesResult,
  log: Logger,
  { chunkPoints, autoResolve }: ChunkSettings,
): Promise<{ cursor: Date | null; state: EpisodeState; done: boolean }> {
  const contextSize = firstScoredIndex(model.params);
  const context = cursor
    ? await loadNewestPoints(db, series.seriesId, contextSize, cursor)
    : [];
  const fresh = await loadPointsAfter(db, series.seriesId, cursor, chunkPoints);
  if (fresh.length === 0) return { cursor, state, done: true };

  const points = [...context, ...fresh];
  const scores = scoreSeries(
    model,
    points.map((point) => point.value),
    context.length,
  );
  const scored = scores.map((score) => ({
    ...score,
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

  let stored = await loadActiveModel(db, seriesId);
  if (!stored) {
    stored = await trainAndStore(db, seriesId, log);
    if (!stored) return { ...result, status: "waiting_for_history" };
    result.trained = true;
  }
  result.modelVersionId = stored.id;

  const series: SeriesContext = {
    seriesId,
    serviceId: row.service_id,
    serviceSlug: row.service_slug,
    serviceName: row.service_name,
    metricName: row.name,
    labels: row.labels ?? {},
  };
  const model = await loadModel(stored.record);
  let cursor = row.scored_until;
  let state = await loadEpisodeState(db, seriesId, cursor);
  try {
    for (;;) {
      const step = await scoreChunk(
        db,
        series,
        model,
        stored.id,
        cursor,
        state,
        result,
        log,
        settings,
      );
      cursor = step.cursor;
      state = step.state;
      if (step.done) break;
    }
  } finally {
    disposeModel(model);
  }

  if (cursor && cursor !== row.scored_until) {
    await db.query(
      `UPDATE metric_series SET scored_until = $2
        WHERE id = $1 AND (scored_until IS NULL OR scored_until < $2)`,
      [seriesId, cursor],
    );
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
