import { ApiError } from "@/lib/api/errors";
import type { Queryable } from "@/lib/incidents/events";
import type { Actor } from "@/lib/oncall/schedules";
import type { LabelMatcher } from "@/lib/oncall/suppression";

// Reads and writes of maintenance windows and silences. Ending one early
// sets ended_at, so that the record of the planned work stays.

export type WindowInput = {
  service: string;
  reason: string;
  startsAt: Date;
  endsAt: Date;
};

export type SilenceInput = {
  service: string | null;
  matchers: LabelMatcher[];
  reason: string;
  startsAt: Date;
  endsAt: Date;
};

export type WindowState = "scheduled" | "active" | "over";

export type StoredWindow = {
  id: number;
  serviceId: number;
  serviceSlug: string;
  serviceName: string;
  reason: string;
  startsAt: Date;
  endsAt: Date;
  endedAt: Date | null;
  state: WindowState;
  createdByName: string;
  createdAt: Date;
};

export type StoredSilence = Omit<StoredWindow, "serviceId" | "serviceSlug" | "serviceName"> & {
  serviceId: number | null;
  serviceSlug: string | null;
  serviceName: string | null;
  matchers: LabelMatcher[];
};

type Row = {
  id: number;
  service_id: number | null;
  service_slug: string | null;
  service_name: string | null;
  reason: string;
  starts_at: Date;
  ends_at: Date;
  ended_at: Date | null;
  created_by_name: string;
  created_at: Date;
  matchers?: LabelMatcher[];
};

function stateAt(row: Row, at: Date): WindowState {
  const end = row.ended_at !== null && row.ended_at < row.ends_at ? row.ended_at : row.ends_at;
  if (end <= at) return "over";
  return row.starts_at <= at ? "active" : "scheduled";
}

function toWindow(row: Row, at: Date): StoredWindow {
  return {
    id: row.id,
    serviceId: row.service_id!,
    serviceSlug: row.service_slug!,
    serviceName: row.service_name!,
    reason: row.reason,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    endedAt: row.ended_at,
    state: stateAt(row, at),
    createdByName: row.created_by_name,
    createdAt: row.created_at,
  };
}

function toSilence(row: Row, at: Date): StoredSilence {
  return {
    ...toWindow(row, at),
    serviceId: row.service_id,
    serviceSlug: row.service_slug,
    serviceName: row.service_name,
    matchers: row.matchers ?? [],
  };
}

async function serviceId(db: Queryable, slug: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>("SELECT id FROM service WHERE slug = $1", [slug]);
  if (rows.length === 0) {
    throw new ApiError(400, "invalid_field", `service is ${JSON.stringify(slug)}, which is not a service`, {
      field: "service",
    });
  }
  return rows[0]!.id;
}

// Not over at $1: neither past ends_at nor ended early.
const NOT_OVER = `(w.ends_at > $1 AND (w.ended_at IS NULL OR w.ended_at > $1))`;

/** Lists windows, by start: those not over at `at`, or all when `includeOver`. */
export async function listWindows(
  db: Queryable,
  at: Date,
  options: { includeOver?: boolean; serviceSlug?: string } = {},
): Promise<StoredWindow[]> {
  const { rows } = await db.query<Row>(
    `SELECT w.id, w.service_id, s.slug AS service_slug, s.name AS service_name, w.reason, w.starts_at,
            w.ends_at, w.ended_at, w.created_by_name, w.created_at
       FROM maintenance_window w JOIN service s ON s.id = w.service_id
      WHERE ($2::boolean OR ${NOT_OVER})
        AND ($3::text IS NULL OR s.slug = $3)
      ORDER BY w.starts_at DESC, w.id DESC
      LIMIT 200`,
    [at, options.includeOver ?? false, options.serviceSlug ?? null],
  );
  return rows.map((row) => toWindow(row, at));
}

