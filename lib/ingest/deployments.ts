import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import type { ApiToken } from "@/lib/generated/prisma/client";
import { serviceSlugSchema, text, timestampSchema } from "@/lib/ingest/schemas";
import { resolveServiceForWrite } from "@/lib/ingest/services";
import {
  checkTimestamp,
  timestampLimits,
  type TimestampLimits,
} from "@/lib/ingest/timestamps";
import { withTransaction } from "@/lib/ingest/transaction";
import type { Logger } from "@/lib/logger";

// POST /api/v1/deployments records one deployment, or a batch as
// { "deployments": [...] }. The client's "id" is an idempotency key
// (Deployment.externalId, unique per service): a retry with the same id
// returns the stored row unchanged instead of adding a second one.

export const MAX_DEPLOYMENTS_PER_REQUEST = 1000;
export const DEPLOYMENT_STATUSES = [
  "success",
  "failure",
  "in_progress",
  "rolled_back",
] as const;

/**
 * Earliest accepted commitAt. A deployment may ship a commit of any age, so
 * VIGIL_INGEST_MAX_AGE_DAYS does not apply to it, but a commit time before
 * 2000 is taken as a wrong clock or a wrong unit.
 */
export const EARLIEST_COMMIT_AT = new Date("2000-01-01T00:00:00Z");

/** Time of the deployed commit: at or after EARLIEST_COMMIT_AT, and not in the future. */
function commitAtSchema(limits: TimestampLimits) {
  const commitLimits = { ...limits, minMs: Number.MIN_SAFE_INTEGER };
  return z.unknown().transform((input, ctx) => {
    const result = checkTimestamp(input, commitLimits);
    if (!result.ok) {
      ctx.addIssue({ code: "custom", message: result.message, input });
      return z.NEVER;
    }
    if (result.ms < EARLIEST_COMMIT_AT.getTime()) {
      ctx.addIssue({
        code: "custom",
        input,
        message:
          `must not be before ${EARLIEST_COMMIT_AT.toISOString()}, ` +
          `got ${JSON.stringify(input)}` +
          (typeof input === "number" ? "; it looks like epoch seconds, send milliseconds" : ""),
      });
      return z.NEVER;
    }
    return result.ms;
  });
}

function deploymentSchema(limits: TimestampLimits, now: number) {
  return z
    .strictObject({
    service: serviceSlugSchema,
    version: text(1, 200),
    environment: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,63}$/, {
        message: "must be 1 to 63 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
      })
      .default("production"),
    status: z.enum(DEPLOYMENT_STATUSES).default("success"),
    deployedAt: timestampSchema(limits).optional(),
    commitSha: z
      .string()
      .regex(/^[0-9a-fA-F]{7,64}$/, {
        message: "must be 7 to 64 hexadecimal characters",
      })
      .optional(),
    // Time of the deployed commit, for the lead time for changes KPI.
    commitAt: commitAtSchema(limits).optional(),
    description: text(0, 2000).optional(),
    id: text(1, 200).optional(),
  })
    // A commit made after its deployment is a wrong clock or a wrong
    // field, and would make the lead time negative.
    .superRefine((item, ctx) => {
      if (item.commitAt === undefined) return;
      const deployedAt = item.deployedAt ?? now;
      if (item.commitAt > deployedAt) {
        ctx.addIssue({
          code: "custom",
          path: ["commitAt"],
          message:
            `must not be after deployedAt (${new Date(deployedAt).toISOString()}), ` +
            `got ${new Date(item.commitAt).toISOString()}`,
        });
      }
    });
}

type DeploymentInput = z.output<ReturnType<typeof deploymentSchema>>;

export type StoredDeployment = {
  id: number;
  externalId: string | null;
  service: string;
  version: string;
  environment: string;
  status: string;
  deployedAt: string;
  commitSha: string | null;
  commitAt: string | null;
  description: string | null;
  createdAt: string;
  /** False when the id matched a deployment stored by an earlier request. */
  created: boolean;
};

export type DeploymentsIngestResult = {
  /** True when the body was a batch ({ deployments: [...] }). */
  batch: boolean;
  deployments: StoredDeployment[];
};

