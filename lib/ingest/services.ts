import type pg from "pg";
import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { getPool } from "@/lib/db";
import type { ApiToken } from "@/lib/generated/prisma/client";
import {
  metricNameSchema,
  serviceSlugSchema,
  text,
} from "@/lib/ingest/schemas";
import { withTransaction } from "@/lib/ingest/transaction";
import type { Logger } from "@/lib/logger";

// Services in the API: resolution of the service named in an ingest request
// (shared by the metrics and deployments endpoints), and the create-or-update
// and list operations of /api/v1/services.

type Queryable = Pick<pg.ClientBase, "query">;

function serviceNotAllowed(
  token: ApiToken,
  slug: string,
  field: string,
): ApiError {
  return new ApiError(
    403,
    "forbidden",
    `this API token may write only its own service, not "${slug}"`,
    { field, logContext: { boundServiceId: token.serviceId } },
  );
}

/**
 * Returns the id of the service with this slug, creating it (name = slug)
 * when it does not exist yet. Throws a 403 ApiError when the token is bound
 * to another service, naming `field` as the offending one. A bound token
 * cannot create services. Call it inside the caller's transaction so that a
 * rejected batch leaves no new service behind.
 */
export async function resolveServiceForWrite(
  db: Queryable,
  slug: string,
  token: ApiToken,
  field = "service",
): Promise<{ id: number; created: boolean }> {
  const existing = await db.query<{ id: number }>(
    "SELECT id FROM service WHERE slug = $1",
    [slug],
  );
  const found = existing.rows[0];
  if (token.serviceId !== null) {
    if (found === undefined || found.id !== token.serviceId) {
      throw serviceNotAllowed(token, slug, field);
    }
    return { id: found.id, created: false };
  }
  if (found !== undefined) return { id: found.id, created: false };
  return ensureService(db, slug);
}

/**
 * Returns the id of the service with this slug, creating it (name = slug)
 * when it does not exist. A concurrent request may create the same service
 * first. ON CONFLICT then waits for it to commit and inserts nothing, and
 * the next SELECT (a new snapshot under READ COMMITTED) returns its row.
 */
export async function ensureService(
  db: Queryable,
  slug: string,
): Promise<{ id: number; created: boolean }> {
  const inserted = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ($1, $1)
     ON CONFLICT (slug) DO NOTHING RETURNING id`,
    [slug],
  );
  if (inserted.rows[0] !== undefined) {
    return { id: inserted.rows[0].id, created: true };
  }
  const again = await db.query<{ id: number }>(
    "SELECT id FROM service WHERE slug = $1",
    [slug],
  );
  return { id: again.rows[0]!.id, created: false };
}

export const serviceUpdateSchema = z.strictObject({
  name: text(1, 200).optional(),
  description: text(0, 2000).nullable().optional(),
  requestMetric: metricNameSchema.nullable().optional(),
  errorMetric: metricNameSchema.nullable().optional(),
  groupingWindowMinutes: z.number().int().min(0).max(1440).nullable().optional(),
});

export type ServiceUpdate = z.output<typeof serviceUpdateSchema>;

export type ServiceView = {
  id: number;
  slug: string;
  name: string;
  description: string | null;
  requestMetric: string | null;
  errorMetric: string | null;
  groupingWindowMinutes: number | null;
  createdAt: string;
};

type ServiceRow = {
  id: number;
  slug: string;
  name: string;
  description: string | null;
  request_metric: string | null;
  error_metric: string | null;
  grouping_window_minutes: number | null;
  created_at: Date;
};

const SERVICE_COLUMNS =
  "id, slug, name, description, request_metric, error_metric, grouping_window_minutes, created_at";

function toView(row: ServiceRow): ServiceView {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    requestMetric: row.request_metric,
    errorMetric: row.error_metric,
    groupingWindowMinutes: row.grouping_window_minutes,
    createdAt: row.created_at.toISOString(),
  };
}

/** Maps the fields a PUT may set to their columns. */
const UPDATABLE_COLUMNS = {
  name: "name",
  description: "description",
  requestMetric: "request_metric",
  errorMetric: "error_metric",
  groupingWindowMinutes: "grouping_window_minutes",
} as const;

/**
 * Creates the service with this slug or updates the fields present in the
 * body. A field sent as null is cleared and an absent field is kept. A new
 * service's name defaults to its slug. Throws a 400 ApiError on an invalid
 * slug or body and a 403 for a token bound to another service.
 */
export async function putService(
  slug: unknown,
  input: unknown,
  token: ApiToken,
  log: Logger,
): Promise<{ service: ServiceView; created: boolean }> {
  const parsedSlug = parseInput(z.strictObject({ slug: serviceSlugSchema }), {
    slug,
  }).slug;
  const update = parseInput(serviceUpdateSchema, input);

  const result = await withTransaction(getPool(), async (client) => {
    const service = await resolveServiceForWrite(
      client,
      parsedSlug,
      token,
      "slug",
    );

    const assignments: string[] = [];
    const values: unknown[] = [service.id];
    for (const [field, column] of Object.entries(UPDATABLE_COLUMNS)) {
      const value = update[field as keyof ServiceUpdate];
      if (value === undefined) continue;
      values.push(value);
      assignments.push(`${column} = $${values.length}`);
    }

    const { rows } =
      assignments.length === 0
        ? await client.query<ServiceRow>(
            `SELECT ${SERVICE_COLUMNS} FROM service WHERE id = $1`,
            values,
          )
        : await client.query<ServiceRow>(
            `UPDATE service SET ${assignments.join(", ")} WHERE id = $1
             RETURNING ${SERVICE_COLUMNS}`,
            values,
          );
    return { service: toView(rows[0]!), created: service.created };
  });

  log.info(
    { serviceId: result.service.id, created: result.created },
    result.created ? "created service" : "updated service",
  );
  return result;
}

/** Returns every service ordered by slug. */
export async function listServices(): Promise<ServiceView[]> {
  const { rows } = await getPool().query<ServiceRow>(
    `SELECT ${SERVICE_COLUMNS} FROM service ORDER BY slug`,
  );
  return rows.map(toView);
}

/** Returns the service with this slug, or null. */
export async function findService(slug: string): Promise<ServiceView | null> {
  const { rows } = await getPool().query<ServiceRow>(
    `SELECT ${SERVICE_COLUMNS} FROM service WHERE slug = $1`,
    [slug],
  );
  return rows[0] === undefined ? null : toView(rows[0]);
}
