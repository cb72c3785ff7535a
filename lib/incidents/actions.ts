import type pg from "pg";

import { getPool } from "@/lib/db";
import type { IncidentStatus } from "@/lib/generated/prisma/enums";
import {
  actorColumns,
  actorLogContext,
  actorUserId,
  type IncidentActor,
} from "@/lib/incidents/actor";
import { checkIncidentId } from "@/lib/incidents/errors";
import {
  addIncidentEvent,
  type IncidentEventKind,
} from "@/lib/incidents/events";
import { checkFreeText } from "@/lib/incidents/text";
import { withTransaction } from "@/lib/ingest/transaction";
import { logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { stopEscalation } from "@/lib/oncall/escalation";

// Acknowledge, resolve and reopen. Each runs in one transaction whose
// conditional UPDATE only matches an incident in a status the action may
// leave. When two people click at once, PostgreSQL's row lock makes the
// second UPDATE re-check the row after the first commits. It then matches
// nothing and reports who got there first. The timeline event is written in
// the same transaction, stamped with the same time as the incident column.

export type { IncidentActor } from "@/lib/incidents/actor";

export type IncidentAction = "acknowledge" | "resolve" | "reopen";

export type IncidentActionResult =
  | { outcome: "applied"; action: IncidentAction; incidentId: number; at: Date }
  | {
      outcome: "unchanged";
      action: IncidentAction;
      incidentId: number;
      status: IncidentStatus;
      /** Name of the person or process that set `status`, when known. */
      by: string | null;
      at: Date | null;
    }
  | { outcome: "not_found"; action: IncidentAction; incidentId: number }
  | {
      /** Reopening would give a series or an alert two open incidents. */
      outcome: "conflict";
      action: "reopen";
      incidentId: number;
      openIncidentId: number | null;
      message: string;
    };

export const REOPEN_REASON_MAX_LENGTH = 2000;

type Applied = { at: Date; data: Record<string, unknown> };

type ActionSpec = {
  action: IncidentAction;
  eventKind: IncidentEventKind;
  /** Past tense for the timeline message. */
  verb: string;
  update: (
    db: pg.ClientBase,
    incidentId: number,
    actor: IncidentActor,
  ) => Promise<Applied | null>;
};

const ACKNOWLEDGE: ActionSpec = {
  action: "acknowledge",
  eventKind: "acknowledged",
  verb: "acknowledged",
  update: async (db, incidentId, actor) => {
    const { rows } = await db.query<{ at: Date }>(
      `UPDATE incident
          SET status = 'acknowledged',
              acknowledged_at = now(),
              acknowledged_by_id = $2
        WHERE id = $1 AND status = 'triggered'
       RETURNING acknowledged_at AS at`,
      [incidentId, actorUserId(actor)],
    );
    return rows[0] ? { at: rows[0].at, data: { fromStatuses: ["triggered"] } } : null;
  },
};

const RESOLVE: ActionSpec = {
  action: "resolve",
  eventKind: "resolved",
  verb: "resolved",
  update: async (db, incidentId, actor) => {
    const { rows } = await db.query<{ at: Date; from_status: IncidentStatus }>(
      `WITH previous AS (
         SELECT id, status FROM incident
          WHERE id = $1 AND status IN ('triggered', 'acknowledged')
          FOR UPDATE
       )
       UPDATE incident i
          SET status = 'resolved', resolved_at = now(), resolved_by_id = $2
         FROM previous
        WHERE i.id = previous.id
       RETURNING i.resolved_at AS at, previous.status AS from_status`,
      [incidentId, actorUserId(actor)],
    );
    if (!rows[0]) return null;
    return {
      at: rows[0].at,
      data: {
        fromStatuses: ["triggered", "acknowledged"],
        fromStatus: rows[0].from_status,
      },
    };
  },
};

/** Moves a triggered incident to acknowledged; any other status is left as it is. */
export function acknowledgeIncident(
  incidentId: number,
  actor: IncidentActor,
): Promise<IncidentActionResult> {
  return runAction(ACKNOWLEDGE, incidentId, actor);
}

/** Moves a triggered or acknowledged incident to resolved; a resolved one is left as it is. */
export function resolveIncident(
  incidentId: number,
  actor: IncidentActor,
): Promise<IncidentActionResult> {
  return runAction(RESOLVE, incidentId, actor);
}

/**
 * Moves a resolved incident back to triggered. The incident's acknowledged
 * and resolved columns are cleared, because it waits for a new
 * acknowledgement, but the timeline keeps every earlier event and the
 * "reopened" event records the cleared values and the reason. Throws a 400
 * IncidentChangeError for an empty or invalid reason.
 */
export function reopenIncident(
  incidentId: number,
  actor: IncidentActor,
  reason: unknown,
): Promise<IncidentActionResult> {
  const text = checkFreeText("reason", reason, {
    min: 1,
    max: REOPEN_REASON_MAX_LENGTH,
  });
  return runAction(reopenSpec(text), incidentId, actor);
}

type ReopenedRow = {
  at: Date;
  acknowledged_at: Date | null;
  acknowledged_by_id: number | null;
  resolved_at: Date | null;
  resolved_by_id: number | null;
};

function reopenSpec(reason: string): ActionSpec {
  return {
    action: "reopen",
    eventKind: "reopened",
    verb: "reopened",
    update: async (db, incidentId) => {
      const { rows } = await db.query<ReopenedRow>(
        `WITH previous AS (
           SELECT id, acknowledged_at, acknowledged_by_id, resolved_at,
                  resolved_by_id
             FROM incident
            WHERE id = $1 AND status = 'resolved'
            FOR UPDATE
         )
         UPDATE incident i
            SET status = 'triggered',
                acknowledged_at = NULL, acknowledged_by_id = NULL,
                resolved_at = NULL, resolved_by_id = NULL
           FROM previous
          WHERE i.id = previous.id
         RETURNING now() AS at, previous.acknowledged_at,
                   previous.acknowledged_by_id, previous.resolved_at,
                   previous.resolved_by_id`,
        [incidentId],
      );
      const row = rows[0];
      if (!row) return null;
      return {
        at: row.at,
        data: {
          reason,
          previous: {
            acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
            acknowledgedById: row.acknowledged_by_id,
            resolvedAt: row.resolved_at?.toISOString() ?? null,
            resolvedById: row.resolved_by_id,
          },
        },
      };
    },
  };
}

/** A reopen that would give a series or an alert a second open incident. */
type ReopenConflict = { openIncidentId: number | null; message: string };

/**
 * Partial unique indexes that allow one open incident per detector series
 * and per alert fingerprint of a service. Reopening an incident that would
 * be a second one fails on them.
 */
const OPEN_INCIDENT_INDEXES = new Set([
  "incident_open_detector_series_key",
  "incident_open_alert_fingerprint_key",
]);

async function describeOpenIncidentConflict(
  incidentId: number,
): Promise<ReopenConflict> {
  const { rows } = await getPool().query<{ id: number; source: string }>(
    `SELECT other.id, this.source FROM incident this
       JOIN incident other
         ON other.source = this.source AND other.status <> 'resolved'
        AND other.id <> this.id
        AND ((this.source = 'detector' AND other.series_id = this.series_id)
          OR (this.source = 'alert' AND other.service_id = this.service_id
              AND other.alert_fingerprint = this.alert_fingerprint))
      WHERE this.id = $1
      LIMIT 1`,
    [incidentId],
  );
  const openId = rows[0]?.id ?? null;
  const what = rows[0]?.source === "alert" ? "alert" : "series";
  return {
    openIncidentId: openId,
    message:
      `the ${what} of incident ${incidentId} has another open incident` +
      `${openId === null ? "" : ` (${openId})`}, and it can have only one; ` +
      "acknowledge or resolve that one instead",
  };
}

function isOpenIncidentConflict(error: unknown): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return (
    pgError.code === "23505" &&
    OPEN_INCIDENT_INDEXES.has(pgError.constraint ?? "")
  );
}

