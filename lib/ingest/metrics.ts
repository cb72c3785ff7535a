import type pg from "pg";

import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import type { ApiToken } from "@/lib/generated/prisma/client";
import {
  parseMetricsBatch,
  type ParsedSeries,
} from "@/lib/ingest/metrics-schema";
import { resolveServiceForWrite } from "@/lib/ingest/services";
import { timestampLimits } from "@/lib/ingest/timestamps";
import { withTransaction } from "@/lib/ingest/transaction";
import type { Logger } from "@/lib/logger";
import { enqueueSeriesScoring } from "@/lib/queue";

// Writes a metrics batch in one transaction: all of it or nothing. The
// statement count is fixed (service, series upsert, points insert, job
// enqueue), whatever the number of points, because points go in through
// one INSERT ... SELECT FROM unnest(...) of parallel arrays.

export type MetricsIngestResult = {
  serviceId: number;
  /** Distinct series in the batch (name + label set). */
  seriesCount: number;
  /** Points stored by this request. */
  insertedPoints: number;
  /**
   * Points skipped because their series already had a point at that
   * timestamp, stored earlier or earlier in the same batch.
   */
  duplicatePoints: number;
};

type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Inserts new series and moves last_point_at forward on known ones.
 * Returns the series ids in the order of `series`.
 */
async function upsertSeries(
  db: Queryable,
  serviceId: number,
  series: ParsedSeries[],
): Promise<number[]> {
  // Series are sorted by (name, labels_key), so two batches that share
  // series lock those rows in the same order and do not deadlock on them.
  // The row lock also serialises concurrent writers of one series until
  // commit, which keeps the points insert below free of lock cycles.
  // labels and labels_key both receive the canonical JSON of the label set.
  const { rows } = await db.query<{ id: number; ordinal: string }>(
    `WITH input AS (
       SELECT * FROM unnest($2::text[], $3::text[], $4::text[],
                            $5::timestamptz[])
         WITH ORDINALITY AS t(name, labels, labels_key, last_point_at, ordinal)
     ), upserted AS (
       INSERT INTO metric_series
         (service_id, name, labels, labels_key, last_point_at)
       SELECT $1, name, labels::jsonb, labels_key, last_point_at
       FROM input ORDER BY ordinal
       ON CONFLICT (service_id, name, labels_key) DO UPDATE
         SET last_point_at = GREATEST(metric_series.last_point_at,
                                      EXCLUDED.last_point_at)
       RETURNING id, name, labels_key
     )
     SELECT upserted.id, input.ordinal
     FROM upserted JOIN input USING (name, labels_key)
     ORDER BY input.ordinal`,
    [
      serviceId,
      series.map((entry) => entry.name),
      series.map((entry) => entry.labelsKey),
      series.map((entry) => entry.labelsKey),
      series.map((entry) => new Date(entry.lastPointMs).toISOString()),
    ],
  );
  return rows.map((row) => row.id);
}

/**
 * Inserts every point of the batch with one statement; a point whose
 * (series, timestamp) exists already is skipped. Returns the number of
 * points stored per series id.
 */
async function insertPoints(
  db: Queryable,
  series: ParsedSeries[],
  seriesIds: number[],
): Promise<Map<number, number>> {
  const ids: number[] = [];
  const timestamps: string[] = [];
  const values: number[] = [];
  series.forEach((entry, index) => {
    const id = seriesIds[index]!;
    for (let i = 0; i < entry.timestamps.length; i += 1) {
      ids.push(id);
      timestamps.push(new Date(entry.timestamps[i]!).toISOString());
      values.push(entry.values[i]!);
    }
  });

  const { rows } = await db.query<{ series_id: number; inserted: string }>(
    `WITH inserted AS (
       INSERT INTO data_point (series_id, ts, value)
       SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::float8[])
       ON CONFLICT (series_id, ts) DO NOTHING
       RETURNING series_id
     )
     SELECT series_id, count(*) AS inserted FROM inserted GROUP BY series_id`,
    [ids, timestamps, values],
  );
  return new Map(rows.map((row) => [row.series_id, Number(row.inserted)]));
}

/**
 * Validates and stores a metrics batch sent with `token`, creating the
 * service on first use, and enqueues scoring for every series that got new
 * points, in the same transaction. Throws ApiError (400, 403, 413) on
 * invalid input, in which case nothing is stored.
 */
export async function ingestMetrics(
  input: unknown,
  token: ApiToken,
  log: Logger,
): Promise<MetricsIngestResult> {
  const config = getConfig();
  const batch = parseMetricsBatch(input, {
    ...timestampLimits(
      Date.now(),
      config.VIGIL_INGEST_MAX_AGE_DAYS,
      config.VIGIL_INGEST_MAX_FUTURE_MINUTES,
    ),
    maxPoints: config.VIGIL_INGEST_MAX_POINTS,
  });

  const result = await withTransaction(getPool(), async (client) => {
    const service = await resolveServiceForWrite(client, batch.service, token);
    if (service.created) {
      log.info({ serviceId: service.id, slug: batch.service }, "created service");
    }
    const seriesIds = await upsertSeries(client, service.id, batch.series);
    const insertedBySeries = await insertPoints(
      client,
      batch.series,
      seriesIds,
    );

    const changedSeriesIds = [...insertedBySeries.keys()].sort((a, b) => a - b);
    await enqueueSeriesScoring(client, changedSeriesIds);

    let insertedPoints = 0;
    for (const count of insertedBySeries.values()) insertedPoints += count;
    return { serviceId: service.id, insertedPoints };
  });

  const outcome: MetricsIngestResult = {
    serviceId: result.serviceId,
    seriesCount: batch.series.length,
    insertedPoints: result.insertedPoints,
    duplicatePoints: batch.pointCount - result.insertedPoints,
  };
  // Routine at the rate exporters send; rejections are logged at warn.
  log.debug(outcome, "stored metrics batch");
  return outcome;
}
