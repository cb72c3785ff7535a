import type { ParsedAlert } from "@/lib/ingest/alerts/parse";
import type { Queryable } from "@/lib/incidents/events";

// The alerts of an alert incident (table incident_alert), and the lookups
// that group an alert storm into one incident. Alerts of one service whose
// grouping labels (VIGIL_ALERT_GROUP_LABELS, alertname by default) have equal
// values join the open incident of their group when they start within the
// grouping window of its onset. Callers hold the service's alert grouping
// lock (lib/incidents/grouping.ts), so two deliveries cannot open two
// incidents for one storm. Alerts of other groups join too once the service
// has VIGIL_ALERT_STORM_INCIDENTS open incidents within the window, and a
// resolved incident is found again when its alert fires once more.

export type AlertIncidentRow = {
  id: number;
  status: "triggered" | "acknowledged" | "resolved";
  dedup_key: string;
  opened_at: Date;
  resolved_at: Date | null;
};

export type AlertMemberRow = {
  starts_at: Date;
  last_starts_at: Date;
  resolved: boolean;
};

const INCIDENT_COLUMNS =
  "i.id, i.status, i.dedup_key, i.opened_at, i.resolved_at";

/**
 * Returns the group key of an alert: the values of the grouping labels as
 * JSON, or null when the alert has none of them, so that it joins only the
 * incident of its own fingerprint.
 */
export function alertGroupKey(
  labels: Record<string, string>,
  groupLabels: readonly string[],
): string | null {
  const values = groupLabels.map((name) => [name, labels[name] ?? null]);
  if (values.every(([, value]) => value === null)) return null;
  return JSON.stringify(values);
}

/**
 * Locks and returns the open alert incident of the service that lists the
 * fingerprint, with the fingerprint's row.
 */
