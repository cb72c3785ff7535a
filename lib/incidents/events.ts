import type pg from "pg";

import type { ActorType } from "@/lib/generated/prisma/enums";

// Incident timeline events written with plain SQL, so that the worker can add
// them inside the pg transaction that opens or updates the incident.

export type Queryable = Pick<pg.ClientBase, "query">;

export type IncidentEventKind =
  | "opened"
  | "anomaly"
  | "runbooks_suggested"
  | "runbook_feedback"
  | "acknowledged"
  | "resolved"
  | "recovered"
  | "alert_fired_again"
  | "alerts_truncated"
  // Grouping and change correlation (lib/incidents/grouping.ts, suspects.ts).
  | "series_joined"
  | "alerts_joined"
  | "alerts_resolved"
  // SLO burns that join or leave a shared SLO incident (lib/slo/burns.ts).
  | "slo_burn_joined"
  | "slo_burn_ended"
  | "deployment_suspects"
  | "feedback"
  | "notification_sent"
  | "notification_failed"
  // On call (lib/oncall/escalation.ts, lib/notifications/enqueue.ts).
  | "escalated"
  | "escalation_stopped"
  | "escalation_suppressed"
  | "escalation_failed"
  | "notification_suppressed"
  // Runbook steps (lib/runbooks/step-runs.ts).
  | "runbook_step_queued"
  | "runbook_step_succeeded"
  | "runbook_step_failed"
  | "runbook_step_refused"
  | "runbook_step_suppressed"
  // Incident workflow (lib/incidents/actions.ts, assign.ts, notes.ts, postmortem.ts).
  | "reopened"
  | "severity_changed"
  | "assigned"
  | "unassigned"
  | "note"
  | "postmortem_updated";

export type NewIncidentEvent = {
  incidentId: number;
  kind: IncidentEventKind;
  actorType: ActorType;
  actorId?: number | null;
  actorName: string;
  message: string;
  data?: Record<string, unknown>;
  /** Defaults to the database clock at insert time. */
  createdAt?: Date;
};

/** Inserts one timeline event and returns its id. */
export async function addIncidentEvent(
  db: Queryable,
  event: NewIncidentEvent,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO incident_event
       (incident_id, kind, actor_type, actor_id, actor_name, message, data,
        created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb,
             COALESCE($8::timestamptz, clock_timestamp()))
     RETURNING id`,
    [
      event.incidentId,
      event.kind,
      event.actorType,
      event.actorId ?? null,
      event.actorName,
      event.message,
      JSON.stringify(event.data ?? {}),
      event.createdAt ?? null,
    ],
  );
  return rows[0]!.id;
}
