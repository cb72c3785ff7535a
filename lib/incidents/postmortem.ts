import type pg from "pg";

import { getPool } from "@/lib/db";
import type { ActorType } from "@/lib/generated/prisma/enums";
import {
  actorColumns,
  actorLogContext,
  type IncidentActor,
} from "@/lib/incidents/actor";
import { checkIncidentId, IncidentChangeError } from "@/lib/incidents/errors";
import { addIncidentEvent } from "@/lib/incidents/events";
import { checkFreeText } from "@/lib/incidents/text";
import { withTransaction } from "@/lib/ingest/transaction";
import { logger } from "@/lib/logger";

// One postmortem per incident: summary, impact, root cause and follow-up
// items. A save replaces the whole document. It names the version it was
// edited from, and a save from an older version is rejected with 409 naming
// who saved in between, so two editors never overwrite each other unnoticed.
// Each save that changes something writes a "postmortem_updated" timeline
// event in the same transaction.

/** Limits, also enforced by CHECK constraints in the migration. */
export const POSTMORTEM_TEXT_MAX_LENGTH = 20_000;
export const FOLLOW_UP_DESCRIPTION_MAX_LENGTH = 2000;
export const FOLLOW_UPS_MAX = 50;

const DUE_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export type FollowUpInput = {
  /** Id of an existing item of this postmortem; absent for a new one. */
  id?: number | null;
  description: string;
  ownerId: number | null;
  /** Calendar date "YYYY-MM-DD", or null. */
  dueDate: string | null;
  done: boolean;
};

export type PostmortemInput = {
  summary: string;
  rootCause: string;
  impact: string;
  followUps: FollowUpInput[];
  /** Version the editor started from; null to create the postmortem. */
  version: number | null;
};

export type FollowUpView = {
  id: number;
  position: number;
  description: string;
  owner: { id: number; name: string } | null;
  dueDate: string | null;
  done: boolean;
};

export type PostmortemView = {
  incidentId: number;
  summary: string;
  rootCause: string;
  impact: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: { type: ActorType; id: number | null; name: string };
  followUps: FollowUpView[];
};

export type SavePostmortemResult =
  | { outcome: "created" | "updated" | "unchanged"; postmortem: PostmortemView }
  | { outcome: "not_found" };

type PostmortemRow = {
  incident_id: number;
  summary: string;
  root_cause: string;
  impact: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  updated_by_type: ActorType;
  updated_by_id: number | null;
  updated_by_name: string;
};

type FollowUpRow = {
  id: number;
  position: number;
  description: string;
  owner_id: number | null;
  owner_name: string | null;
  due_date: Date | null;
  done: boolean;
};

function toDateString(date: Date | null): string | null {
  return date ? date.toISOString().slice(0, 10) : null;
}

async function readPostmortem(
  db: Pick<pg.ClientBase, "query">,
  incidentId: number,
  lock: boolean,
): Promise<PostmortemView | null> {
  const { rows } = await db.query<PostmortemRow>(
    `SELECT * FROM incident_postmortem WHERE incident_id = $1
     ${lock ? "FOR UPDATE" : ""}`,
    [incidentId],
  );
  const row = rows[0];
  if (!row) return null;
  const { rows: items } = await db.query<FollowUpRow>(
    `SELECT f.id, f.position, f.description, f.owner_id, u.name AS owner_name,
            f.due_date, f.done
       FROM postmortem_follow_up f
       LEFT JOIN user_account u ON u.id = f.owner_id
      WHERE f.incident_id = $1
      ORDER BY f.position`,
    [incidentId],
  );
  return {
    incidentId,
    summary: row.summary,
    rootCause: row.root_cause,
    impact: row.impact,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: {
      type: row.updated_by_type,
      id: row.updated_by_id,
      name: row.updated_by_name,
    },
    followUps: items.map((item) => ({
      id: item.id,
      position: item.position,
      description: item.description,
      owner:
        item.owner_id === null
          ? null
          : { id: item.owner_id, name: item.owner_name ?? "unknown" },
      dueDate: toDateString(item.due_date),
      done: item.done,
    })),
  };
}

/** Loads an incident's postmortem, or null when none was written. */
export function getPostmortem(incidentId: number): Promise<PostmortemView | null> {
  checkIncidentId(incidentId);
  return readPostmortem(getPool(), incidentId, false);
}

function invalid(field: string, message: string): IncidentChangeError {
  return new IncidentChangeError(400, "invalid_field", message, field);
}

function parseDueDate(field: string, value: string | null): Date | null {
  if (value === null) return null;
  const match = DUE_DATE.exec(value);
  const date = match ? new Date(`${value}T00:00:00Z`) : null;
  if (!date || Number.isNaN(date.getTime()) || toDateString(date) !== value) {
    throw invalid(
      field,
      `${field} must be a calendar date YYYY-MM-DD or null, got ${JSON.stringify(value)}`,
    );
  }
  return date;
}

type CheckedFollowUp = {
  id: number | null;
  description: string;
  ownerId: number | null;
  dueDate: Date | null;
  done: boolean;
};

