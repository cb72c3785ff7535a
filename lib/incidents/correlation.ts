import { getPool } from "@/lib/db";
import type { Queryable } from "@/lib/incidents/events";
import {
  findSuspectDeployments,
  type SuspectDeployment,
} from "@/lib/incidents/suspects";

// Read models of an incident's grouping and change correlation, for the
// incident page and GET /api/v1/incidents/{id}: the series of a detector
// incident, the alerts of an alert incident and the suspect deployments.

export type CorrelatedSeries = {
  seriesId: number;
  metricName: string;
  labels: Record<string, unknown>;
  onsetAt: Date;
  peakScore: number;
  peakAt: Date;
  joinedAt: Date;
  /** Null while the series is anomalous. */
  recoveredAt: Date | null;
};

export type GroupedAlert = {
  fingerprint: string;
  alertname: string | null;
  labels: Record<string, string>;
  startsAt: Date;
  lastStartsAt: Date;
  endsAt: Date | null;
  resolved: boolean;
  joinedAt: Date;
};

/** Lists the series of a detector incident in onset order. */
export async function listCorrelatedSeries(
  db: Queryable,
  incidentId: number,
): Promise<CorrelatedSeries[]> {
  const { rows } = await db.query<{
    series_id: number;
    name: string;
    labels: Record<string, unknown> | null;
    onset_at: Date;
    peak_score: number;
    peak_at: Date;
    joined_at: Date;
    recovered_at: Date | null;
  }>(
    `SELECT s.series_id, m.name, m.labels, s.onset_at, s.peak_score,
            s.peak_at, s.joined_at, s.recovered_at
       FROM incident_series s
       JOIN metric_series m ON m.id = s.series_id
      WHERE s.incident_id = $1
      ORDER BY s.onset_at, s.series_id`,
    [incidentId],
  );
  return rows.map((row) => ({
    seriesId: row.series_id,
    metricName: row.name,
    labels: row.labels ?? {},
    onsetAt: row.onset_at,
    peakScore: row.peak_score,
    peakAt: row.peak_at,
    joinedAt: row.joined_at,
    recoveredAt: row.recovered_at,
  }));
}

/** Lists the alerts of an alert incident, firing first, in start order. */
export async function listGroupedAlerts(
  db: Queryable,
  incidentId: number,
): Promise<GroupedAlert[]> {
  const { rows } = await db.query<{
    fingerprint: string;
    alertname: string | null;
    labels: Record<string, string> | null;
    starts_at: Date;
    last_starts_at: Date;
    ends_at: Date | null;
    resolved: boolean;
    joined_at: Date;
  }>(
    `SELECT fingerprint, alertname, labels, starts_at, last_starts_at,
            ends_at, resolved, joined_at
       FROM incident_alert
      WHERE incident_id = $1
      ORDER BY resolved, starts_at, fingerprint`,
    [incidentId],
  );
  return rows.map((row) => ({
    fingerprint: row.fingerprint,
    alertname: row.alertname,
    labels: row.labels ?? {},
    startsAt: row.starts_at,
    lastStartsAt: row.last_starts_at,
    endsAt: row.ends_at,
    resolved: row.resolved,
    joinedAt: row.joined_at,
  }));
}

export type IncidentCorrelation = {
  correlatedSeries: CorrelatedSeries[];
  groupedAlerts: GroupedAlert[];
  suspectDeployments: SuspectDeployment[];
};

/** Loads the series, alerts and suspect deployments of one incident. */
export async function loadIncidentCorrelation(
  incidentId: number,
  db: Queryable = getPool(),
): Promise<IncidentCorrelation> {
  const [correlatedSeries, groupedAlerts, suspectDeployments] =
    await Promise.all([
      listCorrelatedSeries(db, incidentId),
      listGroupedAlerts(db, incidentId),
      findSuspectDeployments(db, incidentId),
    ]);
  return { correlatedSeries, groupedAlerts, suspectDeployments };
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Converts a correlation to the JSON of the incident API, times as ISO 8601. */
export function serializeCorrelation(correlation: IncidentCorrelation) {
  return {
    correlatedSeries: correlation.correlatedSeries.map((series) => ({
      ...series,
      onsetAt: series.onsetAt.toISOString(),
      peakAt: series.peakAt.toISOString(),
      joinedAt: series.joinedAt.toISOString(),
      recoveredAt: iso(series.recoveredAt),
    })),
    groupedAlerts: correlation.groupedAlerts.map((alert) => ({
      ...alert,
      startsAt: alert.startsAt.toISOString(),
      lastStartsAt: alert.lastStartsAt.toISOString(),
      endsAt: iso(alert.endsAt),
      joinedAt: alert.joinedAt.toISOString(),
    })),
    suspectDeployments: correlation.suspectDeployments.map((suspect) => ({
      deploymentId: suspect.deploymentId,
      version: suspect.version,
      environment: suspect.environment,
      status: suspect.status,
      commitSha: suspect.commitSha,
      description: suspect.description,
      deployedAt: suspect.deployedAt.toISOString(),
      gapMinutes: suspect.gapMinutes,
    })),
  };
}
