import type pg from "pg";

import { getPool } from "@/lib/db";
import type { Role, Severity } from "@/lib/generated/prisma/enums";
import {
  actorColumns,
  actorLogContext,
  type IncidentActor,
} from "@/lib/incidents/actor";
import { checkIncidentId, IncidentChangeError } from "@/lib/incidents/errors";
import { addIncidentEvent } from "@/lib/incidents/events";
import { withTransaction } from "@/lib/ingest/transaction";
import { logger } from "@/lib/logger";

// Severity and assignee of an incident. Both are last-writer-wins: the
// incident row is locked, each field that differs from the request is
// changed, and each change writes its own timeline event in the same
// transaction. A request that changes nothing writes nothing.

export const SEVERITIES: Severity[] = ["sev1", "sev2", "sev3", "sev4"];

/** Roles that may be assigned an incident: those that can act on it. */
const ASSIGNABLE_ROLES: Role[] = ["responder", "admin"];

export type IncidentFieldChanges = {
  severity?: Severity;
  /** A user id, or null to unassign. */
  assigneeId?: number | null;
};

export type IncidentFieldChange =
  | { field: "severity"; from: Severity; to: Severity }
  | {
      field: "assignee";
      from: { id: number; name: string } | null;
      to: { id: number; name: string } | null;
    };

export type IncidentFieldResult =
  | { outcome: "applied" | "unchanged"; changes: IncidentFieldChange[] }
  | { outcome: "not_found" };

export type AssignableUser = { id: number; name: string; email: string };

/** Lists the users an incident can be assigned to, by name. */
export async function listAssignableUsers(): Promise<AssignableUser[]> {
  const { rows } = await getPool().query<AssignableUser>(
    `SELECT id, name, email FROM user_account
      WHERE role = ANY($1::"Role"[]) ORDER BY name, id`,
    [ASSIGNABLE_ROLES],
  );
  return rows;
}

function severityLabel(severity: Severity): string {
  return severity.toUpperCase();
}

async function loadAssignee(
  db: pg.ClientBase,
  userId: number,
): Promise<{ id: number; name: string }> {
  const { rows } = await db.query<{ id: number; name: string; role: Role }>(
    // FOR KEY SHARE keeps the user from being deleted before the commit.
    "SELECT id, name, role FROM user_account WHERE id = $1 FOR KEY SHARE",
    [userId],
  );
  const user = rows[0];
  if (!user) {
    throw new IncidentChangeError(
      422,
      "unknown_user",
      `assigneeId ${userId} is not a user; pick one of the users listed by the incident page`,
      "assigneeId",
    );
  }
  if (!ASSIGNABLE_ROLES.includes(user.role)) {
    throw new IncidentChangeError(
      422,
      "not_assignable",
      `user ${userId} (${user.name}) has the ${user.role} role and cannot act on incidents; assign a responder or an admin`,
      "assigneeId",
    );
  }
  return { id: user.id, name: user.name };
}

function checkChanges(changes: IncidentFieldChanges): void {
  if (changes.severity === undefined && changes.assigneeId === undefined) {
    throw new IncidentChangeError(
      400,
      "invalid_body",
      "request body must set severity, assigneeId or both",
    );
  }
  if (changes.severity !== undefined && !SEVERITIES.includes(changes.severity)) {
    throw new IncidentChangeError(
      400,
      "invalid_field",
      `severity must be one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(changes.severity)}`,
      "severity",
    );
  }
  const assignee = changes.assigneeId;
  if (
    assignee !== undefined &&
    assignee !== null &&
    (!Number.isSafeInteger(assignee) || assignee <= 0 || assignee > 2_147_483_647)
  ) {
    throw new IncidentChangeError(
      400,
      "invalid_field",
      `assigneeId must be a user id (a positive integer) or null, got ${JSON.stringify(assignee)}`,
      "assigneeId",
    );
  }
}

type CurrentRow = {
  severity: Severity;
  assignee_id: number | null;
  assignee_name: string | null;
};

/**
 * Sets the severity and the assignee of an incident. Throws
 * IncidentChangeError 400 for invalid values and 422 for an assignee who is
 * not a responder or admin.
 */
export async function updateIncidentFields(
  incidentId: number,
  changes: IncidentFieldChanges,
  actor: IncidentActor,
): Promise<IncidentFieldResult> {
  checkIncidentId(incidentId);
  checkChanges(changes);
  const log = logger.child({ incidentId, ...actorLogContext(actor) });

  const result = await withTransaction(getPool(), async (db) => {
    const { rows } = await db.query<CurrentRow>(
      `SELECT i.severity, i.assignee_id, u.name AS assignee_name
         FROM incident i LEFT JOIN user_account u ON u.id = i.assignee_id
        WHERE i.id = $1
        FOR UPDATE OF i`,
      [incidentId],
    );
    const current = rows[0];
    if (!current) return { outcome: "not_found" as const };

    const applied: IncidentFieldChange[] = [];
    if (changes.severity !== undefined && changes.severity !== current.severity) {
      // An alert or manual incident counts as downtime while it is sev1 or
      // sev2, also after a person changed its severity. Detector incidents
      // always count.
      await db.query(
        `UPDATE incident
            SET severity = $2::"Severity",
                service_impacting = CASE WHEN source = 'detector' THEN service_impacting
                                         ELSE $2::"Severity" IN ('sev1', 'sev2') END
          WHERE id = $1`,
        [incidentId, changes.severity],
      );
      const change = {
        field: "severity" as const,
        from: current.severity,
        to: changes.severity,
      };
      await addIncidentEvent(db, {
        incidentId,
        kind: "severity_changed",
        ...actorColumns(actor),
        message: `${actor.name} changed the severity from ${severityLabel(change.from)} to ${severityLabel(change.to)}`,
        data: { from: change.from, to: change.to },
      });
      applied.push(change);
    }

    if (
      changes.assigneeId !== undefined &&
      changes.assigneeId !== current.assignee_id
    ) {
      const to =
        changes.assigneeId === null
          ? null
          : await loadAssignee(db, changes.assigneeId);
      const from =
        current.assignee_id === null
          ? null
          : { id: current.assignee_id, name: current.assignee_name ?? "unknown" };
      await db.query("UPDATE incident SET assignee_id = $2 WHERE id = $1", [
        incidentId,
        to?.id ?? null,
      ]);
      await addIncidentEvent(db, {
        incidentId,
        kind: to ? "assigned" : "unassigned",
        ...actorColumns(actor),
        message: to
          ? `${actor.name} assigned the incident to ${to.name}${from ? ` (was ${from.name})` : ""}`
          : `${actor.name} unassigned ${from?.name ?? "the assignee"}`,
        data: { from, to },
      });
      applied.push({ field: "assignee", from, to });
    }

    return {
      outcome: applied.length > 0 ? ("applied" as const) : ("unchanged" as const),
      changes: applied,
    };
  });

  if (result.outcome === "not_found") log.warn("incident not found");
  else if (result.outcome === "applied") {
    log.info(
      { fields: result.changes.map((change) => change.field) },
      "incident fields changed",
    );
  }
  return result;
}
