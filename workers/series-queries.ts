import type pg from "pg";

import {
  EPISODE_QUIET_POINTS,
  episodeStateFromRecent,
  IDLE_STATE,
  parseEpisodeState,
  type EpisodeState,
  type ScoredPoint,
} from "@/lib/incidents/detector";

// SQL of the score-series job: reading a series and its points, writing
// anomaly scores in bulk, and reading back the episode state.

export type SeriesRow = {
  id: number;
  service_id: number;
  name: string;
  labels: Record<string, unknown>;
  scored_until: Date | null;
  detector_state: unknown;
  episode_state: unknown;
  alarm_threshold: number | null;
  service_slug: string;
  service_name: string;
};

export type PointRow = { ts: Date; value: number };

export async function loadSeries(
  db: pg.ClientBase,
  seriesId: number,
): Promise<SeriesRow | undefined> {
  const { rows } = await db.query<SeriesRow>(
    `SELECT s.id, s.service_id, s.name, s.labels, s.scored_until,
            s.detector_state, s.episode_state, s.alarm_threshold, sv.slug AS service_slug, sv.name AS service_name
       FROM metric_series s JOIN service sv ON sv.id = s.service_id
      WHERE s.id = $1`,
    [seriesId],
  );
  return rows[0];
}

/** Loads the newest `limit` points of a series, oldest first. */
export async function loadNewestPoints(
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

/** Loads up to `limit` points after `after` (all when null), oldest first. */
export async function loadPointsAfter(
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

/** Inserts scores with one statement. A score already stored for a
 * timestamp is kept, so a rerun cannot duplicate or overwrite rows. */
export async function insertScores(
  db: pg.ClientBase,
  seriesId: number,
  modelVersionId: number,
  points: ReadonlyArray<ScoredPoint & { error: number }>,
): Promise<void> {
  const finiteOrNull = (value: number | null) =>
    value !== null && Number.isFinite(value) ? value : null;
  await db.query(
    `INSERT INTO anomaly_score
       (series_id, ts, model_version_id, error, score, is_anomaly,
        expected_low, expected_high, likelihood, deviation)
     SELECT $1, p.ts, $2, p.error, p.score, p.is_anomaly, p.low, p.high,
            p.likelihood, p.deviation
       FROM unnest($3::timestamptz[], $4::float8[], $5::float8[],
                   $6::boolean[], $7::float8[], $8::float8[],
                   $9::float8[], $10::float8[])
            AS p(ts, error, score, is_anomaly, low, high, likelihood,
                 deviation)
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
      points.map((point) => point.likelihood),
      points.map((point) => finiteOrNull(point.deviation ?? null)),
    ],
  );
}

/** Returns the saved episode state, or rebuilds it from the newest scores
 * of a series scored before the worker saved it. */
export async function loadEpisodeState(
  db: pg.ClientBase,
  seriesId: number,
  scoredUntil: Date | null,
  saved: unknown,
): Promise<EpisodeState> {
  if (!scoredUntil) return IDLE_STATE;
  const parsed = parseEpisodeState(saved);
  if (parsed) return parsed;
  const { rows } = await db.query<{
    is_anomaly: boolean;
    score: number;
    deviation: number | null;
  }>(
    `SELECT is_anomaly, score, deviation FROM anomaly_score
      WHERE series_id = $1 AND ts <= $2
      ORDER BY ts DESC LIMIT $3`,
    [seriesId, scoredUntil, EPISODE_QUIET_POINTS],
  );
  return episodeStateFromRecent(
    rows.map((row) => ({
      isAnomaly: row.is_anomaly,
      score: row.score,
      deviation: row.deviation,
    })),
  );
}
