import type pg from "pg";
import { z } from "zod";

import { invalidField } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { getPool } from "@/lib/db";
import { text } from "@/lib/ingest/schemas";
import { slugify } from "@/lib/ingest/service-choice";
import { ensureService } from "@/lib/ingest/services";
import {
  checkTimestamp,
  type TimestampLimits,
} from "@/lib/ingest/timestamps";
import { withTransaction } from "@/lib/ingest/transaction";
import type { Logger } from "@/lib/logger";

// GitHub deployment_status events become deployment rows. GitHub sends one
// event per status of a deployment (queued, in_progress, success, ...), so
// the row, keyed by external_id "github:<deployment.id>", is created by the
// first event and updated by the later ones. Each delivery's
// X-GitHub-Delivery id is recorded in webhook_delivery in the same
// transaction, so a redelivery changes nothing.
//
// NOTE: deployment_status events name the commit (deployment.sha) but not
// its time, so GitHub deployments get no commit_at and no lead time.

export const GITHUB_DEPLOYMENT_STATES = [
  "queued",
  "pending",
  "in_progress",
  "success",
  "failure",
  "error",
  "inactive",
] as const;

export type GithubDeploymentState = (typeof GITHUB_DEPLOYMENT_STATES)[number];

/**
 * Vigil status of each GitHub state. inactive maps to null, which keeps the
 * stored status, because GitHub sets it on a deployment that a newer one
 * replaced.
 */
const STATUS_BY_STATE: Record<GithubDeploymentState, string | null> = {
  queued: "in_progress",
  pending: "in_progress",
  in_progress: "in_progress",
  success: "success",
  failure: "failure",
  error: "failure",
  inactive: null,
};

const FINAL_STATUSES = new Set(["success", "failure"]);
const COMMIT_SHA = /^[0-9a-fA-F]{7,64}$/;
const MAX_VERSION_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 2000;
const MAX_ENVIRONMENT_LENGTH = 255;

/**
 * Longest text field accepted from an event. It only bounds the input,
 * because each stored field is cut to its own length limit after parsing.
 */
const MAX_EVENT_TEXT_LENGTH = 65_536;

/**
 * A string PostgreSQL can store: text() rejects NUL and unpaired UTF-16
 * surrogates, which would fail the insert or turn into U+FFFD.
 */
const eventText = (min: number) => text(min, MAX_EVENT_TEXT_LENGTH);

const eventSchema = z.object({
  deployment_status: z.object({
    state: z.enum(GITHUB_DEPLOYMENT_STATES),
    environment: eventText(1).optional(),
    description: eventText(0).nullable().optional(),
    created_at: z.string(),
  }),
  deployment: z.object({
    id: z.number().int().positive(),
    sha: z.string(),
    ref: eventText(1),
    environment: eventText(1),
    description: eventText(0).nullable().optional(),
    payload: z.unknown().optional(),
    created_at: z.string(),
  }),
  repository: z.object({ name: z.string().min(1) }),
});

export type GithubDeploymentEvent = {
  /** "github:<deployment.id>", the row's external_id. */
  externalId: string;
  githubDeploymentId: number;
  state: GithubDeploymentState;
  /** Time of this status, epoch milliseconds. */
  statusAt: number;
  /** Time GitHub created the deployment, epoch milliseconds. */
  createdAt: number;
  version: string;
  environment: string;
  commitSha: string | null;
  description: string | null;
  repository: string;
};

function parseTime(
  value: string,
  field: string,
  limits: TimestampLimits,
): number {
  const result = checkTimestamp(value, limits);
  if (!result.ok) throw invalidField(field, `${field} ${result.message}`);
  return result.ms;
}

/**
 * Reads deployment.payload, which GitHub passes on as the deployment's
 * creator sent it: an object, a JSON string of one, or an empty string.
 * Returns null for anything that is not an object.
 */
export function payloadObject(payload: unknown): Record<string, unknown> | null {
  let value = payload;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return null;
  }
  return value as Record<string, unknown>;
}