export async function findOpenAlertMember(
  db: Queryable,
  serviceId: number,
  fingerprint: string,
): Promise<{ incident: AlertIncidentRow; member: AlertMemberRow } | undefined> {
  const { rows } = await db.query<AlertIncidentRow & AlertMemberRow>(
    `SELECT ${INCIDENT_COLUMNS}, a.starts_at, a.last_starts_at, a.resolved
       FROM incident i
       JOIN incident_alert a ON a.incident_id = i.id
      WHERE i.service_id = $1 AND i.source = 'alert'
        AND i.status <> 'resolved' AND a.fingerprint = $2
      ORDER BY i.opened_at DESC, i.id DESC
      LIMIT 1
      FOR UPDATE OF i`,
    [serviceId, fingerprint],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const { starts_at, last_starts_at, resolved, ...incident } = row;
  return { incident, member: { starts_at, last_starts_at, resolved } };
}

/**
 * Locks and returns the newest incident of the service that lists this
 * firing of the alert (fingerprint and startsAt), whatever its status.
 */
export async function findAlertFiring(
  db: Queryable,
  serviceId: number,
  fingerprint: string,
  startsAt: Date,
): Promise<AlertIncidentRow | undefined> {
  const { rows } = await db.query<AlertIncidentRow>(
    `SELECT ${INCIDENT_COLUMNS}
       FROM incident i
       JOIN incident_alert a ON a.incident_id = i.id
      WHERE i.service_id = $1 AND a.fingerprint = $2
        AND (a.starts_at = $3 OR a.last_starts_at = $3)
      ORDER BY i.id DESC
      LIMIT 1
      FOR UPDATE OF i`,
    [serviceId, fingerprint, startsAt],
  );
  return rows[0];
}

/**
 * Locks and returns the open alert incident of the service with an alert of
 * this group key whose onset lies within `windowMinutes` of `startsAt`, the
 * nearest one when several do.
 */
export async function findAlertGroupIncident(
  db: Queryable,
  serviceId: number,
  groupKey: string,
  startsAt: Date,
  windowMinutes: number,
): Promise<AlertIncidentRow | undefined> {
  const { rows } = await db.query<AlertIncidentRow>(
    `SELECT ${INCIDENT_COLUMNS}
       FROM incident i
      WHERE i.service_id = $1 AND i.source = 'alert'
        AND i.status <> 'resolved'
        AND i.opened_at BETWEEN $3::timestamptz - make_interval(mins => $4)
                            AND $3::timestamptz + make_interval(mins => $4)
        AND EXISTS (SELECT 1 FROM incident_alert a
                     WHERE a.incident_id = i.id AND a.group_key = $2)
      ORDER BY abs(extract(epoch FROM i.opened_at - $3::timestamptz)), i.id
      LIMIT 1
      FOR UPDATE OF i`,
    [serviceId, groupKey, startsAt, windowMinutes],
  );
  return rows[0];
}

/**
 * Locks and returns the open alert incidents of the service opened within
 * `windowMinutes` of `startsAt`, newest first, at most `limit` of them.
 * Once a service has the storm cap of them, new alerts join the newest. It
 * is the one inserted last, because alerts that join move an incident's
 * onset back and so would move a storm from one incident to another.
 */
export async function findStormIncidents(
  db: Queryable,
  serviceId: number,
  startsAt: Date,
  windowMinutes: number,
  limit: number,
): Promise<AlertIncidentRow[]> {
  const { rows } = await db.query<AlertIncidentRow>(
    `SELECT ${INCIDENT_COLUMNS}
       FROM incident i
      WHERE i.service_id = $1 AND i.source = 'alert'
        AND i.status <> 'resolved'
        AND i.opened_at BETWEEN $2::timestamptz - make_interval(mins => $3)
                            AND $2::timestamptz + make_interval(mins => $3)
      ORDER BY i.id DESC
      LIMIT $4
      FOR UPDATE OF i`,
    [serviceId, startsAt, windowMinutes, limit],
  );
  return rows;
}

export type ResolvedAlertIncidentRow = AlertIncidentRow & {
  resolved_at: Date;
  /** Start of the newest firing of the alert that the incident lists. */
  last_starts_at: Date;
};

/**
 * Locks and returns the newest alert incident of the service that lists the
 * fingerprint when it is resolved, so that the alert firing again can reopen
 * it. Returns undefined when that incident is open or there is none.
 */
export async function findResolvedAlertIncident(
  db: Queryable,
  serviceId: number,
  fingerprint: string,
): Promise<ResolvedAlertIncidentRow | undefined> {
  const { rows } = await db.query<ResolvedAlertIncidentRow>(
    `SELECT ${INCIDENT_COLUMNS}, a.last_starts_at
       FROM incident i
       JOIN incident_alert a ON a.incident_id = i.id
      WHERE i.service_id = $1 AND i.source = 'alert' AND a.fingerprint = $2
      ORDER BY i.id DESC
      LIMIT 1
      FOR UPDATE OF i`,
    [serviceId, fingerprint],
  );
  const row = rows[0];
  if (row === undefined || row.status !== "resolved" || row.resolved_at === null) {
    return undefined;
  }
  return row;
}

/**
 * Returns the id of another open alert incident of the service that lists
 * one of this incident's alerts, or null. Reopening the incident then would
 * give that alert two open incidents.
 */
export async function findOpenIncidentSharingAlerts(
  db: Queryable,
  serviceId: number,
  incidentId: number,
): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT other.id
       FROM incident_alert mine
       JOIN incident_alert theirs
         ON theirs.fingerprint = mine.fingerprint
        AND theirs.incident_id <> mine.incident_id
       JOIN incident other ON other.id = theirs.incident_id
      WHERE mine.incident_id = $2 AND other.service_id = $1
        AND other.source = 'alert' AND other.status <> 'resolved'
      LIMIT 1`,
    [serviceId, incidentId],
  );
  return rows[0]?.id ?? null;
}

/** Adds an alert to an incident. */
export async function addIncidentAlert(
  db: Queryable,
  incidentId: number,
  alert: ParsedAlert,
  groupKey: string | null,
): Promise<void> {
  const startsAt = new Date(alert.startsAt);
  await db.query(
    `INSERT INTO incident_alert
       (incident_id, fingerprint, group_key, alertname, labels, starts_at,
        last_starts_at, joined_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6, clock_timestamp())
     ON CONFLICT (incident_id, fingerprint) DO NOTHING`,
    [
      incidentId,
      alert.fingerprint,
      groupKey,
      alert.labels.alertname ?? null,
      JSON.stringify(alert.labels),
      startsAt,
    ],
  );
}

/** Marks the alert firing again from `startsAt`, a firing newer than any seen. */
export async function markAlertFiring(
  db: Queryable,
  incidentId: number,
  fingerprint: string,
  startsAt: Date,
): Promise<void> {
  await db.query(
    `UPDATE incident_alert
        SET last_starts_at = $3, resolved = false, ends_at = NULL
      WHERE incident_id = $1 AND fingerprint = $2 AND last_starts_at < $3`,
    [incidentId, fingerprint, startsAt],
  );
}

/**
 * Marks the alert of an incident resolved at `endsAt` and returns how many
 * of the incident's alerts still fire, with their total.
 */
export async function markAlertResolved(
  db: Queryable,
  incidentId: number,
  fingerprint: string,
  endsAt: Date,
): Promise<{ firing: number; total: number; lastEndsAt: Date }> {
  await db.query(
    `UPDATE incident_alert SET resolved = true, ends_at = $3
      WHERE incident_id = $1 AND fingerprint = $2`,
    [incidentId, fingerprint, endsAt],
  );
  const { rows } = await db.query<{
    firing: number;
    total: number;
    last_ends_at: Date;
  }>(
    `SELECT count(*) FILTER (WHERE NOT resolved)::int AS firing,
            count(*)::int AS total,
            max(ends_at) AS last_ends_at
       FROM incident_alert WHERE incident_id = $1`,
    [incidentId],
  );
  const row = rows[0]!;
  return { firing: row.firing, total: row.total, lastEndsAt: row.last_ends_at };
}
