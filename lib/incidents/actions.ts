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
  type Queryable,
} from "@/lib/incidents/events";
import { lockServiceGrouping } from "@/lib/incidents/grouping";
import { checkFreeText } from "@/lib/incidents/text";
import { withTransaction } from "@/lib/ingest/transaction";
import { logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { stopEscalation } from "@/lib/oncall/escalation";

// Acknowledge, resolve and reopen. Each runs in one transaction that first
// locks the incident row (FOR NO KEY UPDATE) and then runs a conditional
// UPDATE that only matches an incident in a status the action may leave.
// When two people click at once, the second transaction waits for the lock,
// then matches nothing and reports who got there first. The status time
// and the timeline event are stamped with clock_timestamp() after the lock,
// so the order of created_at is the order in which the changes happened.
//
// Lock order: the incident row first, then its incident_escalation row.
// The escalation worker takes them in the same order (lib/oncall/escalation.ts),
// so an action waits for a running escalation instead of deadlocking with it. Reopen takes the
// service's grouping lock before the incident row, as the detector and the
// alert receivers do (lib/incidents/grouping.ts).

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
              acknowledged_at = clock_timestamp(),
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
       )
       UPDATE incident i
          SET status = 'resolved', resolved_at = clock_timestamp(),
              resolved_by_id = $2
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
         )
         UPDATE incident i
            SET status = 'triggered',
                acknowledged_at = NULL, acknowledged_by_id = NULL,
                resolved_at = NULL, resolved_by_id = NULL
           FROM previous
          WHERE i.id = previous.id
         RETURNING clock_timestamp() AS at, previous.acknowledged_at,
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
 * and per alert fingerprint of a service. They cover only an incident's
 * primary series_id and alert_fingerprint, so findReopenConflict checks the
 * grouped series and alerts first, and these remain the backstop.
 */
const OPEN_INCIDENT_INDEXES = new Set([
  "incident_open_detector_series_key",
  "incident_open_alert_fingerprint_key",
]);

// The series of detector incident $1 (its series_id and its incident_series
// rows) that another open detector incident lists too.
const SERIES_CONFLICT_SQL = `
  SELECT other.id, shared.series_id, m.name AS series_name
    FROM (SELECT series_id FROM incident WHERE id = $1 AND series_id IS NOT NULL
          UNION
          SELECT series_id FROM incident_series WHERE incident_id = $1) shared
    JOIN incident other
      ON other.source = 'detector' AND other.status <> 'resolved' AND other.id <> $1
     AND (other.series_id = shared.series_id
          OR EXISTS (SELECT 1 FROM incident_series s
                      WHERE s.incident_id = other.id AND s.series_id = shared.series_id))
    LEFT JOIN metric_series m ON m.id = shared.series_id
   ORDER BY other.id, shared.series_id
   LIMIT 1`;

// The alert fingerprints of alert incident $1 (its alert_fingerprint and its
// incident_alert rows) that another open alert incident of service $2 lists.
const ALERT_CONFLICT_SQL = `
  SELECT other.id, shared.fingerprint
    FROM (SELECT alert_fingerprint AS fingerprint FROM incident
           WHERE id = $1 AND alert_fingerprint IS NOT NULL
          UNION
          SELECT fingerprint FROM incident_alert WHERE incident_id = $1) shared
    JOIN incident other
      ON other.source = 'alert' AND other.status <> 'resolved' AND other.id <> $1
     AND other.service_id = $2
     AND (other.alert_fingerprint = shared.fingerprint
          OR EXISTS (SELECT 1 FROM incident_alert a
                      WHERE a.incident_id = other.id AND a.fingerprint = shared.fingerprint))
   ORDER BY other.id, shared.fingerprint
   LIMIT 1`;

type IncidentOrigin = { source: string; service_id: number };

/**
 * Finds an open incident that lists one of the series or alert
 * fingerprints of the incident, so reopening it would put that series or
 * alert in two open incidents. Returns null when there is none.
 */