async function runAction(
  spec: ActionSpec,
  incidentId: number,
  actor: IncidentActor,
): Promise<IncidentActionResult> {
  if (!Number.isSafeInteger(incidentId) || incidentId <= 0) {
    throw new RangeError(
      `incidentId must be a positive integer, got ${incidentId}`,
    );
  }
  checkIncidentId(incidentId);
  const log = logger.child({
    incidentId,
    ...actorLogContext(actor),
    action: spec.action,
  });

  let result: IncidentActionResult;
  try {
    result = await withTransaction(getPool(), async (db) => {
      const applied = await spec.update(db, incidentId, actor);
      if (!applied) return describeCurrentState(db, spec.action, incidentId);

      await addIncidentEvent(db, {
        incidentId,
        kind: spec.eventKind,
        ...actorColumns(actor),
        message: eventMessage(spec, actor, applied.data),
        data: applied.data,
        createdAt: applied.at,
      });
      // Resolving notifies and stops the escalation, acknowledging stops
      // it, and reopening notifies the channels again and starts the
      // escalation with the next cycle (lib/notifications/enqueue.ts).
      if (spec.action === "resolve") {
        await enqueueIncidentNotifications(db, incidentId, "resolved");
      } else if (spec.action === "acknowledge") {
        await stopEscalation(db, incidentId, "acknowledged");
      } else {
        await enqueueIncidentNotifications(db, incidentId, "reopened");
      }
      return {
        outcome: "applied" as const,
        action: spec.action,
        incidentId,
        at: applied.at,
      };
    });
  } catch (error) {
    if (spec.action !== "reopen" || !isOpenIncidentConflict(error)) {
      throw error;
    }
    const conflict = await describeOpenIncidentConflict(incidentId);
    log.info(
      { openIncidentId: conflict.openIncidentId },
      "incident not reopened: %s",
      conflict.message,
    );
    return {
      outcome: "conflict",
      action: "reopen",
      incidentId,
      openIncidentId: conflict.openIncidentId,
      message: conflict.message,
    };
  }

  if (result.outcome === "applied") {
    log.info("incident %s", spec.verb);
  } else if (result.outcome === "unchanged") {
    log.info(
      { status: result.status, by: result.by },
      "incident left unchanged: it is already %s",
      result.status,
    );
  } else {
    log.warn("incident not found");
  }
  return result;
}

