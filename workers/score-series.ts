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
  episodeStateFromRecent,
  findEpisodes,
  IDLE_STATE,
  recordEpisode,
  type EpisodeState,
  type ScoredPoint,
  type SeriesContext,
} from "@/lib/incidents/detector";
import type { Logger } from "@/lib/logger";

// The score-series job: train a model for the series if it has none and
// enough history, score every point after scored_until, record episodes as
// incidents and advance scored_until. Everything happens in one transaction,
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
};

type SeriesRow = {
  id: number;
  service_id: number;
  name: string;
  labels: Record<string, unknown>;
  scored_until: Date | null;
  service_slug: string;
  service_name: string;
};

type PointRow = { ts: Date; value: number };

async function loadSeries(
  db: pg.ClientBase,
  seriesId: number,
): Promise<SeriesRow | undefined> {
  const { rows } = await db.query<SeriesRow>(
    `SELECT s.id, s.service_id, s.name, s.labels, s.scored_until,
            sv.slug AS service_slug, sv.name AS service_name
       FROM metric_series s JOIN service sv ON sv.id = s.service_id
      WHERE s.id = $1`,
    [seriesId],
  );
  return rows[0];
}

/** Loads the newest `limit` points of a series, oldest first. */
async function loadNewestPoints(
  db: pg.ClientBase,
  seriesId: number,
  limit: number,
  atOrBefore: Date | null = null,
): Promise<PointRow[]> {
  const { rows } = await db.query<PointRow>(
    `SELECT ts, value FROM (
       SELECT ts, value FROM data_point
        WHERE series_id = $1 AND ($3::timestamptz IS NULL OR ts <= $3)
        ORDER BY ts DESC LIMIT $2
     ) newest ORDER BY ts`,
    [seriesId, limit, atOrBefore],
  );
  return rows;
}

async function loadPointsAfter(
  db: pg.ClientBase,
  seriesId: number,
  after: Date | null,
  limit: number,
): Promise<PointRow[]> {
  const { rows } = await db.query<PointRow>(
    `SELECT ts, value FROM data_point
      WHERE series_id = $1 AND ($2::timestamptz IS NULL OR ts > $2)
      ORDER BY ts LIMIT $3`,
    [seriesId, after, limit],
  );
  return rows;
}

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

async function insertScores(
  db: pg.ClientBase,
  seriesId: number,
  modelVersionId: number,
  points: ReadonlyArray<ScoredPoint & { error: number; isAnomaly: boolean }>,
): Promise<void> {
  const finiteOrNull = (value: number | null) =>
    value !== null && Number.isFinite(value) ? value : null;
  await db.query(
    `INSERT INTO anomaly_score
       (series_id, ts, model_version_id, error, score, is_anomaly,
        expected_low, expected_high)
     SELECT $1, p.ts, $2, p.error, p.score, p.is_anomaly, p.low, p.high
       FROM unnest($3::timestamptz[], $4::float8[], $5::float8[],
                   $6::boolean[], $7::float8[], $8::float8[])
            AS p(ts, error, score, is_anomaly, low, high)
     ON CONFLICT (series_id, ts) DO NOTHING`,
    [
      seriesId,
      modelVersionId,
      points.map((point) => point.ts),
      points.map((point) => point.error),
      points.map((point) => point.score),
      points.map((point) => point.isAnomaly),
      points.map((point) => finiteOrNull(point.expectedLow)),
      points.map((point) => finiteOrNull(point.expectedHigh)),
    ],
  );
}

async function loadEpisodeState(
  db: pg.ClientBase,
  seriesId: number,
  scoredUntil: Date | null,
): Promise<EpisodeState> {
  if (!scoredUntil) return IDLE_STATE;
  const { rows } = await db.query<{ is_anomaly: boolean }>(
    `SELECT is_anomaly FROM anomaly_score
      WHERE series_id = $1 AND ts <= $2
      ORDER BY ts DESC LIMIT 64`,
    [seriesId, scoredUntil],
  );
  return episodeStateFromRecent(
    rows.map((row) => ({ isAnomaly: row.is_anomaly })),
  );
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
): Promise<{ cursor: Date | null; state: EpisodeState; done: boolean }> {
  const contextSize = firstScoredIndex(model.params);
  const context = cursor
    ? await loadNewestPoints(db, series.seriesId, contextSize, cursor)
    : [];
  const fresh = await loadPointsAfter(
    db,
    series.seriesId,
    cursor,
    SCORING_CHUNK_POINTS,
  );
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

  const found = findEpisodes(scored, state);
  for (const episode of found.episodes) {
    const outcome = await recordEpisode(db, series, episode, log);
    if (outcome.outcome === "opened") result.opened.push(outcome.incidentId);
    if (outcome.outcome === "joined") result.joined.push(outcome.incidentId);
  }
  return {
    cursor: fresh.at(-1)!.ts,
    state: found.state,
    done: fresh.length < SCORING_CHUNK_POINTS,
  };
}

async function scoreInTransaction(
  db: pg.ClientBase,
  seriesId: number,
  log: Logger,
): Promise<ScoreSeriesResult> {
  const result: ScoreSeriesResult = {
    status: "scored",
    seriesId,
    trained: false,
    scoredPoints: 0,
    opened: [],
    joined: [],
  };
  await db.query("SELECT pg_advisory_xact_lock($1, $2)", [
    SERIES_LOCK_CLASS,
    seriesId,
  ]);

  const row = await loadSeries(db, seriesId);
  if (!row) return { ...result, status: "series_not_found" };

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
): Promise<ScoreSeriesResult> {
  const started = performance.now();
  await db.query("BEGIN");
  let result: ScoreSeriesResult;
  try {
    result = await scoreInTransaction(db, seriesId, log);
    await db.query("COMMIT");
  } catch (error) {
    await db.query("ROLLBACK").catch((rollbackError: unknown) => {
      log.error({ err: rollbackError }, "rollback failed");
    });
    throw error;
  }

  log.info(
    {
      status: result.status,
      modelVersionId: result.modelVersionId,
      trained: result.trained,
      scoredPoints: result.scoredPoints,
      openedIncidentIds: result.opened,
      joinedIncidentIds: result.joined,
      durationMs: Math.round(performance.now() - started),
    },
    "series scored",
  );
  return result;
}
