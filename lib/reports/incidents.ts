import { getPool } from "@/lib/db";
import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";

// The incident list of a report: every incident of the selected services
// opened in the period, with its duration and the root cause from its
// postmortem. An incident is major when its severity is sev1 or sev2, or
// when it is among the MAJOR_LONGEST_COUNT longest of the others.

export const MAJOR_SEVERITIES: Severity[] = ["sev1", "sev2"];
export const MAJOR_LONGEST_COUNT = 5;
/**
 * Maximum incidents in one report. listReportIncidents throws
 * TooManyIncidentsError above it, and the report routes return 422.
 */
export const REPORT_INCIDENTS_MAX = 20_000;

export type ReportIncident = {
  id: number;
  serviceSlug: string;
  serviceName: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  openedAt: Date;
  acknowledgedAt: Date | null;
  resolvedAt: Date | null;
  /**
   * resolvedAt - openedAt, or for an incident still open at the end of the
   * period, the end of the period (or now, if earlier) - openedAt.
   */
  durationSeconds: number;
  /** True while the incident was not resolved at the end of the period. */
  ongoing: boolean;
  /** Root cause of the postmortem (Markdown), "" when none is written. */
  rootCause: string;
  /** Why it is major: "severity", "duration", or null for a minor one. */
  major: "severity" | "duration" | null;
};

type IncidentRow = {
  id: number;
  slug: string;
  name: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  opened_at: Date;
  acknowledged_at: Date | null;
  resolved_at: Date | null;
  root_cause: string | null;
};

export class TooManyIncidentsError extends Error {
  constructor(readonly limit: number) {
    super(`the period has more than ${limit} incidents`);
    this.name = "TooManyIncidentsError";
  }
}

/**
 * Lists the incidents of `serviceIds` (every service when undefined) with
 * opened_at in [from, to), oldest first. The end of an open incident is
 * min(to, now). Throws TooManyIncidentsError above REPORT_INCIDENTS_MAX.
 */
export async function listReportIncidents(
  from: Date,
  to: Date,
  serviceIds: number[] | undefined,
  now: Date,
): Promise<ReportIncident[]> {
  // The root cause is the column that getPostmortem in
  // lib/incidents/postmortem.ts reads, joined here so that a year of
  // incidents takes one query instead of one per incident.
  const { rows } = await getPool().query<IncidentRow>(
    `SELECT i.id, s.slug, s.name, i.title, i.severity, i.status, i.opened_at,
            i.acknowledged_at, i.resolved_at, p.root_cause
       FROM incident i
       JOIN service s ON s.id = i.service_id
       LEFT JOIN incident_postmortem p ON p.incident_id = i.id
      WHERE i.opened_at >= $1 AND i.opened_at < $2
        AND ($3::int[] IS NULL OR i.service_id = ANY($3::int[]))
      ORDER BY i.opened_at, i.id
      LIMIT $4`,
    [from, to, serviceIds ?? null, REPORT_INCIDENTS_MAX + 1],
  );
  if (rows.length > REPORT_INCIDENTS_MAX) {
    throw new TooManyIncidentsError(REPORT_INCIDENTS_MAX);
  }

  const end = Math.min(to.getTime(), now.getTime());
  const incidents: ReportIncident[] = rows.map((row) => {
    const resolved = row.resolved_at !== null && row.resolved_at.getTime() <= end;
    const stop = resolved ? row.resolved_at!.getTime() : end;
    return {
      id: row.id,
      serviceSlug: row.slug,
      serviceName: row.name,
      title: row.title,
      severity: row.severity,
      status: row.status,
      openedAt: row.opened_at,
      acknowledgedAt: row.acknowledged_at,
      resolvedAt: row.resolved_at,
      durationSeconds: Math.max(0, (stop - row.opened_at.getTime()) / 1000),
      ongoing: !resolved,
      rootCause: row.root_cause?.trim() ?? "",
      major: MAJOR_SEVERITIES.includes(row.severity) ? "severity" : null,
    };
  });

  const longest = incidents
    .filter((incident) => incident.major === null)
    .sort((a, b) => b.durationSeconds - a.durationSeconds || a.id - b.id)
    .slice(0, MAJOR_LONGEST_COUNT);
  for (const incident of longest) incident.major = "duration";
  return incidents;
}
