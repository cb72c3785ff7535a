import { getPool, getPrisma } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import type { IncidentStatus } from "@/lib/generated/prisma/enums";
import { getSeriesChart, type SeriesChartPoint } from "@/lib/services/queries";

// Read models for the incident list, the incident page and the overview.

export const OPEN_STATUSES: IncidentStatus[] = ["triggered", "acknowledged"];

/** "open" means triggered or acknowledged. */
export type IncidentStatusFilter = IncidentStatus | "open";

export type IncidentFilters = {
  status?: IncidentStatusFilter;
  serviceId?: number;
  /** Only incidents opened at or after this time. */
  openedFrom?: Date;
  limit?: number;
};

export const INCIDENT_LIST_LIMIT = 200;

function statusCondition(
  status?: IncidentStatusFilter,
): Prisma.IncidentWhereInput {
  if (!status) return {};
  if (status === "open") return { status: { in: OPEN_STATUSES } };
  return { status };
}

/** Lists incidents, newest first, with their service's slug and name. */
export function listIncidents(filters: IncidentFilters = {}) {
  return getPrisma().incident.findMany({
    where: {
      ...statusCondition(filters.status),
      ...(filters.serviceId ? { serviceId: filters.serviceId } : {}),
      ...(filters.openedFrom ? { openedAt: { gte: filters.openedFrom } } : {}),
    },
    orderBy: [{ openedAt: "desc" }, { id: "desc" }],
    take: filters.limit ?? INCIDENT_LIST_LIMIT,
    select: {
      id: true,
      title: true,
      status: true,
      severity: true,
      source: true,
      openedAt: true,
      acknowledgedAt: true,
      resolvedAt: true,
      service: { select: { slug: true, name: true } },
    },
  });
}

export type IncidentListItem = Awaited<
  ReturnType<typeof listIncidents>
>[number];

export type OpenIncidentCounts = {
  total: number;
  triggered: number;
  acknowledged: number;
};

/** Counts triggered and acknowledged incidents, optionally of some services only. */
export async function countOpenIncidents(
  serviceIds?: number[],
): Promise<OpenIncidentCounts> {
  const groups = await getPrisma().incident.groupBy({
    by: ["status"],
    where: {
      status: { in: OPEN_STATUSES },
      ...(serviceIds ? { serviceId: { in: serviceIds } } : {}),
    },
    _count: { _all: true },
  });
  const count = (status: IncidentStatus) =>
    groups.find((group) => group.status === status)?._count._all ?? 0;
  const triggered = count("triggered");
  const acknowledged = count("acknowledged");
  return { total: triggered + acknowledged, triggered, acknowledged };
}

/**
 * Loads one incident with who acknowledged and resolved it, its timeline in
 * order and its suggested runbooks, best match first. Returns null when the
 * id is unknown.
 */
export function getIncidentDetail(id: number) {
  return getPrisma().incident.findUnique({
    where: { id },
    include: {
      service: { select: { id: true, slug: true, name: true } },
      series: { select: { id: true, name: true, labels: true } },
      acknowledgedBy: { select: { id: true, name: true } },
      resolvedBy: { select: { id: true, name: true } },
      events: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
      runbooks: {
        orderBy: { score: "desc" },
        include: {
          runbook: {
            select: { id: true, slug: true, title: true, body: true },
          },
        },
      },
    },
  });
}

export type IncidentDetail = NonNullable<
  Awaited<ReturnType<typeof getIncidentDetail>>
>;

const HOUR_MS = 60 * 60 * 1000;
/** Context shown on either side of the onset in the incident's telemetry chart. */
export const ONSET_CONTEXT_MS = 3 * HOUR_MS;

/** A scored point with the observed value and the model's expected range. */
export type ScoredPointView = {
  ts: Date;
  observed: number;
  expectedLow: number | null;
  expectedHigh: number | null;
  score: number;
};

export type OnsetTelemetry = {
  from: Date;
  to: Date;
  points: SeriesChartPoint[];
  /** Scored point at the incident's onset; null when it was not scored. */
  onset: ScoredPointView | null;
  /**
   * Point whose value lies furthest outside its expected range, between the
   * onset and the resolution (or now). Null when every value stayed inside.
   */
  maxDeviation: ScoredPointView | null;
};

type ScoredPointRow = {
  ts: Date;
  observed: number;
  expected_low: number | null;
  expected_high: number | null;
  score: number;
};

function toScoredPointView(row: ScoredPointRow | undefined) {
  if (!row) return null;
  return {
    ts: row.ts,
    observed: row.observed,
    expectedLow: row.expected_low,
    expectedHigh: row.expected_high,
    score: row.score,
  };
}

const SCORED_POINT_COLUMNS = `s.ts, p.value AS observed, s.expected_low,
       s.expected_high, s.score
  FROM anomaly_score s
  JOIN data_point p ON p.series_id = s.series_id AND p.ts = s.ts`;

/**
 * Returns the incident's series from a few hours before its onset to a few
 * hours after (or until now, if sooner). Also returns the scored point at the
 * onset and the point of the episode that deviates most from its expected
 * range. The detector scores a point by the error over a window of recent
 * points, so the highest score often falls on a normal value after a spike.
 */
export async function getOnsetTelemetry(
  seriesId: number,
  onset: Date,
  endedAt: Date | null,
  now: Date = new Date(),
): Promise<OnsetTelemetry> {
  const from = new Date(onset.getTime() - ONSET_CONTEXT_MS);
  const after = Math.max(
    onset.getTime() + ONSET_CONTEXT_MS,
    (endedAt?.getTime() ?? 0) + HOUR_MS,
  );
  const to = new Date(Math.min(after, now.getTime() + 1));

  const pool = getPool();
  const [points, onsetRows, deviatingRows] = await Promise.all([
    getSeriesChart(seriesId, from, to),
    pool.query<ScoredPointRow>(
      `SELECT ${SCORED_POINT_COLUMNS}
        WHERE s.series_id = $1 AND s.ts = $2`,
      [seriesId, onset],
    ),
    pool.query<ScoredPointRow>(
      `SELECT ${SCORED_POINT_COLUMNS}
        WHERE s.series_id = $1 AND s.ts >= $2 AND s.ts <= $3
          AND s.expected_low IS NOT NULL AND s.expected_high IS NOT NULL
          AND (p.value < s.expected_low OR p.value > s.expected_high)
        ORDER BY GREATEST(s.expected_low - p.value, p.value - s.expected_high)
                 DESC, s.ts ASC
        LIMIT 1`,
      [seriesId, onset, endedAt ?? now],
    ),
  ]);

  return {
    from,
    to,
    points,
    onset: toScoredPointView(onsetRows.rows[0]),
    maxDeviation: toScoredPointView(deviatingRows.rows[0]),
  };
}
