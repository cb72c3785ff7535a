import { ApiError, invalidField } from "@/lib/api/errors";
import { getPool } from "@/lib/db";
import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";
import {
  boundServiceId,
  incidentRoute,
  serializeIncident,
} from "@/lib/incidents/api";
import { SEVERITIES } from "@/lib/incidents/assign";
import { MAX_INT4 } from "@/lib/incidents/errors";
import { serviceFromQuery } from "@/lib/ingest/service-choice";
import {
  INCIDENT_PAGE_MAX,
  listIncidentPage,
  OPEN_STATUSES,
  type IncidentCursor,
} from "@/lib/incidents/queries";

// GET /api/v1/incidents: incidents newest first, filtered and paged.
//   status    comma-separated triggered, acknowledged, resolved or open
//   service   service slug (400 unless lowercase a-z, 0-9 and -)
//   severity  comma-separated sev1..sev4
//   assignee  a user id, or "none" for unassigned incidents
//   limit     1..200, default 50
//   cursor    nextCursor of the previous page

const DEFAULT_LIMIT = 50;
const STATUSES: IncidentStatus[] = ["triggered", "acknowledged", "resolved"];

function parseList<T extends string>(
  field: string,
  raw: string | null,
  allowed: readonly string[],
): T[] | undefined {
  if (raw === null) return undefined;
  const values = raw.split(",").map((value) => value.trim());
  for (const value of values) {
    if (!allowed.includes(value)) {
      throw invalidField(
        field,
        `${field} must be a comma-separated list of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
  }
  return values as T[];
}

function parseStatuses(raw: string | null): IncidentStatus[] | undefined {
  const values = parseList<IncidentStatus | "open">("status", raw, [...STATUSES, "open"]);
  if (!values) return undefined;
  return [...new Set(values.flatMap((value) => (value === "open" ? OPEN_STATUSES : [value])))];
}

function parseLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_LIMIT;
  const limit = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= INCIDENT_PAGE_MAX)) {
    throw invalidField(
      "limit",
      `limit must be an integer from 1 to ${INCIDENT_PAGE_MAX}, got ${JSON.stringify(raw)}`,
    );
  }
  return limit;
}

function parseAssignee(raw: string | null): number | null | undefined {
  if (raw === null) return undefined;
  if (raw === "none") return null;
  const id = /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(id <= MAX_INT4)) {
    throw invalidField(
      "assignee",
      `assignee must be a user id or "none", got ${JSON.stringify(raw)}`,
    );
  }
  return id;
}

function encodeCursor(cursor: IncidentCursor): string {
  return Buffer.from(`${cursor.openedAt.toISOString()}|${cursor.id}`).toString("base64url");
}

function parseCursor(raw: string | null): IncidentCursor | undefined {
  if (raw === null) return undefined;
  const text = Buffer.from(raw, "base64url").toString("utf8");
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([1-9][0-9]{0,9})$/.exec(text);
  const openedAt = match ? new Date(match[1]!) : null;
  const id = match ? Number(match[2]) : NaN;
  if (!openedAt || Number.isNaN(openedAt.getTime()) || !(id <= MAX_INT4)) {
    throw invalidField(
      "cursor",
      "cursor is not a nextCursor value of this API; start again without cursor",
    );
  }
  return { openedAt, id };
}

async function resolveServiceId(
  slug: string | null,
  bound: number | null,
): Promise<number | undefined> {
  if (slug === null) return bound ?? undefined;
  const { rows } = await getPool().query<{ id: number }>(
    "SELECT id FROM service WHERE slug = $1",
    [slug],
  );
  if (!rows[0]) {
    throw new ApiError(404, "not_found", `service ${JSON.stringify(slug)} not found`, {
      field: "service",
    });
  }
  if (bound !== null && rows[0].id !== bound) {
    throw new ApiError(
      403,
      "forbidden",
      `this API token is bound to another service than ${JSON.stringify(slug)}`,
      { field: "service" },
    );
  }
  return rows[0].id;
}

export const GET = incidentRoute(
  "GET /api/v1/incidents",
  { access: "read" },
  async ({ request, actor, requestId }) => {
    const query = new URL(request.url).searchParams;
    const limit = parseLimit(query.get("limit"));
    const rows = await listIncidentPage({
      statuses: parseStatuses(query.get("status")),
      severities: parseList<Severity>("severity", query.get("severity"), SEVERITIES),
      assigneeId: parseAssignee(query.get("assignee")),
      serviceId: await resolveServiceId(serviceFromQuery(request), boundServiceId(actor)),
      after: parseCursor(query.get("cursor")),
      limit,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      body: {
        incidents: page.map(serializeIncident),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({ openedAt: last.opened_at, id: last.id })
            : null,
        requestId,
      },
    };
  },
);