function eventMessage(
  spec: ActionSpec,
  actor: IncidentActor,
  data: Record<string, unknown>,
): string {
  const base = `${actor.name} ${spec.verb} the incident`;
  if (spec.action !== "reopen") return base;
  const reason = String(data.reason);
  return `${base}: ${/[.!?]$/.test(reason) ? reason : `${reason}.`}`;
}

type StateRow = {
  status: IncidentStatus;
  opened_at: Date;
  acknowledged_at: Date | null;
  resolved_at: Date | null;
  acknowledged_by: string | null;
  resolved_by: string | null;
};

/** Timeline kinds that put an incident into each status. */
const KINDS_INTO_STATUS: Record<IncidentStatus, IncidentEventKind[]> = {
  triggered: ["opened", "reopened"],
  acknowledged: ["acknowledged"],
  resolved: ["resolved"],
};

/**
 * Reads why the UPDATE matched nothing: the incident is gone or in a status
 * the action cannot leave. Names who set that status and when.
 */
async function describeCurrentState(
  db: pg.ClientBase,
  action: IncidentAction,
  incidentId: number,
): Promise<IncidentActionResult> {
  const { rows } = await db.query<StateRow>(
    `SELECT i.status, i.opened_at, i.acknowledged_at, i.resolved_at,
            ack.name AS acknowledged_by, res.name AS resolved_by
       FROM incident i
       LEFT JOIN user_account ack ON ack.id = i.acknowledged_by_id
       LEFT JOIN user_account res ON res.id = i.resolved_by_id
      WHERE i.id = $1`,
    [incidentId],
  );
  const incident = rows[0];
  if (!incident) return { outcome: "not_found", action, incidentId };

  // The worker, an API token or a user deleted since leaves no user on the
  // incident row; the timeline event still names the actor.
  const { rows: events } = await db.query<{
    kind: string;
    actor_name: string;
    created_at: Date;
  }>(
    `SELECT kind, actor_name, created_at FROM incident_event
      WHERE incident_id = $1 AND kind = ANY($2::text[])
      ORDER BY created_at DESC, id DESC LIMIT 1`,
    [incidentId, KINDS_INTO_STATUS[incident.status]],
  );
  const event = events[0];

  let by: string | null = event?.actor_name ?? null;
  let at: Date | null;
  if (incident.status === "acknowledged") {
    by = incident.acknowledged_by ?? by;
    at = incident.acknowledged_at;
  } else if (incident.status === "resolved") {
    by = incident.resolved_by ?? by;
    at = incident.resolved_at;
  } else {
    at = event?.kind === "reopened" ? event.created_at : incident.opened_at;
  }
  return {
    outcome: "unchanged",
    action,
    incidentId,
    status: incident.status,
    by,
    at,
  };
}