type DeploymentRow = {
  id: number;
  external_id: string | null;
  version: string;
  environment: string;
  status: string;
  deployed_at: Date;
  commit_sha: string | null;
  commit_at: Date | null;
  description: string | null;
  created_at: Date;
};

function toStored(
  row: DeploymentRow,
  service: string,
  created: boolean,
): StoredDeployment {
  return {
    id: row.id,
    externalId: row.external_id,
    service,
    version: row.version,
    environment: row.environment,
    status: row.status,
    deployedAt: row.deployed_at.toISOString(),
    commitSha: row.commit_sha,
    commitAt: row.commit_at?.toISOString() ?? null,
    description: row.description,
    createdAt: row.created_at.toISOString(),
    created,
  };
}

const RETURNED_COLUMNS = `id, external_id, version, environment, status,
  deployed_at, commit_sha, commit_at, description, created_at`;

/** Validates the body: one deployment, or { deployments: [...] }. */
function parseDeployments(
  input: unknown,
  limits: TimestampLimits,
  now: number,
): { batch: boolean; items: DeploymentInput[] } {
  const single = deploymentSchema(limits, now);
  const isBatch =
    typeof input === "object" &&
    input !== null &&
    !Array.isArray(input) &&
    "deployments" in input;
  if (!isBatch) return { batch: false, items: [parseInput(single, input)] };

  const batchSchema = z.strictObject({
    deployments: z
      .array(single)
      .min(1, { message: "must contain at least one deployment" })
      .max(MAX_DEPLOYMENTS_PER_REQUEST, {
        message: `must contain at most ${MAX_DEPLOYMENTS_PER_REQUEST} deployments`,
      }),
  });
  return { batch: true, items: parseInput(batchSchema, input).deployments };
}

/**
 * Validates and stores deployments in one transaction, creating unknown
 * services. Throws ApiError (400, 403) on invalid input, in which case
 * nothing is stored.
 */
export async function ingestDeployments(
  input: unknown,
  token: ApiToken,
  log: Logger,
): Promise<DeploymentsIngestResult> {
  const config = getConfig();
  const now = Date.now();
  const limits = timestampLimits(
    now,
    config.VIGIL_INGEST_MAX_AGE_DAYS,
    config.VIGIL_INGEST_MAX_FUTURE_MINUTES,
  );
  const { batch, items } = parseDeployments(input, limits, now);

  const deployments = await withTransaction(getPool(), async (client) => {
    // Services are resolved in slug order so that concurrent batches
    // create and lock them in the same order.
    const serviceIds = new Map<string, number>();
    for (const slug of [...new Set(items.map((item) => item.service))].sort()) {
      const service = await resolveServiceForWrite(client, slug, token);
      if (service.created) {
        log.info({ serviceId: service.id, slug }, "created service");
      }
      serviceIds.set(slug, service.id);
    }

    // Row by row, because each deployment needs its own "created or
    // existing" result for the response, and a batch has at most 1000.
    const stored: StoredDeployment[] = [];
    for (const item of items) {
      const serviceId = serviceIds.get(item.service)!;
      const values = [
        serviceId,
        item.version,
        item.environment,
        item.status,
        new Date(item.deployedAt ?? now).toISOString(),
        item.commitSha?.toLowerCase() ?? null,
        item.commitAt === undefined
          ? null
          : new Date(item.commitAt).toISOString(),
        item.description ?? null,
        item.id ?? null,
      ];
      const inserted = await client.query<DeploymentRow>(
        `INSERT INTO deployment (service_id, version, environment, status,
           deployed_at, commit_sha, commit_at, description, external_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (service_id, external_id) DO NOTHING
         RETURNING ${RETURNED_COLUMNS}`,
        values,
      );
      if (inserted.rows[0] !== undefined) {
        stored.push(toStored(inserted.rows[0], item.service, true));
        continue;
      }

      const existing = await client.query<DeploymentRow>(
        `SELECT ${RETURNED_COLUMNS} FROM deployment
         WHERE service_id = $1 AND external_id = $2`,
        [serviceId, item.id],
      );
      stored.push(toStored(existing.rows[0]!, item.service, false));
    }
    return stored;
  });

  const created = deployments.filter((entry) => entry.created).length;
  log.info(
    { created, existing: deployments.length - created },
    "stored deployments",
  );
  return { batch, deployments };
}