type CheckedInput = {
  summary: string;
  rootCause: string;
  impact: string;
  followUps: CheckedFollowUp[];
  version: number | null;
};

function checkPositiveId(field: string, value: unknown): void {
  if (
    typeof value !== "number" ||
    !Number.isSafeInteger(value) ||
    value <= 0 ||
    value > 2_147_483_647
  ) {
    throw invalid(field, `${field} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

/** Checks a postmortem document and trims its text. Throws a 400 naming the field. */
export function checkPostmortemInput(input: PostmortemInput): CheckedInput {
  const text = { min: 0, max: POSTMORTEM_TEXT_MAX_LENGTH };
  if (input.version !== null) checkPositiveId("version", input.version);
  if (!Array.isArray(input.followUps)) {
    throw invalid("followUps", "followUps must be an array");
  }
  if (input.followUps.length > FOLLOW_UPS_MAX) {
    throw invalid(
      "followUps",
      `followUps must contain at most ${FOLLOW_UPS_MAX} items, got ${input.followUps.length}`,
    );
  }
  const seen = new Set<number>();
  const followUps = input.followUps.map((item, index): CheckedFollowUp => {
    const field = `followUps[${index}]`;
    if (item.id !== undefined && item.id !== null) {
      checkPositiveId(`${field}.id`, item.id);
      if (seen.has(item.id)) {
        throw invalid(`${field}.id`, `${field}.id ${item.id} appears twice`);
      }
      seen.add(item.id);
    }
    if (item.ownerId !== null) checkPositiveId(`${field}.ownerId`, item.ownerId);
    if (typeof item.done !== "boolean") {
      throw invalid(`${field}.done`, `${field}.done must be true or false`);
    }
    return {
      id: item.id ?? null,
      description: checkFreeText(`${field}.description`, item.description, {
        min: 1,
        max: FOLLOW_UP_DESCRIPTION_MAX_LENGTH,
      }),
      ownerId: item.ownerId,
      dueDate: parseDueDate(`${field}.dueDate`, item.dueDate),
      done: item.done,
    };
  });
  return {
    summary: checkFreeText("summary", input.summary, text),
    rootCause: checkFreeText("rootCause", input.rootCause, text),
    impact: checkFreeText("impact", input.impact, text),
    followUps,
    version: input.version,
  };
}

function conflict(current: PostmortemView, sentVersion: number | null): IncidentChangeError {
  const sent = sentVersion === null ? "a new postmortem" : `version ${sentVersion}`;
  return new IncidentChangeError(
    409,
    "conflict",
    `${current.updatedBy.name} saved version ${current.version} of this postmortem at ` +
      `${current.updatedAt.toISOString()}, after the ${sent} you edited; ` +
      "reload it and apply your changes again",
    "version",
    {
      version: current.version,
      updatedBy: current.updatedBy.name,
      updatedAt: current.updatedAt.toISOString(),
    },
  );
}

async function checkOwners(
  db: pg.ClientBase,
  followUps: CheckedFollowUp[],
): Promise<void> {
  const ids = [...new Set(followUps.map((item) => item.ownerId).filter((id) => id !== null))];
  if (ids.length === 0) return;
  // FOR KEY SHARE keeps the owners from being deleted before the commit.
  const { rows } = await db.query<{ id: number }>(
    "SELECT id FROM user_account WHERE id = ANY($1::int[]) FOR KEY SHARE",
    [ids],
  );
  const known = new Set(rows.map((row) => row.id));
  const index = followUps.findIndex(
    (item) => item.ownerId !== null && !known.has(item.ownerId),
  );
  if (index >= 0) {
    throw new IncidentChangeError(
      422,
      "unknown_user",
      `followUps[${index}].ownerId ${followUps[index]!.ownerId} is not a user`,
      `followUps[${index}].ownerId`,
    );
  }
}

function checkFollowUpIds(
  current: PostmortemView | null,
  followUps: CheckedFollowUp[],
): void {
  const known = new Set(current?.followUps.map((item) => item.id) ?? []);
  const index = followUps.findIndex((item) => item.id !== null && !known.has(item.id));
  if (index >= 0) {
    throw new IncidentChangeError(
      422,
      "unknown_follow_up",
      `followUps[${index}].id ${followUps[index]!.id} is not a follow-up item of this postmortem; leave id out for a new item`,
      `followUps[${index}].id`,
    );
  }
}

/** Names what a save changes, for the timeline; empty when nothing changes. */
function describeChanges(
  current: PostmortemView | null,
  next: CheckedInput,
): string[] {
  const changes: string[] = [];
  if ((current?.summary ?? "") !== next.summary) changes.push("summary");
  if ((current?.impact ?? "") !== next.impact) changes.push("impact");
  if ((current?.rootCause ?? "") !== next.rootCause) changes.push("root cause");

  const before = current?.followUps ?? [];
  const byId = new Map(before.map((item) => [item.id, item]));
  const added = next.followUps.filter((item) => item.id === null).length;
  const keptIds = new Set(next.followUps.map((item) => item.id));
  const removed = before.filter((item) => !keptIds.has(item.id)).length;
  let edited = 0;
  let completed = 0;
  next.followUps.forEach((item, index) => {
    const old = item.id === null ? undefined : byId.get(item.id);
    if (!old) return;
    if (!old.done && item.done) completed += 1;
    if (
      old.description !== item.description ||
      (old.owner?.id ?? null) !== item.ownerId ||
      old.dueDate !== toDateString(item.dueDate) ||
      old.done !== item.done ||
      old.position !== index
    ) {
      edited += 1;
    }
  });
  const count = (n: number, what: string) =>
    `${n} follow-up item${n === 1 ? "" : "s"} ${what}`;
  if (added > 0) changes.push(count(added, "added"));
  if (removed > 0) changes.push(count(removed, "removed"));
  if (completed > 0) changes.push(count(completed, "marked done"));
  if (edited > completed) changes.push(count(edited - completed, "edited"));
  return changes;
}

async function writeDocument(
  db: pg.ClientBase,
  incidentId: number,
  input: CheckedInput,
  actor: IncidentActor,
  creating: boolean,
): Promise<boolean> {
  const who = actorColumns(actor);
  if (creating) {
    const { rowCount } = await db.query(
      `INSERT INTO incident_postmortem
         (incident_id, summary, root_cause, impact, updated_by_type,
          updated_by_id, updated_by_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (incident_id) DO NOTHING`,
      [incidentId, input.summary, input.rootCause, input.impact, who.actorType, who.actorId, who.actorName],
    );
    // Another editor created it first and committed while this INSERT waited.
    if (rowCount === 0) return false;
  } else {
    await db.query(
      `UPDATE incident_postmortem
          SET summary = $2, root_cause = $3, impact = $4,
              version = version + 1, updated_at = now(),
              updated_by_type = $5, updated_by_id = $6, updated_by_name = $7
        WHERE incident_id = $1`,
      [incidentId, input.summary, input.rootCause, input.impact, who.actorType, who.actorId, who.actorName],
    );
  }

  await db.query("DELETE FROM postmortem_follow_up WHERE incident_id = $1", [incidentId]);
  for (const [position, item] of input.followUps.entries()) {
    await db.query(
      `INSERT INTO postmortem_follow_up
         (id, incident_id, position, description, owner_id, due_date, done)
       VALUES (COALESCE($1::int,
                        nextval(pg_get_serial_sequence('postmortem_follow_up', 'id'))::int),
               $2, $3, $4, $5, $6, $7)`,
      [item.id, incidentId, position, item.description, item.ownerId, item.dueDate, item.done],
    );
  }
  return true;
}

/**
 * Creates or replaces an incident's postmortem. Throws IncidentChangeError
 * 400 for invalid input, 422 for an unknown owner or follow-up id, and 409
 * when `input.version` is not the stored version.
 */
export async function savePostmortem(
  incidentId: number,
  input: PostmortemInput,
  actor: IncidentActor,
): Promise<SavePostmortemResult> {
  checkIncidentId(incidentId);
  const checked = checkPostmortemInput(input);
  const log = logger.child({ incidentId, ...actorLogContext(actor) });

  const result = await withTransaction(getPool(), async (db): Promise<SavePostmortemResult> => {
    const { rows } = await db.query(
      "SELECT 1 FROM incident WHERE id = $1 FOR KEY SHARE",
      [incidentId],
    );
    if (rows.length === 0) return { outcome: "not_found" };

    const current = await readPostmortem(db, incidentId, true);
    if (current ? current.version !== checked.version : checked.version !== null) {
      if (current) throw conflict(current, checked.version);
      throw new IncidentChangeError(
        409,
        "conflict",
        `this incident has no postmortem yet, so version ${checked.version} cannot be edited; send version null to create it`,
        "version",
      );
    }
    checkFollowUpIds(current, checked.followUps);
    await checkOwners(db, checked.followUps);

    const changes = describeChanges(current, checked);
    if (current && changes.length === 0) {
      return { outcome: "unchanged", postmortem: current };
    }
    const written = await writeDocument(db, incidentId, checked, actor, current === null);
    if (!written) {
      const winner = await readPostmortem(db, incidentId, false);
      throw conflict(winner!, checked.version);
    }
    const saved = (await readPostmortem(db, incidentId, false))!;
    const created = current === null;
    await addIncidentEvent(db, {
      incidentId,
      kind: "postmortem_updated",
      ...actorColumns(actor),
      message: created
        ? `${actor.name} wrote the postmortem`
        : `${actor.name} updated the postmortem: ${changes.join(", ")}`,
      data: { version: saved.version, changes },
    });
    return { outcome: created ? "created" : "updated", postmortem: saved };
  });

  if (result.outcome === "not_found") log.warn("postmortem not saved: incident not found");
  else if (result.outcome !== "unchanged") {
    log.info({ version: result.postmortem.version }, "postmortem %s", result.outcome);
  }
  return result;
}
