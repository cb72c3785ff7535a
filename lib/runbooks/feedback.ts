import { ApiError } from "@/lib/api/errors";
import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";

// Helpful and not-helpful marks on the runbooks suggested for an incident,
// one per incident, runbook and actor. A new mark replaces the actor's
// previous one, and each change adds a "runbook_feedback" timeline event.
// Ranking reads the marks of resolved incidents (lib/runbooks/rank.ts).

/** The user or API token that marks a runbook. */
export type RunbookFeedbackActor = {
  type: "user" | "token";
  id: number;
  name: string;
  /** Service an API token is bound to; null for users and unbound tokens. */
  serviceId: number | null;
};

export type RunbookFeedbackMark = {
  incidentId: number;
  runbookId: number;
  version: number | null;
  helpful: boolean;
  actorType: "user" | "token";
  actorId: number;
  actorName: string;
  createdAt: Date;
  updatedAt: Date;
};

export type RecordOutcome = {
  /** "recorded" for a first mark, "changed" or "unchanged" for a repeat. */
  outcome: "recorded" | "changed" | "unchanged";
  mark: RunbookFeedbackMark;
  eventId: number | null;
};

type MarkRow = {
  incident_id: number;
  runbook_id: number;
  version: number | null;
  helpful: boolean;
  actor_type: "user" | "token";
  actor_id: number;
  actor_name: string;
  created_at: Date;
  updated_at: Date;
};