/** Cuts to maxLength UTF-16 code units without splitting a surrogate pair. */
function cut(value: string, maxLength: number): string {
  if (value.length <= maxLength) return value;
  const last = value.charCodeAt(maxLength - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? maxLength - 1 : maxLength;
  return value.slice(0, end);
}

/**
 * Validates a deployment_status event body. The version is payload.version
 * when the deployment's payload has a non-empty string there, and else the
 * deployed ref. Throws a 400 ApiError naming the first invalid field.
 */
export function parseDeploymentStatusEvent(
  input: unknown,
  limits: TimestampLimits,
): GithubDeploymentEvent {
  const event = parseInput(eventSchema, input);
  const { deployment_status: status, deployment } = event;

  const payloadVersion = payloadObject(deployment.payload)?.version;
  if (typeof payloadVersion === "string") {
    const checked = eventText(0).safeParse(payloadVersion);
    if (!checked.success) {
      const field = "deployment.payload.version";
      throw invalidField(field, `${field} ${checked.error.issues[0]!.message}`);
    }
  }
  const version =
    typeof payloadVersion === "string" && payloadVersion.trim() !== ""
      ? payloadVersion.trim()
      : deployment.ref;
  const description =
    status.description?.trim() || deployment.description?.trim() || null;

  return {
    externalId: `github:${deployment.id}`,
    githubDeploymentId: deployment.id,
    state: status.state,
    statusAt: parseTime(
      status.created_at,
      "deployment_status.created_at",
      limits,
    ),
    createdAt: parseTime(deployment.created_at, "deployment.created_at", limits),
    version: cut(version, MAX_VERSION_LENGTH),
    environment: cut(
      status.environment ?? deployment.environment,
      MAX_ENVIRONMENT_LENGTH,
    ),
    commitSha: COMMIT_SHA.test(deployment.sha)
      ? deployment.sha.toLowerCase()
      : null,
    description:
      description === null ? null : cut(description, MAX_DESCRIPTION_LENGTH),
    repository: event.repository.name,
  };
}

/**
 * Picks the service slug: ?service= when given, else the repository name
 * as a slug ("Hello-World" becomes "hello-world"). Throws a 400 naming
 * repository.name when the name gives no slug.
 */
export function githubServiceSlug(
  fromQuery: string | null,
  event: GithubDeploymentEvent,
): string {
  if (fromQuery !== null) return fromQuery;
  const slug = slugify(event.repository);
  if (slug === null) {
    throw invalidField(
      "repository.name",
      `repository.name ${JSON.stringify(event.repository)} gives no service ` +
        "slug; add ?service=<slug> to the webhook URL",
    );
  }
  return slug;
}

/**
 * Computes the stored status after a new GitHub state. A late queued,
 * pending or in_progress event does not undo a final status (success or
 * failure), and inactive changes nothing.
 */
export function nextStatus(
  current: string | null,
  state: GithubDeploymentState,
): string | null {
  const mapped = STATUS_BY_STATE[state];
  if (mapped === null) return current;
  if (current !== null && FINAL_STATUSES.has(current) && !FINAL_STATUSES.has(mapped)) {
    return current;
  }
  return mapped;
}

export type GithubDeploymentResult =
  | { outcome: "duplicate_delivery" }
  | { outcome: "ignored"; reason: string }
  | {
      outcome: "created" | "updated" | "unchanged";
      deployment: {
        id: number;
        externalId: string;
        service: string;
        version: string;
        environment: string;
        status: string;
        deployedAt: string;
        commitSha: string | null;
        description: string | null;
      };
    };

type DeploymentRow = {
  id: number;
  version: string;
  environment: string;
  status: string;
  deployed_at: Date;
  commit_sha: string | null;
  description: string | null;
  /** Time of the GitHub status that set `status`, null before any. */
  status_at: Date | null;
};

const ROW_COLUMNS =
  "id, version, environment, status, deployed_at, commit_sha, description, status_at";

async function lockDeployment(
  db: pg.ClientBase,
  serviceId: number,
  externalId: string,
): Promise<DeploymentRow | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `SELECT ${ROW_COLUMNS} FROM deployment
      WHERE service_id = $1 AND external_id = $2 FOR UPDATE`,
    [serviceId, externalId],
  );
  return rows[0];
}

/**
 * Returns the deployed_at after a new state: the time of a success status,
 * because that is when the deployment happened. Other states keep the
 * current value, which starts as the time GitHub created the deployment.
 */
