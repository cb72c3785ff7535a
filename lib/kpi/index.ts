import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { splitRange, type KpiBucket } from "@/lib/kpi/buckets";
import { changeFailureWindowMinutes, kpiDeploymentEnvironments } from "@/lib/kpi/change-window";
import { KPI_DEFINITIONS, KPI_NULL_REASONS } from "@/lib/kpi/definitions";
import {
  queryChangeFailureRate,
  queryDeploymentFrequency,
  queryErrorRate,
  queryErrorRateFromPoints,
  queryIncidentFrequency,
  queryLeadTime,
  queryMtta,
  queryMttr,
  queryUptime,
} from "@/lib/kpi/queries";
import type {
  KpiName,
  KpiOptions,
  KpiRange,
  KpiSet,
  KpiTrendBucket,
} from "@/lib/kpi/types";

export { KPI_DEFINITIONS, KPI_NULL_REASONS } from "@/lib/kpi/definitions";
export { MAX_KPI_BUCKETS } from "@/lib/kpi/buckets";
export { changeFailureWindowMinutes, kpiDeploymentEnvironments } from "@/lib/kpi/change-window";
export type {
  KpiName,
  KpiOptions,
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
  options: KpiOptions = {},
): Promise<KpiTrendBucket[]> {
  return computeKpiTrend(range, buckets, queryErrorRate, options);
}

/**
 * Computes the same as getKpiTrend, with the error rate summed from every
 * data point instead of the rollups: the reference for tests and
 * `npm run bench:dashboard`.
 */
export function getKpiTrendFromPoints(
  range: KpiRange,
  buckets: number,
  options: KpiOptions = {},
): Promise<KpiTrendBucket[]> {
  return computeKpiTrend(range, buckets, queryErrorRateFromPoints, options);
}

async function computeKpiTrend(
  range: KpiRange,
  buckets: number,
  errorRateQuery: ErrorRateQuery,
  options: KpiOptions,
): Promise<KpiTrendBucket[]> {
  const parts = splitRange(range, buckets);
  // Time after now has no data yet, so each bucket is measured only up to
  // now. Otherwise an open incident would count as downtime until the end
  // of a range that ends later today, and rates would divide by time that
  // has not passed.
  const cutoff = now().getTime();
  const measured: KpiBucket[] = parts
    .filter((part) => part.start.getTime() < cutoff)
    .map((part) => ({
      start: part.start,
      end: new Date(Math.min(part.end.getTime(), cutoff)),
    }));
  const future = parts.slice(measured.length).map((part) => ({
    start: part.start,
    end: part.end,
    kpis: futureKpis(),
  }));
  if (measured.length === 0) return future;

  const pool = getPool();
  const ids = range.serviceIds;
  const windowMinutes = changeFailureWindowMinutes(options);
  const environments = kpiDeploymentEnvironments(options);
  const [
    uptime,
    mtta,
    mttr,
    incidentFrequency,
    deploymentFrequency,
    errorRate,
    changeFailureRate,
    leadTime,
  ] = await Promise.all([
    queryUptime(pool, measured, ids),
    queryMtta(pool, measured, ids),
    queryMttr(pool, measured, ids),
    queryIncidentFrequency(pool, measured, ids),
    queryDeploymentFrequency(pool, measured, ids, environments),
    errorRateQuery(pool, measured, ids),
    queryChangeFailureRate(pool, measured, ids, windowMinutes, environments),
    queryLeadTime(pool, measured, ids, environments),
  ]);

  const past = parts.slice(0, measured.length).map((part, i) => ({
    start: part.start,
    end: part.end,
    kpis: {
      uptime: uptime[i]!,
      mtta: mtta[i]!,
      mttr: mttr[i]!,
      incidentFrequency: incidentFrequency[i]!,
      deploymentFrequency: deploymentFrequency[i]!,
      errorRate: errorRate[i]!,
      changeFailureRate: changeFailureRate[i]!,
      leadTime: leadTime[i]!,
    },
  }));
  return [...past, ...future];
}

/** Computes every KPI over the whole range; see KPI_DEFINITIONS. */
export async function getKpis(
  range: KpiRange,
  options: KpiOptions = {},
): Promise<KpiSet> {
  const [whole] = await getKpiTrend(range, 1, options);
  return whole!.kpis;
}

/** Computes getKpis with the error rate summed from every data point. */
export async function getKpisFromPoints(
  range: KpiRange,
  options: KpiOptions = {},
): Promise<KpiSet> {
  const [whole] = await getKpiTrendFromPoints(range, 1, options);
  return whole!.kpis;
}

/**
 * Computes every KPI for `range` and for the period of equal length just
 * before it, the base of the change shown on the KPI cards.
 */
export async function getKpisWithPrevious(
  range: KpiRange,
  options: KpiOptions = {},
): Promise<{ current: KpiSet; previous: KpiSet; previousRange: KpiRange }> {
  const previousRange = previousPeriod(range);
  const [current, previous] = await Promise.all([
    getKpis(range, options),
    getKpis(previousRange, options),
  ]);
  return { current, previous, previousRange };
}

/** Returns the range of equal length that ends where `range` starts. */
export function previousPeriod(range: KpiRange): KpiRange {
  const length = range.to.getTime() - range.from.getTime();
  return {
    ...range,
    from: new Date(range.from.getTime() - length),
    to: new Date(range.from.getTime()),
  };
}
export { DEPLOYMENT_LIST_LIMIT, listDeploymentsInRange } from "@/lib/kpi/deployments";
export type { DeploymentList, ListedDeployment } from "@/lib/kpi/deployments";

/** Returns a KPI set of nulls for a bucket that starts after now. */
function futureKpis(): KpiSet {
  const names = Object.keys(KPI_DEFINITIONS) as KpiName[];
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        value: null,
        unit: KPI_DEFINITIONS[name].unit,
        sampleSize: 0,
        reason: KPI_NULL_REASONS.notStarted,
      },
    ]),
  ) as KpiSet;
}
