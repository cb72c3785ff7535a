import { getPool } from "@/lib/db";
import { splitRange } from "@/lib/kpi/buckets";
import {
  queryDeploymentFrequency,
  queryErrorRate,
  queryErrorRateFromPoints,
  queryIncidentFrequency,
  queryMtta,
  queryMttr,
  queryUptime,
} from "@/lib/kpi/queries";
import type { KpiRange, KpiSet, KpiTrendBucket } from "@/lib/kpi/types";

export { KPI_DEFINITIONS, KPI_NULL_REASONS } from "@/lib/kpi/definitions";
export { MAX_KPI_BUCKETS } from "@/lib/kpi/buckets";
export type {
  KpiName,
  KpiRange,
  KpiSet,
  KpiTrendBucket,
  KpiValue,
} from "@/lib/kpi/types";

export {
  DEFAULT_FOLD_BATCH_HOURS,
  foldAllPendingRollups,
  foldPendingRollups,
} from "@/lib/kpi/rollups";
export type { FoldResult } from "@/lib/kpi/rollups";

type ErrorRateQuery = typeof queryErrorRate;

/**
 * Computes every KPI for each of `buckets` equal parts of the range, with
 * one SQL query per KPI. Throws a RangeError for an empty or invalid range
 * or a bucket count outside 1..MAX_KPI_BUCKETS.
 */
export function getKpiTrend(
  range: KpiRange,
  buckets: number,
): Promise<KpiTrendBucket[]> {
  return computeKpiTrend(range, buckets, queryErrorRate);
}

/**
 * Computes the same as getKpiTrend, with the error rate summed from every
 * data point instead of the rollups: the reference for tests and
 * `npm run bench:dashboard`.
 */
export function getKpiTrendFromPoints(
  range: KpiRange,
  buckets: number,
): Promise<KpiTrendBucket[]> {
  return computeKpiTrend(range, buckets, queryErrorRateFromPoints);
}

async function computeKpiTrend(
  range: KpiRange,
  buckets: number,
  errorRateQuery: ErrorRateQuery,
): Promise<KpiTrendBucket[]> {
  const parts = splitRange(range, buckets);
  const pool = getPool();
  const ids = range.serviceIds;
  const [
    uptime,
    mtta,
    mttr,
    incidentFrequency,
    deploymentFrequency,
    errorRate,
  ] = await Promise.all([
    queryUptime(pool, parts, ids),
    queryMtta(pool, parts, ids),
    queryMttr(pool, parts, ids),
    queryIncidentFrequency(pool, parts, ids),
    queryDeploymentFrequency(pool, parts, ids),
    errorRateQuery(pool, parts, ids),
  ]);

  return parts.map((part, i) => ({
    start: part.start,
    end: part.end,
    kpis: {
      uptime: uptime[i]!,
      mtta: mtta[i]!,
      mttr: mttr[i]!,
      incidentFrequency: incidentFrequency[i]!,
      deploymentFrequency: deploymentFrequency[i]!,
      errorRate: errorRate[i]!,
    },
  }));
}

/** Computes every KPI over the whole range; see KPI_DEFINITIONS. */
export async function getKpis(range: KpiRange): Promise<KpiSet> {
  const [whole] = await getKpiTrend(range, 1);
  return whole!.kpis;
}

/** Computes getKpis with the error rate summed from every data point. */
export async function getKpisFromPoints(range: KpiRange): Promise<KpiSet> {
  const [whole] = await getKpiTrendFromPoints(range, 1);
  return whole!.kpis;
}