function toMark(row: MarkRow): RunbookFeedbackMark {
  return {
    incidentId: row.incident_id,
    runbookId: row.runbook_id,
    version: row.version,
    helpful: row.helpful,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const MARK_COLUMNS = `incident_id, runbook_id, version, helpful, actor_type,
  actor_id, actor_name, created_at, updated_at`;

/**
 * Checks that the incident exists, that the runbook was suggested for it
 * and that a service-bound token belongs to the incident's service. Returns
 * the suggested version and the runbook's title; throws a 403 or 404 ApiError.
 */
export async function loadSuggestion(
  db: Queryable,
  incidentId: number,
  runbookId: number,
  actor: Pick<RunbookFeedbackActor, "serviceId" | "type" | "id">,
  { lock = false }: { lock?: boolean } = {},
): Promise<{ version: number | null; title: string }> {
  const incident = await db.query<{ service_id: number }>(
    "SELECT service_id FROM incident WHERE id = $1",
    [incidentId],
  );
  if (!incident.rows[0]) {
    throw new ApiError(404, "not_found", `no incident with id ${incidentId}`, {
      field: "id",
    });
  }
  if (actor.serviceId !== null && actor.serviceId !== incident.rows[0].service_id) {
    throw new ApiError(
      403,
      "forbidden",
      `this API token is bound to another service than incident ${incidentId}`,
      { field: "id", logContext: { tokenId: actor.id } },
    );
  }
  const suggestion = await db.query<{ version: number | null; title: string }>(
    `SELECT ir.version, r.title FROM incident_runbook ir
       JOIN runbook r ON r.id = ir.runbook_id
      WHERE ir.incident_id = $1 AND ir.runbook_id = $2
      ${lock ? "FOR UPDATE OF ir" : ""}`,
    [incidentId, runbookId],
  );
  if (!suggestion.rows[0]) {
    throw new ApiError(
      404,
      "not_found",
      `runbook ${runbookId} was not suggested for incident ${incidentId}; only suggested runbooks take feedback`,
      { field: "runbookId" },
    );
  }
  return suggestion.rows[0];
}

/**
 * Records `actor`'s mark on a suggested runbook inside the caller's
 * transaction, with a timeline event when the mark is new or changed. A
 * lock on the incident_runbook row orders concurrent marks on the same
 * suggestion, so each sees the mark the one before it stored.
 */
export async function recordRunbookFeedback(
  db: Queryable,
  input: {
    incidentId: number;
    runbookId: number;
    helpful: boolean;
    actor: RunbookFeedbackActor;
  },
): Promise<RecordOutcome> {
  const { incidentId, runbookId, helpful, actor } = input;
  const suggestion = await loadSuggestion(db, incidentId, runbookId, actor, {
    lock: true,
  });

  const existing = await db.query<MarkRow>(
    `SELECT ${MARK_COLUMNS} FROM runbook_feedback
      WHERE incident_id = $1 AND runbook_id = $2 AND actor_type = $3
        AND actor_id = $4`,
    [incidentId, runbookId, actor.type, actor.id],
  );
  const previous = existing.rows[0];
  if (previous && previous.helpful === helpful) {
    return { outcome: "unchanged", mark: toMark(previous), eventId: null };
  }

  const { rows } = await db.query<MarkRow>(
    `INSERT INTO runbook_feedback
       (incident_id, runbook_id, version, helpful, actor_type, actor_id,
        actor_name)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (incident_id, runbook_id, actor_type, actor_id)
     DO UPDATE SET helpful = EXCLUDED.helpful, version = EXCLUDED.version,
                   actor_name = EXCLUDED.actor_name, updated_at = now()
     RETURNING ${MARK_COLUMNS}`,
    [
      incidentId,
      runbookId,
      suggestion.version,
      helpful,
      actor.type,
      actor.id,
      actor.name,
    ],
  );
  const verdict = helpful ? "helpful" : "not helpful";
  const eventId = await addIncidentEvent(db, {
    incidentId,
    kind: "runbook_feedback",
    actorType: actor.type,
    actorId: actor.id,
    actorName: actor.name,
    message: previous
      ? `Changed the mark on runbook "${suggestion.title}" to ${verdict}`
      : `Marked runbook "${suggestion.title}" ${verdict}`,
    data: {
      runbookId,
      version: suggestion.version,
      helpful,
      previousHelpful: previous ? previous.helpful : null,
    },
  });
  return {
    outcome: previous ? "changed" : "recorded",
    mark: toMark(rows[0]!),
    eventId,
  };
}

/** Lists every mark on an incident's runbooks, oldest first. */
export async function listRunbookFeedback(
  db: Queryable,
  incidentId: number,
): Promise<RunbookFeedbackMark[]> {
  const { rows } = await db.query<MarkRow>(
    `SELECT ${MARK_COLUMNS} FROM runbook_feedback
      WHERE incident_id = $1 ORDER BY created_at, id`,
    [incidentId],
  );
  return rows.map(toMark);
}

export type RunbookFeedbackSummary = {
  helpful: number;
  unhelpful: number;
  /** Newest marked incidents first, at most `limit`. */
  incidents: {
    incidentId: number;
    title: string;
    status: string;
    helpful: number;
    unhelpful: number;
  }[];
};

/** Counts a runbook's marks over all incidents, with the newest marked incidents. */
export async function summarizeRunbookFeedback(
  db: Queryable,
  runbookId: number,
  limit = 10,
): Promise<RunbookFeedbackSummary> {
  const totals = await db.query<{ helpful: number; unhelpful: number }>(
    `SELECT count(*) FILTER (WHERE helpful)::int AS helpful,
            count(*) FILTER (WHERE NOT helpful)::int AS unhelpful
       FROM runbook_feedback WHERE runbook_id = $1`,
    [runbookId],
  );
  const incidents = await db.query<{
    incident_id: number;
    title: string;
    status: string;
    helpful: number;
    unhelpful: number;
  }>(
    `SELECT f.incident_id, i.title, i.status,
            count(*) FILTER (WHERE f.helpful)::int AS helpful,
            count(*) FILTER (WHERE NOT f.helpful)::int AS unhelpful
       FROM runbook_feedback f JOIN incident i ON i.id = f.incident_id
      WHERE f.runbook_id = $1
      GROUP BY f.incident_id, i.title, i.status
      ORDER BY max(f.updated_at) DESC
      LIMIT $2`,
    [runbookId, limit],
  );
  return {
    helpful: totals.rows[0]?.helpful ?? 0,
    unhelpful: totals.rows[0]?.unhelpful ?? 0,
    incidents: incidents.rows.map((row) => ({
      incidentId: row.incident_id,
      title: row.title,
      status: row.status,
      helpful: row.helpful,
      unhelpful: row.unhelpful,
    })),
  };
}
