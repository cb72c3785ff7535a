import { getConfig } from "@/lib/config";
import type { ApiToken } from "@/lib/generated/prisma/client";
import { parseMetricsBatch } from "@/lib/ingest/metrics-schema";
import type { SeriesInput } from "@/lib/ingest/series-input";
import { storeSeries } from "@/lib/ingest/store";
import { timestampLimits } from "@/lib/ingest/timestamps";
import type { Logger } from "@/lib/logger";

// POST /api/v1/metrics: the JSON batch is validated by its schema, which
// gives errors the exact JSON path, and then stored by storeSeries like
// every other metrics format: all of it in one transaction or nothing.

export type MetricsIngestResult = {
  /** Distinct series in the batch (name + label set). */
  seriesCount: number;
  /** Points stored by this request. */
  insertedPoints: number;
  /**
   * Points skipped because their series already had a point at that
   * timestamp, stored earlier or earlier in the same batch.
   */
  duplicatePoints: number;
  /** Series created by this request. */
  newSeries: number;
};

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

  const inputs: SeriesInput[] = batch.series.map((series) => ({
    service: batch.service,
    name: series.name,
    labels: JSON.parse(series.labelsKey) as Record<string, string>,
    timestamps: series.timestamps,
    values: series.values,
    field: `series[${series.index}]`,
    serviceField: "service",
  }));
  const result = await storeSeries(inputs, token, log);
  return {
    seriesCount: result.series,
    insertedPoints: result.insertedPoints,
    duplicatePoints: result.duplicatePoints,
    newSeries: result.newSeries,
  };
}
