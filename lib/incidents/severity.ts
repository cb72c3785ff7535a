import type { Severity } from "@/lib/generated/prisma/enums";
import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";

// Raises an open incident's severity when a more severe alert or anomaly
// joins it. The change goes into the timeline, and channels whose routing
// rules match only the new severity get the incident's "opened"
// notification. Channels already notified get nothing again, and the
// escalation is left as it is.

export type SeverityActor = {
  actorType: "token" | "worker" | "system";
  actorId?: number | null;
  actorName: string;
};

/**
 * Sets the severity of an incident to `severity` if that is more severe
 * (sev1 is the most severe) and returns the previous severity, or null when
 * nothing changed. Must run in the transaction that adds the alert or
 * anomaly.
 */
export async function raiseSeverity(
  db: Queryable,
  incidentId: number,
  severity: Severity,
  actor: SeverityActor,
  cause: string,
): Promise<Severity | null> {
  const { rows } = await db.query<{ previous: Severity }>(
    `UPDATE incident i
        SET severity = $2::"Severity"
       FROM (SELECT id, severity FROM incident WHERE id = $1 FOR UPDATE) previous
      WHERE i.id = previous.id AND i.severity > $2::"Severity"
        AND i.status <> 'resolved'
      RETURNING previous.severity AS previous`,
    [incidentId, severity],
  );
  const previous = rows[0]?.previous;
  if (!previous) return null;
  await addIncidentEvent(db, {
    incidentId,
    kind: "severity_changed",
    ...actor,
    message: `Severity raised from ${previous.toUpperCase()} to ${severity.toUpperCase()}: ${cause}`,
    data: { from: previous, to: severity, automatic: true },
  });
  // After a reopen, the last notification the channels got was "reopened".
  const reopened = await db.query(
    "SELECT 1 FROM incident_event WHERE incident_id = $1 AND kind = 'reopened' LIMIT 1",
    [incidentId],
  );
  const event = reopened.rows.length > 0 ? "reopened" : "opened";
  await enqueueIncidentNotifications(db, incidentId, event, { escalate: false });
  return previous;
}
