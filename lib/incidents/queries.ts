import { getPool, getPrisma } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";
import { getSeriesChart, type SeriesChartPoint } from "@/lib/services/queries";

// Read models for the incident list, the incident page and the overview.

export const OPEN_STATUSES: IncidentStatus[] = ["triggered", "acknowledged"];

/** "open" means triggered or acknowledged. */
export type IncidentStatusFilter = IncidentStatus | "open";

export type IncidentFilters = {
  status?: IncidentStatusFilter;
  serviceId?: number;
  /** Only incidents of these services; an empty list matches none. */
  serviceIds?: number[];
  /** Only incidents opened at or after this time. */
  openedFrom?: Date;
  /** Only incidents opened before this time. */
  openedBefore?: Date;
  /** Only resolved incidents with resolvedAt in [from, before). */
  resolvedWithin?: { from: Date; before: Date };
  /** Only incidents assigned to this user, or unassigned ones for null. */
  assigneeId?: number | null;
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
      ...(filters.serviceIds ? { serviceId: { in: filters.serviceIds } } : {}),
      ...(filters.openedFrom || filters.openedBefore
        ? { openedAt: { gte: filters.openedFrom, lt: filters.openedBefore } }
        : {}),
      ...(filters.resolvedWithin
        ? {
            status: "resolved" as const,
            resolvedAt: {
              gte: filters.resolvedWithin.from,
              lt: filters.resolvedWithin.before,
            },
          }
        : {}),
      ...(filters.assigneeId !== undefined
        ? { assigneeId: filters.assigneeId }
        : {}),
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
      assignee: { select: { name: true } },
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
      assignee: { select: { id: true, name: true } },
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

/** Largest page of GET /api/v1/incidents. */
export const INCIDENT_PAGE_MAX = 200;

export type IncidentPageFilters = {
  statuses?: IncidentStatus[];
  serviceId?: number;
  severities?: Severity[];
  /** A user id, or null for unassigned incidents. */
  assigneeId?: number | null;
  /** Position after the last incident of the previous page. */
  after?: IncidentCursor;
  limit: number;
};

/** Position in the list order: opened_at descending, then id descending. */
export type IncidentCursor = { openedAt: Date; id: number };

export type IncidentSummaryRow = {
  id: number;
  title: string;
  status: IncidentStatus;
  severity: Severity;
  source: string;
  service_slug: string;
  service_name: string;
  series_id: number | null;
  opened_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  assignee_id: number | null;
  assignee_name: string | null;
};

const SUMMARY_SELECT = `
  SELECT i.id, i.title, i.status, i.severity, i.source,
         s.slug AS service_slug, s.name AS service_name, i.series_id,
         i.opened_at, i.acknowledged_at, ack.name AS acknowledged_by,
         i.resolved_at, res.name AS resolved_by, i.assignee_id,
         asg.name AS assignee_name
    FROM incident i
    JOIN service s ON s.id = i.service_id
    LEFT JOIN user_account ack ON ack.id = i.acknowledged_by_id
    LEFT JOIN user_account res ON res.id = i.resolved_by_id
    LEFT JOIN user_account asg ON asg.id = i.assignee_id`;

/**
 * Lists one page of incidents, newest first, with keyset paging: the next
 * page starts after the cursor of the last row, so incidents that open
 * meanwhile do not shift it. Returns limit + 1 rows at most, so the caller
 * knows whether another page follows.
 */
export async function listIncidentPage(
  filters: IncidentPageFilters,
): Promise<IncidentSummaryRow[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.statuses?.length) {
    conditions.push(`i.status = ANY(${param(filters.statuses)}::"IncidentStatus"[])`);
  }
  if (filters.serviceId !== undefined) {
    conditions.push(`i.service_id = ${param(filters.serviceId)}`);
  }
  if (filters.severities?.length) {
    conditions.push(`i.severity = ANY(${param(filters.severities)}::"Severity"[])`);
  }
  if (filters.assigneeId === null) conditions.push("i.assignee_id IS NULL");
  else if (filters.assigneeId !== undefined) {
    conditions.push(`i.assignee_id = ${param(filters.assigneeId)}`);
  }
  if (filters.after) {
    conditions.push(
      `(i.opened_at, i.id) < (${param(filters.after.openedAt)}::timestamptz, ${param(filters.after.id)}::int)`,
    );
  }
  const where = conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
  const { rows } = await getPool().query<IncidentSummaryRow>(
    `${SUMMARY_SELECT} ${where}
     ORDER BY i.opened_at DESC, i.id DESC
     LIMIT ${param(filters.limit + 1)}`,
    params,
  );
  return rows;
}

/** Loads one incident's summary row, or null when the id is unknown. */
export async function getIncidentSummary(
  id: number,
): Promise<(IncidentSummaryRow & { summary: string | null; service_id: number }) | null> {
  const { rows } = await getPool().query<
    IncidentSummaryRow & { summary: string | null; service_id: number }
  >(
    `${SUMMARY_SELECT.replace("SELECT i.id,", "SELECT i.summary, i.service_id, i.id,")}
      WHERE i.id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export type TimelineEventRow = {
  id: number;
  kind: string;
  actor_type: string;
  actor_id: number | null;
  actor_name: string;
  message: string;
  data: unknown;
  created_at: Date;
};

/** Lists an incident's timeline, oldest first. */
export async function listIncidentEvents(
  incidentId: number,
): Promise<TimelineEventRow[]> {
  const { rows } = await getPool().query<TimelineEventRow>(
    `SELECT id, kind, actor_type, actor_id, actor_name, message, data, created_at
       FROM incident_event WHERE incident_id = $1
      ORDER BY created_at, id`,
    [incidentId],
  );
  return rows;
}