function deployedAtFor(
  event: GithubDeploymentEvent,
  current: DeploymentRow | undefined,
): Date {
  if (event.state === "success") return new Date(event.statusAt);
  return current?.deployed_at ?? new Date(event.createdAt);
}

/**
 * Stores one deployment_status event in one transaction: records the
 * delivery id, creates the service and the deployment row when needed, and
 * applies the new state. Returns "duplicate_delivery" and changes nothing
 * when the delivery id was recorded before.
 */
export async function storeDeploymentStatus(
  event: GithubDeploymentEvent,
  serviceSlug: string,
  deliveryId: string,
  log: Logger,
): Promise<GithubDeploymentResult> {
  const result = await withTransaction(
    getPool(),
    async (db): Promise<GithubDeploymentResult> => {
      const delivery = await db.query(
        `INSERT INTO webhook_delivery (id, event)
         VALUES ($1, 'deployment_status')
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [`github:${deliveryId}`],
      );
      if (delivery.rows.length === 0) return { outcome: "duplicate_delivery" };

      const service = await ensureService(db, serviceSlug);
      if (service.created) {
        log.info({ serviceId: service.id, slug: serviceSlug }, "created service");
      }

      let current = await lockDeployment(db, service.id, event.externalId);
      if (current === undefined && event.state === "inactive") {
        return {
          outcome: "ignored",
          reason:
            `deployment ${event.githubDeploymentId} is unknown and inactive ` +
            "says nothing about whether it succeeded",
        };
      }
      let created = false;
      if (current === undefined) {
        const { rows } = await db.query<DeploymentRow>(
          `INSERT INTO deployment (service_id, version, environment, status,
             deployed_at, commit_sha, description, external_id, status_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (service_id, external_id) DO NOTHING
           RETURNING ${ROW_COLUMNS}`,
          [
            service.id,
            event.version,
            event.environment,
            nextStatus(null, event.state),
            deployedAtFor(event, undefined),
            event.commitSha,
            event.description,
            event.externalId,
            new Date(event.statusAt),
          ],
        );
        created = rows[0] !== undefined;
        // Without a row, another delivery of this deployment committed it
        // first, so this state is applied to that row below.
        current = rows[0] ?? (await lockDeployment(db, service.id, event.externalId));
      }
      const row = current!;

      let outcome: "created" | "updated" | "unchanged" = "created";
      let stored = row;
      // GitHub does not promise to deliver statuses in order, and a
      // status older than the stored one is history, not news.
      const older =
        row.status_at !== null && event.statusAt < row.status_at.getTime();
      if (!created && older) {
        outcome = "unchanged";
      } else if (!created) {
        const status = nextStatus(row.status, event.state) ?? row.status;
        const statusAt =
          STATUS_BY_STATE[event.state] === null
            ? row.status_at
            : new Date(event.statusAt);
        const deployedAt = deployedAtFor(event, row);
        const { rows } = await db.query<DeploymentRow>(
          `UPDATE deployment
              SET status = $2, deployed_at = $3, environment = $4,
                  description = COALESCE($5, description), status_at = $6
            WHERE id = $1
           RETURNING ${ROW_COLUMNS}`,
          [
            row.id,
            status,
            deployedAt,
            event.environment,
            event.description,
            statusAt,
          ],
        );
        stored = rows[0]!;
        const changed =
          stored.status !== row.status ||
          stored.deployed_at.getTime() !== row.deployed_at.getTime() ||
          stored.environment !== row.environment ||
          stored.description !== row.description;
        outcome = changed ? "updated" : "unchanged";
      }

      return {
        outcome,
        deployment: {
          id: stored.id,
          externalId: event.externalId,
          service: serviceSlug,
          version: stored.version,
          environment: stored.environment,
          status: stored.status,
          deployedAt: stored.deployed_at.toISOString(),
          commitSha: stored.commit_sha,
          description: stored.description,
        },
      };
    },
  );

  log.info(
    {
      deliveryId,
      githubDeploymentId: event.githubDeploymentId,
      state: event.state,
      outcome: result.outcome,
      ...(result.outcome === "duplicate_delivery" || result.outcome === "ignored"
        ? {}
        : {
            deploymentId: result.deployment.id,
            status: result.deployment.status,
          }),
    },
    "stored GitHub deployment status",
  );
  return result;
}
