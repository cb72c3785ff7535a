import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { describeValue, parseInput } from "@/lib/api/validation";
import {
  canonicalLabelsKey,
  MAX_LABELS_KEY_BYTES,
  labelsSchema,
  metricNameSchema,
  serviceSlugSchema,
} from "@/lib/ingest/schemas";
import {
  checkTimestamp,
  type TimestampLimits,
} from "@/lib/ingest/timestamps";

// The JSON batch of POST /api/v1/metrics:
//   { "service": "checkout",
//     "series": [ { "name": "http_requests", "labels": { "route": "/pay" },
//                   "points": [ ["2026-12-04T10:00:00Z", 12.5],
//                               [1796378460000, 13] ] } ] }
// A point is [timestamp, value]. Unknown fields are rejected so that a typo
// such as "point" fails loudly instead of being ignored.

export type MetricsBatchLimits = TimestampLimits & { maxPoints: number };

type ParsedPoints = { timestamps: number[]; values: number[]; lastMs: number };

/**
 * Validates [timestamp, value] points with a plain loop instead of a zod
 * tuple per point, which measured about ten times slower on 100,000 points.
 * Reports the first invalid point with its path relative to the array.
 */
function pointsSchema(limits: TimestampLimits) {
  return z
    .array(z.unknown())
    .min(1, { message: "must contain at least one [timestamp, value] point" })
    .transform((points, ctx): ParsedPoints => {
      const timestamps = new Array<number>(points.length);
      const values = new Array<number>(points.length);
      let lastMs = -Infinity;
      for (let i = 0; i < points.length; i += 1) {
        const point = points[i];
        if (!Array.isArray(point) || point.length !== 2) {
          ctx.addIssue({
            code: "custom",
            path: [i],
            input: point,
            message: "must be a [timestamp, value] pair",
          });
          return z.NEVER;
        }

        const timestamp = checkTimestamp(point[0], limits);
        if (!timestamp.ok) {
          ctx.addIssue({
            code: "custom",
            path: [i, 0],
            input: point[0],
            message: timestamp.message,
          });
          return z.NEVER;
        }
        const value: unknown = point[1];
        if (typeof value !== "number" || !Number.isFinite(value)) {
          ctx.addIssue({
            code: "custom",
            path: [i, 1],
            input: value,
            message: `must be a finite number, got ${describeValue(value)}`,
          });
          return z.NEVER;
        }

        timestamps[i] = timestamp.ms;
        values[i] = value;
        if (timestamp.ms > lastMs) lastMs = timestamp.ms;
      }
      return { timestamps, values, lastMs };
    });
}

function buildBatchSchema(limits: TimestampLimits) {
  const seriesSchema = z.strictObject({
    name: metricNameSchema,
    labels: labelsSchema.default({}),
    points: pointsSchema(limits),
  });
  return z.strictObject({
    service: serviceSlugSchema,
    series: z.array(seriesSchema).min(1, {
      message: "must contain at least one series",
    }),
  });
}

/** One series of a validated batch, with points merged across duplicates. */
export type ParsedSeries = {
  /** Index of the series' first entry in the request's series array. */
  index: number;
  name: string;
  /** Label set as canonical JSON with sorted keys. */
  labelsKey: string;
  /** Epoch milliseconds, parallel to values. */
  timestamps: number[];
  values: number[];
  lastPointMs: number;
};

export type ParsedMetricsBatch = {
  service: string;
  /** Sorted by name, then labelsKey, so that writers lock rows in one order. */
  series: ParsedSeries[];
  pointCount: number;
};

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Counts points in an unvalidated body, so oversized batches fail fast. */
function countPoints(input: unknown): number {
  const series = (input as { series?: unknown } | null)?.series;
  if (!Array.isArray(series)) return 0;
  let count = 0;
  for (const entry of series) {
    const points = (entry as { points?: unknown } | null)?.points;
    if (Array.isArray(points)) count += points.length;
  }
  return count;
}

/**
 * Validates a metrics batch. Throws a 413 ApiError when it has more points
 * than limits.maxPoints and a 400 ApiError naming the first invalid field.
 * Series that repeat a name and label set are merged into one.
 */
export function parseMetricsBatch(
  input: unknown,
  limits: MetricsBatchLimits,
): ParsedMetricsBatch {
  const pointCount = countPoints(input);
  if (pointCount > limits.maxPoints) {
    throw new ApiError(
      413,
      "too_many_points",
      `batch contains ${pointCount} points, more than the limit of ` +
        `${limits.maxPoints} (VIGIL_INGEST_MAX_POINTS); ` +
        "split it into smaller batches",
      { field: "series" },
    );
  }

  const batch = parseInput(buildBatchSchema(limits), input);
  const byKey = new Map<string, ParsedSeries>();
  for (const [index, entry] of batch.series.entries()) {
    const labelsKey = canonicalLabelsKey(entry.labels);
    const labelsBytes = Buffer.byteLength(labelsKey, "utf8");
    if (labelsBytes > MAX_LABELS_KEY_BYTES) {
      throw new ApiError(
        400,
        "invalid_field",
        `series[${index}].labels encode to ${labelsBytes} bytes of JSON, ` +
          `more than the limit of ${MAX_LABELS_KEY_BYTES}; shorten the label values`,
        { field: `series[${index}].labels` },
      );
    }
    const key = `${entry.name}\u0000${labelsKey}`;
    let series = byKey.get(key);
    if (series === undefined) {
      series = {
        index,
        name: entry.name,
        labelsKey,
        timestamps: [],
        values: [],
        lastPointMs: -Infinity,
      };
      byKey.set(key, series);
    }
    const { timestamps, values, lastMs } = entry.points;
    for (let i = 0; i < timestamps.length; i += 1) {
      series.timestamps.push(timestamps[i]!);
      series.values.push(values[i]!);
    }
    series.lastPointMs = Math.max(series.lastPointMs, lastMs);
  }

  const series = [...byKey.values()].sort(
    (a, b) =>
      compareStrings(a.name, b.name) ||
      compareStrings(a.labelsKey, b.labelsKey),
  );
  return { service: batch.service, series, pointCount };
}
