import { getPool, getPrisma } from "@/lib/db";
import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";

// Read models for the services pages and for the telemetry charts of
// incidents. Series are downsampled in SQL so that a page never ships more
// than a few hundred buckets per chart, whatever the range. Each bucket
// keeps its minimum and maximum with their timestamps, and the chart draws
// both, so spikes and dips stay visible at any zoom level.

export const DEFAULT_MAX_CHART_POINTS = 500;

/** One chart bucket: a single point, or the aggregate of several. */
export type SeriesChartPoint = {
  /** Timestamp of the first point in the bucket, in epoch milliseconds. */
  ts: number;
  /** Mean of the bucket, or the value of its most anomalous point if it has one. */
  value: number;
  minValue: number;
  maxValue: number;
  /** Timestamps of the bucket's minimum and maximum, in epoch milliseconds.
   * The earliest point wins a tie. */
  minTs: number;
  maxTs: number;
  /** Timestamp of the most anomalous point, whose value is `value`; null
   * when no point in the bucket is anomalous. */
  anomalyTs: number | null;
  pointCount: number;
  /** Highest raw anomaly score (forecast error over the model's threshold)
   * in the bucket; null when nothing in it was scored. */
  score: number | null;
  /** Highest anomaly likelihood in the bucket, in [0, 1]; null when nothing
   * in it was scored. */
  likelihood: number | null;
  isAnomaly: boolean;
  expectedLow: number | null;
  expectedHigh: number | null;
};

type ChartRow = {
  ts: Date;
  value: number;
  min_value: number;
  max_value: number;
  min_ts: Date;
  max_ts: Date;
  anomaly_ts: Date | null;
  point_count: number;
  score: number | null;
  likelihood: number | null;
  is_anomaly: boolean;
  expected_low: number | null;
  expected_high: number | null;
};

/**
 * Returns the points of one series in [from, to) grouped into at most
 * `maxPoints` equal-width time buckets. Each bucket keeps its minimum and
 * maximum with their times, its most anomalous point and its maximum
 * anomaly score, so that spikes and short anomalies stay visible at any
 * zoom level. The expected range of a bucket is the union of its points'
 * expected ranges. The mean is taken in numeric, because a float8 sum of
 * values near the float8 maximum overflows and fails the whole query, and
 * the mean of finite values always fits in float8 again.
 */
export async function getSeriesChart(
  seriesId: number,
  from: Date,
  to: Date,
  maxPoints: number = DEFAULT_MAX_CHART_POINTS,
): Promise<SeriesChartPoint[]> {
  const spanMs = Math.max(to.getTime() - from.getTime(), 1);
  const bucketMs = Math.max(Math.ceil(spanMs / maxPoints), 1);

  const { rows } = await getPool().query<ChartRow>(
    `WITH points AS (
       SELECT p.ts, p.value, s.score, s.likelihood, s.is_anomaly,
              s.expected_low, s.expected_high,
              floor(extract(epoch FROM p.ts - $2::timestamptz) * 1000 / $4)::bigint AS bucket
         FROM data_point p
         LEFT JOIN anomaly_score s ON s.series_id = p.series_id AND s.ts = p.ts
        WHERE p.series_id = $1 AND p.ts >= $2 AND p.ts < $3
     )
     SELECT min(ts) AS ts,
            CASE WHEN bool_or(is_anomaly)
                 THEN (array_agg(value ORDER BY score DESC NULLS LAST, ts ASC))[1]
                 ELSE avg(value::numeric)::float8 END AS value,
            CASE WHEN bool_or(is_anomaly)
                 THEN (array_agg(ts ORDER BY score DESC NULLS LAST, ts ASC))[1]
                 END AS anomaly_ts,
            min(value) AS min_value,
            max(value) AS max_value,
            (array_agg(ts ORDER BY value ASC, ts ASC))[1] AS min_ts,
            (array_agg(ts ORDER BY value DESC, ts ASC))[1] AS max_ts,
            count(*)::int AS point_count,
            max(score) AS score,
            max(likelihood) AS likelihood,
            coalesce(bool_or(is_anomaly), false) AS is_anomaly,
            min(expected_low) AS expected_low,
            max(expected_high) AS expected_high
       FROM points
      GROUP BY bucket
      ORDER BY bucket`,
    [seriesId, from, to, bucketMs],
  );

  return rows.map((row) => ({
    ts: row.ts.getTime(),
    value: row.value,
    minValue: row.min_value,
    maxValue: row.max_value,
    minTs: row.min_ts.getTime(),
    maxTs: row.max_ts.getTime(),
    anomalyTs: row.anomaly_ts?.getTime() ?? null,
    pointCount: row.point_count,
    score: row.score,
    likelihood: row.likelihood,
    isAnomaly: row.is_anomaly,
    expectedLow: row.expected_low,
    expectedHigh: row.expected_high,
  }));
}

/** A deployment drawn as a marker on a series chart. */
export type ChartDeployment = {
  id: number;
  version: string;
  environment: string;
  status: string;
  /** Epoch milliseconds. */
  deployedAt: number;
};

/** An incident drawn as a shaded span on a series chart. */
export type ChartIncident = {
  id: number;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  /** Epoch milliseconds. */
  openedAt: number;
  /** Epoch milliseconds; null while the incident is open. */
  resolvedAt: number | null;
};

export type ChartOverlays = {
  deployments: ChartDeployment[];
  incidents: ChartIncident[];
  /** True when the range held more deployments or incidents than the limits
   * below, so the chart shows only the newest of them. */
  truncated: boolean;
};

