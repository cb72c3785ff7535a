import type { ActorType } from "@/lib/generated/prisma/enums";
import type { Queryable } from "@/lib/incidents/events";
import {
  contentFromRow,
  contentKey,
  normalizeContent,
  type ContentRow,
  type RunbookContent,
} from "@/lib/runbooks/content";

// Runbook versions in plain SQL, so that library sync, the admin API and
// rollbacks share one transaction discipline. A change locks the runbook
// row (SELECT ... FOR UPDATE), so two writers of the same runbook queue up
// and each new version gets the next number. The unique index on
// (runbook_id, version) backs that up.

export type VersionAuthor = {
  type: ActorType;
  id: number | null;
  name: string;
};

export type StoredRunbook = {
  id: number;
  slug: string;
  currentVersion: number | null;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  content: RunbookContent;
};

export type StoredVersion = {
  id: number;
  runbookId: number;
  version: number;
  content: RunbookContent;
  author: VersionAuthor;
  note: string | null;
  createdAt: Date;
};

type RunbookRow = ContentRow & {
  id: number;
  slug: string;
  current_version: number | null;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

type VersionRow = ContentRow & {
  id: number;
  runbook_id: number;
  version: number;
  author_type: ActorType;
  author_id: number | null;
  author_name: string;
  note: string | null;
  created_at: Date;
};

const CONTENT_COLUMNS = `title, body, services, metric_pattern, labels,
  alert_names, severities::text[] AS severities, steps, automatic`;

const RUNBOOK_COLUMNS = `id, slug, current_version, archived_at, created_at,
  updated_at, ${CONTENT_COLUMNS}`;

const VERSION_COLUMNS = `id, runbook_id, version, author_type, author_id,
  author_name, note, created_at, ${CONTENT_COLUMNS}`;

function toRunbook(row: RunbookRow): StoredRunbook {
  return {
    id: row.id,
    slug: row.slug,
    currentVersion: row.current_version,
    archivedAt: row.archived_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    content: contentFromRow(row),
  };
}

function toVersion(row: VersionRow): StoredVersion {
  return {
    id: row.id,
    runbookId: row.runbook_id,
    version: row.version,
    content: contentFromRow(row),
    author: { type: row.author_type, id: row.author_id, name: row.author_name },
    note: row.note,
    createdAt: row.created_at,
  };
}

/** Loads a runbook by slug; `lock` takes a row lock until the transaction ends. */
export async function findRunbookBySlug(
  db: Queryable,
  slug: string,
  { lock = false }: { lock?: boolean } = {},
): Promise<StoredRunbook | null> {
  const { rows } = await db.query<RunbookRow>(
    `SELECT ${RUNBOOK_COLUMNS} FROM runbook WHERE slug = $1
     ${lock ? "FOR UPDATE" : ""}`,
    [slug],
  );
  return rows[0] ? toRunbook(rows[0]) : null;
}

/** Loads a runbook by id, or null. */
export async function findRunbookById(
  db: Queryable,
  id: number,
): Promise<StoredRunbook | null> {
  const { rows } = await db.query<RunbookRow>(
    `SELECT ${RUNBOOK_COLUMNS} FROM runbook WHERE id = $1`,
    [id],
  );
  return rows[0] ? toRunbook(rows[0]) : null;
}

/**
 * Lists runbooks by title; archived ones only when `includeArchived`.
 * `search` keeps those whose slug, title or body contains it, ignoring case.
 */
export async function listRunbooks(
  db: Queryable,
  {
    includeArchived = false,
    search = "",
  }: { includeArchived?: boolean; search?: string } = {},
): Promise<StoredRunbook[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (!includeArchived) conditions.push("archived_at IS NULL");
  if (search.trim() !== "") {
    params.push(`%${search.trim().replace(/[\\%_]/g, "\\$&")}%`);
    conditions.push(
      `(slug ILIKE $${params.length} OR title ILIKE $${params.length} OR body ILIKE $${params.length})`,
    );
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
  const { rows } = await db.query<RunbookRow>(
    `SELECT ${RUNBOOK_COLUMNS} FROM runbook ${where}
      ORDER BY lower(title), slug`,
    params,
  );
  return rows.map(toRunbook);
}

/** Lists every version of a runbook, newest first. */
export async function listVersions(
  db: Queryable,
  runbookId: number,
): Promise<StoredVersion[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM runbook_version
      WHERE runbook_id = $1 ORDER BY version DESC`,
    [runbookId],
  );
  return rows.map(toVersion);
}

/** Loads one version of a runbook, or null. */
export async function findVersion(
  db: Queryable,
  runbookId: number,
  version: number,
): Promise<StoredVersion | null> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM runbook_version
      WHERE runbook_id = $1 AND version = $2`,
    [runbookId, version],
  );
  return rows[0] ? toVersion(rows[0]) : null;
}

/**
 * Returns the newest version that `authorName` wrote as `authorType`, such
 * as the last one the library sync stored, or null.
 */
export async function findLatestVersionBy(
  db: Queryable,
  runbookId: number,
  authorType: ActorType,
  authorName: string,
): Promise<StoredVersion | null> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM runbook_version
      WHERE runbook_id = $1 AND author_type = $2 AND author_name = $3
      ORDER BY version DESC LIMIT 1`,
    [runbookId, authorType, authorName],
  );
  return rows[0] ? toVersion(rows[0]) : null;
}

function contentParams(content: RunbookContent): unknown[] {
  return [
    content.title,
    content.body,
    content.services,
    content.metricPattern,
    JSON.stringify(content.labels),
    content.alertNames,
    content.severities,
    JSON.stringify(content.steps),
    content.automatic,
  ];
}

async function insertVersion(
  db: Queryable,
  runbookId: number,
  content: RunbookContent,
  author: VersionAuthor,
  note: string | null,
): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    `INSERT INTO runbook_version
       (runbook_id, version, title, body, services, metric_pattern, labels,
        alert_names, severities, steps, automatic, author_type, author_id,
        author_name, note)
     SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4, $5, $6::jsonb, $7,
            $8::"Severity"[], $9::jsonb, $10, $11, $12, $13, $14
       FROM runbook_version WHERE runbook_id = $1
     RETURNING version`,
    [runbookId, ...contentParams(content), author.type, author.id, author.name, note],
  );
  return rows[0]!.version;
}

/**
 * Creates a runbook with its first version. Returns null, writing nothing,
 * when the slug is taken (archived runbooks included).
 */
export async function createRunbook(
  db: Queryable,
  slug: string,
  content: RunbookContent,
  author: VersionAuthor,
  note: string | null = null,
): Promise<{ runbookId: number; version: number } | null> {
  const normalized = normalizeContent(content);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO runbook
       (slug, title, body, services, metric_pattern, labels, alert_names,
        severities, steps, automatic, current_version)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::"Severity"[], $9::jsonb,
             $10, 1)
     ON CONFLICT (slug) DO NOTHING
     RETURNING id`,
    [slug, ...contentParams(normalized)],
  );
  const runbookId = rows[0]?.id;
  if (runbookId === undefined) return null;
  const version = await insertVersion(db, runbookId, normalized, author, note);
  return { runbookId, version };
}

