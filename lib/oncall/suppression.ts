import type { Queryable } from "@/lib/incidents/events";
import { type LabelMatcher, silenceMatches } from "@/lib/oncall/matchers";

// Maintenance windows and silences that suppress a service's notifications,
// escalation and automatic runbooks while they are active.

export {
  LABEL_MATCHER_OPERATORS,
  labelMatcherSchema,
  matchesLabel,
  silenceMatches,
  validateMatcherPattern,
  type LabelMatcher,
} from "@/lib/oncall/matchers";

export type Suppression = {
  kind: "maintenance" | "silence";
  id: number;
  /** The window's or silence's reason, such as "DB upgrade". */
  name: string;
  endsAt: Date;
};

type SuppressionRow = {
  kind: "maintenance" | "silence";
  id: number;
  reason: string;
  ends_at: Date;
  matchers: LabelMatcher[];
};

// Windows and silences active at $2: started, not yet over and not ended
// early. A silence without a service applies to every service. Maintenance
// sorts first, then whatever suppresses the longest.
const ACTIVE_SUPPRESSIONS_SQL = `
  SELECT 'maintenance' AS kind, id, reason,
         LEAST(ends_at, COALESCE(ended_at, ends_at)) AS ends_at,
         '[]'::jsonb AS matchers
    FROM maintenance_window
   WHERE service_id = $1::int
     AND starts_at <= $2::timestamptz
     AND ends_at > $2::timestamptz
     AND (ended_at IS NULL OR ended_at > $2::timestamptz)
  UNION ALL
  SELECT 'silence' AS kind, id, reason,
         LEAST(ends_at, COALESCE(ended_at, ends_at)) AS ends_at,
         matchers
    FROM silence
   WHERE (service_id = $1::int OR service_id IS NULL)
     AND starts_at <= $2::timestamptz
     AND ends_at > $2::timestamptz
     AND (ended_at IS NULL OR ended_at > $2::timestamptz)
  ORDER BY kind, ends_at DESC, id`;

/**
 * Finds the maintenance window or silence that suppresses a service's
 * notifications, escalation and automatic runbooks at `at`, or null when
 * none does. `labels` are the incident's alert labels, which silences with
 * label matchers need.
 */
export async function findSuppression(
  db: Queryable,
  serviceId: number,
  at: Date,
  labels?: Record<string, string>,
): Promise<Suppression | null> {
  const { rows } = await db.query<SuppressionRow>(ACTIVE_SUPPRESSIONS_SQL, [
    serviceId,
    at,
  ]);
  for (const row of rows) {
    if (row.kind === "silence" && !silenceMatches(row.matchers, labels)) continue;
    return { kind: row.kind, id: row.id, name: row.reason, endsAt: row.ends_at };
  }
  return null;
}

/**
 * Formats a suppression for the timeline, such as
 * "maintenance 'DB upgrade' until 2026-12-05 03:00 UTC".
 */
export function describeSuppression(suppression: Suppression): string {
  const until = suppression.endsAt.toISOString().slice(0, 16).replace("T", " ");
  return `${suppression.kind} '${suppression.name}' until ${until} UTC`;
}

/**
 * Returns the labels that silences match for an incident: the alert's
 * labels for an alert incident (from its "opened" event), else the series'
 * labels with the metric name as __name__, else none.
 */
export async function incidentLabels(
  db: Queryable,
  incidentId: number,
): Promise<Record<string, string> | undefined> {
  const { rows } = await db.query<{
    alert_labels: Record<string, string> | null;
    metric_name: string | null;
    series_labels: Record<string, string> | null;
  }>(
    `SELECT (SELECT e.data->'labels' FROM incident_event e
              WHERE e.incident_id = i.id AND e.kind = 'opened'
                AND jsonb_typeof(e.data->'labels') = 'object'
              ORDER BY e.id LIMIT 1) AS alert_labels,
            m.name AS metric_name, m.labels AS series_labels
       FROM incident i LEFT JOIN metric_series m ON m.id = i.series_id
      WHERE i.id = $1`,
    [incidentId],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.alert_labels) return stringLabels(row.alert_labels);
  if (row.metric_name !== null) {
    return { ...stringLabels(row.series_labels ?? {}), __name__: row.metric_name };
  }
  return undefined;
}

function stringLabels(labels: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) result[name] = String(value);
  return result;
}

/**
 * Finds the maintenance window or silence that suppresses an incident's
 * notifications at `at`, matching silences against incidentLabels.
 */
export async function findIncidentSuppression(
  db: Queryable,
  incidentId: number,
  at: Date,
): Promise<Suppression | null> {
  const { rows } = await db.query<{ service_id: number }>(
    "SELECT service_id FROM incident WHERE id = $1",
    [incidentId],
  );
  if (!rows[0]) return null;
  return findSuppression(db, rows[0].service_id, at, await incidentLabels(db, incidentId));
}
