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

export type OnsetPeak = {
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
  /**
   * Scored point with the maximum anomaly score between the onset and the
   * resolution, or now while open; null when none was scored.
   */
  peak: OnsetPeak | null;
};

/**
 * Returns the incident's series from a few hours before its onset to a few
 * hours after (or until now, if sooner), and the point with the maximum
 * anomaly score between the onset and the resolution (or now) for the
 * observed-versus-expected explanation.
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

  const points = await getSeriesChart(seriesId, from, to);

  const { rows } = await getPool().query<{
    ts: Date;
    observed: number;
    expected_low: number | null;
    expected_high: number | null;
    score: number;
  }>(
    `SELECT s.ts, p.value AS observed, s.expected_low, s.expected_high, s.score
       FROM anomaly_score s
       JOIN data_point p ON p.series_id = s.series_id AND p.ts = s.ts
      WHERE s.series_id = $1 AND s.ts >= $2 AND s.ts <= $3
      ORDER BY s.score DESC, s.ts ASC
      LIMIT 1`,
    [seriesId, onset, endedAt ?? now],
  );
  const row = rows[0];
  const peak = row
    ? {
        ts: row.ts,
        observed: row.observed,
        expectedLow: row.expected_low,
        expectedHigh: row.expected_high,
        score: row.score,
      }
    : null;

  return { from, to, points, peak };
}