/** Maximum deployments and incidents loaded for one chart. The chart merges
 * close markers and spans, so these bound the query, not what is drawn. */
export const MAX_CHART_DEPLOYMENTS = 2000;
export const MAX_CHART_INCIDENTS = 1000;

/**
 * Loads the deployments of a service in [from, to) and its incidents that
 * overlap that range: opened before `to` and resolved at or after `from`,
 * or still open.
 */
export async function getChartOverlays(
  serviceId: number,
  from: Date,
  to: Date,
): Promise<ChartOverlays> {
  const prisma = getPrisma();
  const [deployments, incidents] = await Promise.all([
    prisma.deployment.findMany({
      where: { serviceId, deployedAt: { gte: from, lt: to } },
      orderBy: { deployedAt: "desc" },
      take: MAX_CHART_DEPLOYMENTS + 1,
      select: {
        id: true,
        version: true,
        environment: true,
        status: true,
        deployedAt: true,
      },
    }),
    prisma.incident.findMany({
      where: {
        serviceId,
        openedAt: { lt: to },
        OR: [{ resolvedAt: null }, { resolvedAt: { gte: from } }],
      },
      orderBy: { openedAt: "desc" },
      take: MAX_CHART_INCIDENTS + 1,
      select: {
        id: true,
        title: true,
        severity: true,
        status: true,
        openedAt: true,
        resolvedAt: true,
      },
    }),
  ]);

  return {
    deployments: deployments
      .slice(0, MAX_CHART_DEPLOYMENTS)
      .reverse()
      .map((deployment) => ({
        ...deployment,
        deployedAt: deployment.deployedAt.getTime(),
      })),
    incidents: incidents
      .slice(0, MAX_CHART_INCIDENTS)
      .reverse()
      .map((incident) => ({
        ...incident,
        openedAt: incident.openedAt.getTime(),
        resolvedAt: incident.resolvedAt?.getTime() ?? null,
      })),
    truncated:
      deployments.length > MAX_CHART_DEPLOYMENTS ||
      incidents.length > MAX_CHART_INCIDENTS,
  };
}

export type ServiceSummary = {
  id: number;
  slug: string;
  name: string;
  description: string | null;
  seriesCount: number;
  openIncidentCount: number;
  lastPointAt: Date | null;
  lastDeployment: { version: string; deployedAt: Date } | null;
};

/** Lists every service with the counts the services index shows. */
export async function listServices(): Promise<ServiceSummary[]> {
  const services = await getPrisma().service.findMany({
    orderBy: { name: "asc" },
    select: {
      id: true,
      slug: true,
      name: true,
      description: true,
      series: { select: { lastPointAt: true } },
      incidents: {
        where: { status: { in: ["triggered", "acknowledged"] } },
        select: { id: true },
      },
      deployments: {
        orderBy: { deployedAt: "desc" },
        take: 1,
        select: { version: true, deployedAt: true },
      },
    },
  });

  return services.map((service) => {
    const lastPoints = service.series
      .map((series) => series.lastPointAt?.getTime() ?? 0)
      .filter((ts) => ts > 0);
    return {
      id: service.id,
      slug: service.slug,
      name: service.name,
      description: service.description,
      seriesCount: service.series.length,
      openIncidentCount: service.incidents.length,
      lastPointAt:
        lastPoints.length > 0 ? new Date(Math.max(...lastPoints)) : null,
      lastDeployment: service.deployments[0] ?? null,
    };
  });
}

/** Returns id, slug and name of every service, for filters. */
export function listServiceOptions() {
  return getPrisma().service.findMany({
    orderBy: { name: "asc" },
    select: { id: true, slug: true, name: true },
  });
}

const RECENT_LIMIT = 20;

/**
 * Loads one service with its series (each with its newest model version,
 * without the weights), its recent deployments and its recent incidents.
 * Returns null when no service has that slug.
 */
export async function getServiceDetail(slug: string) {
  return getPrisma().service.findUnique({
    where: { slug },
    select: {
      id: true,
      slug: true,
      name: true,
      description: true,
      requestMetric: true,
      errorMetric: true,
      series: {
        orderBy: [{ name: "asc" }, { labelsKey: "asc" }],
        select: {
          id: true,
          name: true,
          labels: true,
          lastPointAt: true,
          alarmThreshold: true,
          modelVersions: {
            where: { status: "active" },
            orderBy: { version: "desc" },
            take: 1,
            select: {
              version: true,
              status: true,
              kind: true,
              backend: true,
              threshold: true,
              createdAt: true,
              trainedFrom: true,
              trainedTo: true,
              pointCount: true,
              trainingMs: true,
            },
          },
        },
      },
      deployments: {
        orderBy: { deployedAt: "desc" },
        take: RECENT_LIMIT,
        select: {
          id: true,
          version: true,
          environment: true,
          status: true,
          deployedAt: true,
          commitSha: true,
          description: true,
        },
      },
      incidents: {
        orderBy: { openedAt: "desc" },
        take: RECENT_LIMIT,
        select: {
          id: true,
          title: true,
          status: true,
          severity: true,
          openedAt: true,
          resolvedAt: true,
        },
      },
    },
  });
}

export type ServiceDetail = NonNullable<
  Awaited<ReturnType<typeof getServiceDetail>>
>;

/** Returns the service id and alarm threshold of a series, or null when no
 * series has that id. */
export async function getSeriesChartContext(seriesId: number) {
  return getPrisma().metricSeries.findUnique({
    where: { id: seriesId },
    select: { serviceId: true, alarmThreshold: true },
  });
}