/**
 * Stores `content` as the next version of a runbook that the caller locked
 * with findRunbookBySlug(..., { lock: true }), and makes it current. Content
 * equal to the current version's stores nothing and returns changed false.
 */
export async function saveRunbookVersion(
  db: Queryable,
  runbook: StoredRunbook,
  content: RunbookContent,
  author: VersionAuthor,
  note: string | null = null,
): Promise<{ version: number; changed: boolean }> {
  const normalized = normalizeContent(content);
  if (
    runbook.currentVersion !== null &&
    contentKey(runbook.content) === contentKey(normalized)
  ) {
    return { version: runbook.currentVersion, changed: false };
  }
  const version = await insertVersion(db, runbook.id, normalized, author, note);
  await db.query(
    `UPDATE runbook
        SET title = $2, body = $3, services = $4, metric_pattern = $5,
            labels = $6::jsonb, alert_names = $7, severities = $8::"Severity"[],
            steps = $9::jsonb, automatic = $10, current_version = $11,
            updated_at = now()
      WHERE id = $1`,
    [runbook.id, ...contentParams(normalized), version],
  );
  return { version, changed: true };
}

/** Sets or clears archived_at; returns false when nothing changed. */
export async function setArchived(
  db: Queryable,
  runbookId: number,
  archived: boolean,
): Promise<boolean> {
  const { rowCount } = await db.query(
    archived
      ? `UPDATE runbook SET archived_at = now(), updated_at = now()
          WHERE id = $1 AND archived_at IS NULL`
      : `UPDATE runbook SET archived_at = NULL, updated_at = now()
          WHERE id = $1 AND archived_at IS NOT NULL`,
    [runbookId],
  );
  return (rowCount ?? 0) > 0;
}
