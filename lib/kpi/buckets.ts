import type { KpiRange } from "@/lib/kpi/types";

export const MAX_KPI_BUCKETS = 1000;

export type KpiBucket = { start: Date; end: Date };

/** Throws a RangeError unless range is a valid, non-empty [from, to). */
export function validateKpiRange(range: KpiRange): void {
  const from = range.from.getTime();
  const to = range.to.getTime();
  if (Number.isNaN(from) || Number.isNaN(to)) {
    throw new RangeError("KPI range from and to must be valid dates");
  }
  if (from >= to) {
    throw new RangeError(
      `KPI range must end after it starts, got from ${range.from.toISOString()} ` +
        `to ${range.to.toISOString()}`,
    );
  }
  const ids = range.serviceIds;
  if (ids !== undefined && !ids.every((id) => Number.isSafeInteger(id))) {
    throw new RangeError("KPI range serviceIds must be integers");
  }
}

/**
 * Splits [from, to) into `count` consecutive buckets of equal length,
 * rounded to whole milliseconds; the last bucket ends exactly at `to`.
 */
export function splitRange(range: KpiRange, count: number): KpiBucket[] {
  validateKpiRange(range);
  if (!Number.isInteger(count) || count < 1 || count > MAX_KPI_BUCKETS) {
    throw new RangeError(
      `KPI bucket count must be an integer from 1 to ${MAX_KPI_BUCKETS}, got ${count}`,
    );
  }

  const from = range.from.getTime();
  const length = range.to.getTime() - from;
  const edges = Array.from({ length: count + 1 }, (_, i) =>
    i === count ? from + length : from + Math.round((length * i) / count),
  );
  return edges
    .slice(0, count)
    .map((start, i) => ({ start: new Date(start), end: new Date(edges[i + 1]!) }));
}
