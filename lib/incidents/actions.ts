import { getPrisma } from "@/lib/db";
import type { IncidentStatus } from "@/lib/generated/prisma/enums";
import type { Prisma } from "@/lib/generated/prisma/client";
import { logger } from "@/lib/logger";
import { enqueueIncidentNotificationsPrisma } from "@/lib/notifications/enqueue";

// Acknowledge and resolve. Each runs in one transaction whose conditional
// UPDATE only matches an incident in a status the action may leave. When two
// people click at once, PostgreSQL's row lock makes the second UPDATE
// re-check the row after the first commits. It then matches nothing and
// reports who got there first. The timeline event is written in the same
// transaction.

export type IncidentActor = { id: number; name: string };

export type IncidentAction = "acknowledge" | "resolve";

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
  | { outcome: "not_found"; action: IncidentAction; incidentId: number };

type Transaction = Prisma.TransactionClient;

type ActionSpec = {
  action: IncidentAction;
  eventKind: "acknowledged" | "resolved";
  fromStatuses: IncidentStatus[];
  update: (
    tx: Transaction,
    incidentId: number,
    actor: IncidentActor,
  ) => Promise<{ at: Date }[]>;
};

const ACKNOWLEDGE: ActionSpec = {
  action: "acknowledge",
  eventKind: "acknowledged",
  fromStatuses: ["triggered"],
  update: (tx, incidentId, actor) => tx.$queryRaw<{ at: Date }[]>`
    UPDATE incident
       SET status = 'acknowledged',
           acknowledged_at = now(),
           acknowledged_by_id = ${actor.id}
     WHERE id = ${incidentId} AND status = 'triggered'
    RETURNING acknowledged_at AS at`,
};

const RESOLVE: ActionSpec = {
  action: "resolve",
  eventKind: "resolved",
  fromStatuses: ["triggered", "acknowledged"],
  update: (tx, incidentId, actor) => tx.$queryRaw<{ at: Date }[]>`
    UPDATE incident
       SET status = 'resolved',
           resolved_at = now(),
           resolved_by_id = ${actor.id}
     WHERE id = ${incidentId} AND status IN ('triggered', 'acknowledged')
    RETURNING resolved_at AS at`,
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
  const log = logger.child({
    incidentId,
    userId: actor.id,
    action: spec.action,
  });

  const result = await getPrisma().$transaction(async (tx) => {
    const [updated] = await spec.update(tx, incidentId, actor);
    if (updated) {
      await tx.incidentEvent.create({
        data: {
          incidentId,
          kind: spec.eventKind,
          actorType: "user",
          actorId: actor.id,
          actorName: actor.name,
          message: `${actor.name} ${spec.eventKind} the incident`,
          data: { fromStatuses: spec.fromStatuses },
        },
      });
      if (spec.eventKind === "resolved") {
        await enqueueIncidentNotificationsPrisma(tx, incidentId, "resolved");
      }
      return {
        outcome: "applied" as const,
        action: spec.action,
        incidentId,
        at: updated.at,
      };
    }
    return describeCurrentState(tx, spec, incidentId);
  });

  if (result.outcome === "applied") {
    log.info("incident %s", spec.eventKind);
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

/** Reads why the UPDATE matched nothing: the incident is gone or in a later status. */
async function describeCurrentState(
  tx: Transaction,
  spec: ActionSpec,
  incidentId: number,
): Promise<IncidentActionResult> {
  const incident = await tx.incident.findUnique({
    where: { id: incidentId },
    select: {
      status: true,
      acknowledgedAt: true,
      resolvedAt: true,
      acknowledgedBy: { select: { name: true } },
      resolvedBy: { select: { name: true } },
    },
  });
  if (!incident) {
    return { outcome: "not_found", action: spec.action, incidentId };
  }

  const resolved = incident.status === "resolved";
  const at = resolved ? incident.resolvedAt : incident.acknowledgedAt;
  let by = resolved ? incident.resolvedBy?.name : incident.acknowledgedBy?.name;

  // The worker, or a user deleted since, leaves no user on the incident row;
  // the timeline event still names the actor.
  if (!by) {
    const event = await tx.incidentEvent.findFirst({
      where: { incidentId, kind: resolved ? "resolved" : "acknowledged" },
      orderBy: { createdAt: "desc" },
      select: { actorName: true },
    });
    by = event?.actorName;
  }

  return {
    outcome: "unchanged",
    action: spec.action,
    incidentId,
    status: incident.status,
    by: by ?? null,
    at,
  };
}
