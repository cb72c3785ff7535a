import type { Severity } from "@/lib/generated/prisma/enums";
import type { Queryable } from "@/lib/incidents/events";

// The facts about an incident that runbook ranking uses: its service, metric or
// alert name, labels, severity and the text compared with runbooks (title,
// summary, metric name, labels, alert name and annotations). Alert labels
// and annotations come from the data of the incident's "opened" event,
// which the alert ingest writes.

export type IncidentProfile = {
  incidentId: number;
  serviceSlug: string;
  metricName: string | null;
  alertName: string | null;
  severity: Severity;
  labels: Record<string, unknown>;
  text: string;
};

type ProfileRow = {
  id: number;
  title: string;
  summary: string | null;
  severity: Severity;
  source: string;
  service_slug: string;
  metric_name: string | null;
  series_labels: Record<string, unknown> | null;
  opened_data: Record<string, unknown> | null;
};

export const PROFILE_SELECT = `
  SELECT i.id, i.title, i.summary, i.severity, i.source,
         s.slug AS service_slug, ms.name AS metric_name,
         ms.labels AS series_labels,
         (SELECT e.data FROM incident_event e
           WHERE e.incident_id = i.id AND e.kind = 'opened'
           ORDER BY e.id LIMIT 1) AS opened_data
    FROM incident i
    JOIN service s ON s.id = i.service_id
    LEFT JOIN metric_series ms ON ms.id = i.series_id`;

function stringRecord(value: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return record;
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === "string") record[key] = item;
  }
  return record;
}

/** Builds a profile from a row of PROFILE_SELECT. */
export function profileFromRow(row: ProfileRow): IncidentProfile {
  const isAlert = row.source === "alert";
  const alertLabels = isAlert ? stringRecord(row.opened_data?.labels) : {};
  const annotations = isAlert ? stringRecord(row.opened_data?.annotations) : {};
  const labels = isAlert ? alertLabels : (row.series_labels ?? {});
  const alertName = isAlert ? (alertLabels.alertname ?? null) : null;

  const parts = [row.title, row.summary ?? "", row.metric_name ?? ""];
  if (alertName) parts.push(alertName);
  for (const [key, value] of Object.entries(labels)) {
    parts.push(`${key} ${String(value)}`);
  }
  parts.push(...Object.values(annotations));

  return {
    incidentId: row.id,
    serviceSlug: row.service_slug,
    metricName: row.metric_name,
    alertName,
    severity: row.severity,
    labels,
    text: parts.filter((part) => part !== "").join("\n"),
  };
}

/** Loads the profile of one incident, or null when it does not exist. */
export async function loadIncidentProfile(
  db: Queryable,
  incidentId: number,
): Promise<IncidentProfile | null> {
  const { rows } = await db.query<ProfileRow>(
    `${PROFILE_SELECT} WHERE i.id = $1`,
    [incidentId],
  );
  return rows[0] ? profileFromRow(rows[0]) : null;
}

export type JudgedIncident = {
  profile: IncidentProfile;
  marks: { runbookId: number; helpful: boolean }[];
};

/** Resolved incidents whose runbook feedback counts, newest resolution first. */
export const MAX_JUDGED_INCIDENTS = 500;

/**
 * Loads the resolved incidents that have runbook feedback, except
 * `excludeIncidentId`, with every mark on them.
 */
export async function loadJudgedIncidents(
  db: Queryable,
  excludeIncidentId: number,
): Promise<JudgedIncident[]> {
  const { rows } = await db.query<ProfileRow>(
    `${PROFILE_SELECT}
      WHERE i.status = 'resolved' AND i.id <> $1
        AND EXISTS (SELECT 1 FROM runbook_feedback f WHERE f.incident_id = i.id)
      ORDER BY i.resolved_at DESC NULLS LAST, i.id DESC
      LIMIT ${MAX_JUDGED_INCIDENTS}`,
    [excludeIncidentId],
  );
  if (rows.length === 0) return [];

  const marks = await db.query<{
    incident_id: number;
    runbook_id: number;
    helpful: boolean;
  }>(
    `SELECT incident_id, runbook_id, helpful FROM runbook_feedback
      WHERE incident_id = ANY($1::int[])`,
    [rows.map((row) => row.id)],
  );
  const byIncident = new Map<number, JudgedIncident["marks"]>();
  for (const mark of marks.rows) {
    const list = byIncident.get(mark.incident_id) ?? [];
    list.push({ runbookId: mark.runbook_id, helpful: mark.helpful });
    byIncident.set(mark.incident_id, list);
  }
  return rows.map((row) => ({
    profile: profileFromRow(row),
    marks: byIncident.get(row.id) ?? [],
  }));
}