async function findReopenConflict(
  db: Queryable,
  incidentId: number,
  origin: IncidentOrigin,
): Promise<ReopenConflict | null> {
  const advice = "acknowledge or resolve that one instead";
  if (origin.source === "detector") {
    const { rows } = await db.query<{
      id: number;
      series_id: number;
      series_name: string | null;
    }>(SERIES_CONFLICT_SQL, [incidentId]);
    const row = rows[0];
    if (!row) return null;
    const series = `series ${row.series_id}${row.series_name === null ? "" : ` (${row.series_name})`}`;
    return {
      openIncidentId: row.id,
      message:
        `${series} of incident ${incidentId} is in open incident ${row.id}, ` +
        `and a series can be in only one open incident; ${advice}`,
    };
  }
  if (origin.source === "alert") {
    const { rows } = await db.query<{ id: number; fingerprint: string }>(
      ALERT_CONFLICT_SQL,
      [incidentId, origin.service_id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      openIncidentId: row.id,
      message:
        `alert ${row.fingerprint} of incident ${incidentId} is in open incident ${row.id}, ` +
        `and an alert can be in only one open incident; ${advice}`,
    };
  }
  return null;
}

/** Describes the conflict behind a unique index violation of a reopen. */
async function describeOpenIncidentConflict(
  incidentId: number,
): Promise<ReopenConflict> {
  const pool = getPool();
  const { rows } = await pool.query<IncidentOrigin>(
    "SELECT source, service_id FROM incident WHERE id = $1",
    [incidentId],
  );
  const conflict = rows[0]
    ? await findReopenConflict(pool, incidentId, rows[0])
    : null;
  return (
    conflict ?? {
      openIncidentId: null,
      message:
        `a series or alert of incident ${incidentId} has another open incident, ` +
        "and it can have only one; acknowledge or resolve that one instead",
    }
  );
}

function isOpenIncidentConflict(error: unknown): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return (
    pgError.code === "23505" &&
    OPEN_INCIDENT_INDEXES.has(pgError.constraint ?? "")
  );
}

/** A reopen stopped by findReopenConflict inside the transaction. */
class ReopenConflictError extends Error {
  constructor(readonly conflict: ReopenConflict) {
    super(conflict.message);
    this.name = "ReopenConflictError";
  }
}

/**
 * Takes the locks of an action: for a reopen the service's grouping lock,
 * so no detector or alert delivery adds the incident's series or alerts to
 * another incident meanwhile, then the incident row. Returns the locked
 * incident, or null when it does not exist.
 */
async function lockIncident(
  db: pg.ClientBase,
  action: IncidentAction,
  incidentId: number,
): Promise<(IncidentOrigin & { status: IncidentStatus }) | null> {
  if (action === "reopen") {
    // source and service_id never change, so reading them unlocked is safe.
    const { rows } = await db.query<IncidentOrigin>(
      "SELECT source, service_id FROM incident WHERE id = $1",
      [incidentId],
    );
    const origin = rows[0];
    if (!origin) return null;
    if (origin.source === "detector" || origin.source === "alert") {
      await lockServiceGrouping(db, origin.source, origin.service_id);
    }
  }
  const { rows } = await db.query<IncidentOrigin & { status: IncidentStatus }>(
    `SELECT status, source, service_id FROM incident
      WHERE id = $1 FOR NO KEY UPDATE`,
    [incidentId],
  );
  return rows[0] ?? null;
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
      const incident = await lockIncident(db, spec.action, incidentId);
      if (!incident) {
        return { outcome: "not_found" as const, action: spec.action, incidentId };
      }
      if (spec.action === "reopen" && incident.status === "resolved") {
        const conflict = await findReopenConflict(db, incidentId, incident);
        if (conflict) throw new ReopenConflictError(conflict);
      }
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
    let conflict: ReopenConflict;
    if (error instanceof ReopenConflictError) {
      conflict = error.conflict;
    } else if (spec.action === "reopen" && isOpenIncidentConflict(error)) {
      conflict = await describeOpenIncidentConflict(incidentId);
    } else {
      throw error;
    }
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