export async function createWindow(
  db: Queryable,
  input: WindowInput,
  actor: Actor,
  at: Date,
): Promise<StoredWindow> {
  const id = await serviceId(db, input.service);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO maintenance_window
       (service_id, reason, starts_at, ends_at, created_by_id, created_by_name)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [id, input.reason, input.startsAt, input.endsAt, actor.type === "user" ? actor.id : null, actor.name],
  );
  return (await findWindow(db, rows[0]!.id, at))!;
}

export async function findWindow(db: Queryable, id: number, at: Date): Promise<StoredWindow | null> {
  const { rows } = await db.query<Row>(
    `SELECT w.id, w.service_id, s.slug AS service_slug, s.name AS service_name, w.reason, w.starts_at,
            w.ends_at, w.ended_at, w.created_by_name, w.created_at
       FROM maintenance_window w JOIN service s ON s.id = w.service_id
      WHERE w.id = $1`,
    [id],
  );
  return rows[0] ? toWindow(rows[0], at) : null;
}

function alreadyOver(what: string, id: number): ApiError {
  return new ApiError(409, "already_over", `${what} ${id} is over already`, { field: "id" });
}

/**
 * Ends a window at `at` (a scheduled one never starts). Returns null when
 * it does not exist; throws a 409 when it is over already.
 */
export async function endWindow(db: Queryable, id: number, at: Date): Promise<StoredWindow | null> {
  const { rowCount } = await db.query(
    `UPDATE maintenance_window w SET ended_at = $1 WHERE w.id = $2 AND ${NOT_OVER}`,
    [at, id],
  );
  const window = await findWindow(db, id, at);
  if (window && rowCount === 0) throw alreadyOver("maintenance window", id);
  return window;
}

const SILENCE_SELECT = `
  SELECT w.id, w.service_id, s.slug AS service_slug, s.name AS service_name, w.reason, w.starts_at,
         w.ends_at, w.ended_at, w.created_by_name, w.created_at, w.matchers
    FROM silence w LEFT JOIN service s ON s.id = w.service_id`;

export async function listSilences(
  db: Queryable,
  at: Date,
  options: { includeOver?: boolean } = {},
): Promise<StoredSilence[]> {
  const { rows } = await db.query<Row>(
    `${SILENCE_SELECT}
      WHERE ($2::boolean OR ${NOT_OVER})
      ORDER BY w.starts_at DESC, w.id DESC
      LIMIT 200`,
    [at, options.includeOver ?? false],
  );
  return rows.map((row) => toSilence(row, at));
}

export async function findSilence(db: Queryable, id: number, at: Date): Promise<StoredSilence | null> {
  const { rows } = await db.query<Row>(`${SILENCE_SELECT} WHERE w.id = $1`, [id]);
  return rows[0] ? toSilence(rows[0], at) : null;
}

export async function createSilence(
  db: Queryable,
  input: SilenceInput,
  actor: Actor,
  at: Date,
): Promise<StoredSilence> {
  const id = input.service === null ? null : await serviceId(db, input.service);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO silence
       (service_id, matchers, reason, starts_at, ends_at, created_by_id, created_by_name)
     VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7) RETURNING id`,
    [
      id,
      JSON.stringify(input.matchers),
      input.reason,
      input.startsAt,
      input.endsAt,
      actor.type === "user" ? actor.id : null,
      actor.name,
    ],
  );
  return (await findSilence(db, rows[0]!.id, at))!;
}

/** Ends a silence at `at`, as endWindow does for a window. */
export async function endSilence(db: Queryable, id: number, at: Date): Promise<StoredSilence | null> {
  const { rowCount } = await db.query(
    `UPDATE silence w SET ended_at = $1 WHERE w.id = $2 AND ${NOT_OVER}`,
    [at, id],
  );
  const silence = await findSilence(db, id, at);
  if (silence && rowCount === 0) throw alreadyOver("silence", id);
  return silence;
}
