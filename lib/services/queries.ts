import { getPool, getPrisma } from "@/lib/db";

// Read models for the services pages and for the telemetry charts of
// incidents. Series are downsampled in SQL so that a page never ships more
// than a few hundred points per chart, whatever the range.

export const DEFAULT_MAX_CHART_POINTS = 500;

/** One chart bucket: a single point, or the aggregate of several. */
export type SeriesChartPoint = {
  /** Timestamp of the first point in the bucket, in epoch milliseconds. */
  ts: number;
  /** Mean of the bucket, or the value of its most anomalous point if it has one. */
  value: number;
  minValue: number;
  maxValue: number;
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
  point_count: number;
  score: number | null;
  likelihood: number | null;
  is_anomaly: boolean;
  expected_low: number | null;
  expected_high: number | null;
};

/**
 * Returns the points of one series in [from, to) grouped into at most
 * `maxPoints` equal-width time buckets, keeping the maximum anomaly score of
 * each bucket so that short anomalies stay visible at any zoom level.
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
                 THEN (array_agg(value ORDER BY score DESC NULLS LAST))[1]
                 ELSE avg(value) END AS value,
            min(value) AS min_value,
            max(value) AS max_value,
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
    pointCount: row.point_count,
    score: row.score,
    likelihood: row.likelihood,
    isAnomaly: row.is_anomaly,
    expectedLow: row.expected_low,
    expectedHigh: row.expected_high,
  }));
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
