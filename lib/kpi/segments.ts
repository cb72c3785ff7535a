import type { KpiBucket } from "@/lib/kpi/buckets";

// Splits a KPI bucket into parts that the error-rate query reads from the
// cheapest source that is still exact: whole UTC days from
// series_rollup_day, whole UTC hours from series_rollup_hour, and the
// partial hours at either edge from data_point. Hours and days are aligned
// to the Unix epoch, as date_bin(…, TIMESTAMPTZ '1970-01-01 00:00:00+00')
// aligns the rollups.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export type SegmentSource = "points" | "hour" | "day";

/** A half-open part [start, end) of KPI bucket `index` (0-based). */
export type KpiSegment = {
  index: number;
  source: SegmentSource;
  start: number;
  end: number;
};

function floorTo(ms: number, unit: number): number {
  return Math.floor(ms / unit) * unit;
}

function ceilTo(ms: number, unit: number): number {
  return Math.ceil(ms / unit) * unit;
}

/**
 * Splits one bucket into at most five segments, in time order.
 * NOTE: a bucket of an hour or less that is not aligned to the hour is all
 * points, so hourly trend points of an off-the-hour range read every point.
 */
export function splitBucket(bucket: KpiBucket, index: number): KpiSegment[] {
  const start = bucket.start.getTime();
  const end = bucket.end.getTime();
  const firstHour = ceilTo(start, HOUR_MS);
  const lastHour = floorTo(end, HOUR_MS);
  if (firstHour >= lastHour) return [{ index, source: "points", start, end }];

  const segments: KpiSegment[] = [];
  const add = (source: SegmentSource, from: number, to: number) => {
    if (from < to) segments.push({ index, source, start: from, end: to });
  };
  add("points", start, firstHour);
  const firstDay = ceilTo(firstHour, DAY_MS);
  const lastDay = floorTo(lastHour, DAY_MS);
  if (firstDay < lastDay) {
    add("hour", firstHour, firstDay);
    add("day", firstDay, lastDay);
    add("hour", lastDay, lastHour);
  } else {
    add("hour", firstHour, lastHour);
  }
  add("points", lastHour, end);
  return segments;
}

/** Splits every bucket; segment indexes are the buckets' positions. */
export function splitBuckets(buckets: KpiBucket[]): KpiSegment[] {
  return buckets.flatMap((bucket, index) => splitBucket(bucket, index));
}
