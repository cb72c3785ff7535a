import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import { formatFieldPath } from "@/lib/api/validation";
import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import type { ActorType } from "@/lib/generated/prisma/enums";
import { now } from "@/lib/clock";
import { getConfig } from "@/lib/config";
import type { Logger } from "@/lib/logger";
import { incidentUrl } from "@/lib/notifications/payload";
import { publicUrl } from "@/lib/notifications/settings";
import { describeSuppression, findIncidentSuppression } from "@/lib/oncall/suppression";
import { checkDestination, type ResolveHost } from "@/lib/runbooks/allowlist";
import { sendStepRequest, type StepResponse } from "@/lib/runbooks/step-request";
import {
  renderStep,
  runbookStepSchema,
  runbookStepsSchema,
  type RunbookStep,
  type TemplateValues,
} from "@/lib/runbooks/steps";

// Runs of runbook steps on incidents. A run is queued with a
// run-runbook-step job in the same transaction, so a crash loses neither
// or both. Each job makes one attempt: it checks the allowlist, sends the
// request, records the attempt and either finishes the run or queues the
// next attempt with exponential backoff.
//
// NOTE: a worker that stops after the peer received a request but before
// the attempt is recorded sends that attempt again when the job is retried
// (at-least-once), as notifications do.

export const TASK_RUN_RUNBOOK_STEP = "run-runbook-step";

/**
 * graphile-worker attempts of one job, used up only by database errors,
 * because the task schedules its own retries of a failed request.
 * NOTE: a run whose job fails this often stays queued or running, with the
 * failed job left in graphile_worker's jobs table.
 */
export const STEP_JOB_MAX_ATTEMPTS = 3;

export const STEP_RUN_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "refused",
  "suppressed",
] as const;

export type StepRunStatus = (typeof STEP_RUN_STATUSES)[number];

const FINAL_STATUSES: readonly StepRunStatus[] = ["succeeded", "failed", "refused", "suppressed"];

export type StepRunActor = { type: ActorType; id: number | null; name: string };

export type StepRunOptions = {
  /** Delay before the second attempt, in seconds; it doubles per attempt. */
  retryBaseSeconds: number;
  /** DNS resolver for the allowlist check; the system's by default. */
  resolve?: ResolveHost;
  /** Base URL of {{incident.url}}; VIGIL_PUBLIC_URL's value by default. */
  publicUrl?: string;
};

export const DEFAULT_RETRY_BASE_SECONDS = 5;

/** Maximum delay between two attempts, in seconds. */
export const MAX_RETRY_DELAY_SECONDS = 300;

/** Returns the delay after failed attempt `attempt` (1-based), in seconds. */
export function stepRetryDelaySeconds(attempt: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS);
}

/** Returns the job_key of a run's job, so that a run never has two pending jobs. */
export function stepRunJobKey(runId: number): string {
  return `runbook-step-run:${runId}`;
}

/** Adds the job of a run's next attempt, in the caller's transaction. */
export async function addStepRunJob(
  db: Queryable,
  runId: number,
  delaySeconds = 0,
): Promise<void> {
  await db.query(
    `SELECT graphile_worker.add_job($1::text, json_build_object('runId', $2::int),
       run_at := now() + make_interval(secs => $3::float8),
       job_key := $4::text, max_attempts := $5::int)`,
    [TASK_RUN_RUNBOOK_STEP, runId, delaySeconds, stepRunJobKey(runId), STEP_JOB_MAX_ATTEMPTS],
  );
}

export type StepRun = {
  id: number;
  incidentId: number;
  runbookId: number;
  runbookSlug: string;
  runbookTitle: string;
  runbookVersion: number | null;
  stepId: string;
  stepTitle: string;
  method: string;
  url: string;
  automatic: boolean;
  status: StepRunStatus;
  attempts: number;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number | null;
  actorType: ActorType;
  actorId: number | null;
  actorName: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  nextAttemptAt: Date | null;
};

type StepRunRow = {
  id: number;
  incident_id: number;
  runbook_id: number;
  runbook_slug: string;
  runbook_title: string;
  runbook_version: number | null;
  step_id: string;
  step: Record<string, unknown>;
  automatic: boolean;
  status: StepRunStatus;
  attempts: number;
  response_status: number | null;
  response_body: string | null;
  error: string | null;
  duration_ms: number | null;
  actor_type: ActorType;
  actor_id: number | null;
  actor_name: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  next_attempt_at: Date | null;
};

const STEP_RUN_SELECT = `
  SELECT run.id, run.incident_id, run.runbook_id, runbook.slug AS runbook_slug,
         runbook.title AS runbook_title, run.runbook_version, run.step_id, run.step,
         run.automatic, run.status, run.attempts, run.response_status,
         run.response_body, run.error, run.duration_ms, run.actor_type,
         run.actor_id, run.actor_name, run.created_at, run.started_at,
         run.finished_at, run.next_attempt_at
    FROM runbook_step_run run
    JOIN runbook ON runbook.id = run.runbook_id`;

function toStepRun(row: StepRunRow): StepRun {
  return {
    id: row.id,
    incidentId: row.incident_id,
    runbookId: row.runbook_id,
    runbookSlug: row.runbook_slug,
    runbookTitle: row.runbook_title,
    runbookVersion: row.runbook_version,
    stepId: row.step_id,
    stepTitle: String(row.step.title ?? row.step_id),
    method: String(row.step.method ?? ""),
    url: String(row.step.url ?? ""),
    automatic: row.automatic,
    status: row.status,
    attempts: row.attempts,
    responseStatus: row.response_status,
    responseBody: row.response_body,
    error: row.error,
    durationMs: row.duration_ms,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    nextAttemptAt: row.next_attempt_at,
  };
}

/** Lists the step runs of an incident, newest first. */
export async function listStepRuns(db: Queryable, incidentId: number): Promise<StepRun[]> {
  const { rows } = await db.query<StepRunRow>(
    `${STEP_RUN_SELECT} WHERE run.incident_id = $1 ORDER BY run.created_at DESC, run.id DESC`,
    [incidentId],
  );
  return rows.map(toStepRun);
}

/** Reads one step run, or null when none has that id. */
export async function findStepRun(db: Queryable, runId: number): Promise<StepRun | null> {
  const { rows } = await db.query<StepRunRow>(`${STEP_RUN_SELECT} WHERE run.id = $1`, [runId]);
  return rows[0] ? toStepRun(rows[0]) : null;
}

export type IncidentRunbookSteps = {
  runbookId: number;
  slug: string;
  title: string;
  version: number | null;
  automatic: boolean;
  steps: RunbookStep[];
  /** Validation error of the stored steps, or null when they are valid. */
  stepsError: string | null;
};

/**
 * Parses a runbook's stored steps. Steps are validated when a runbook is
 * saved, so an error here means a row written around that check.
 */
export function parseStoredSteps(raw: unknown): { steps: RunbookStep[]; error: string | null } {
  const result = runbookStepsSchema.safeParse(raw ?? []);
  if (result.success) return { steps: result.data, error: null };
  const issue = result.error.issues[0]!;
  return { steps: [], error: `steps${formatFieldPath(issue.path)} ${issue.message}` };
}

/** Lists the suggested runbooks of an incident that have steps, best match first. */
export async function listIncidentRunbookSteps(
  db: Queryable,
  incidentId: number,
): Promise<IncidentRunbookSteps[]> {
  const { rows } = await db.query<{
    runbook_id: number;
    slug: string;
    title: string;
    version: number | null;
    automatic: boolean;
    steps: unknown;
  }>(
    `SELECT runbook.id AS runbook_id, runbook.slug, runbook.title,
            runbook.current_version AS version, runbook.automatic, runbook.steps
       FROM incident_runbook suggestion
       JOIN runbook ON runbook.id = suggestion.runbook_id
      WHERE suggestion.incident_id = $1
        AND runbook.archived_at IS NULL
        AND jsonb_typeof(runbook.steps) = 'array'
        AND jsonb_array_length(runbook.steps) > 0
      ORDER BY suggestion.score DESC, runbook.slug`,
    [incidentId],
  );
  return rows.map((row) => {
    const parsed = parseStoredSteps(row.steps);
    return {
      runbookId: row.runbook_id,
      slug: row.slug,
      title: row.title,
      version: row.version,
      automatic: row.automatic,
      steps: parsed.steps,
      stepsError: parsed.error,
    };
  });
}

export type StepRunRequest = {
  incidentId: number;
  runbookId: number;
  stepId: string;
  actor: StepRunActor;
  /** For an API token bound to a service: the incident must be of that service. */
  serviceId?: number | null;
};

function stepLabel(runbookTitle: string, step: Pick<RunbookStep, "title" | "method" | "url">): string {
  return `step "${step.title}" of runbook "${runbookTitle}" (${step.method} ${step.url})`;
}

/**
 * Queues a responder's run of one step of one of the incident's suggested
 * runbooks, with its job and a timeline event, in one transaction on
 * `client` (a client outside any transaction). Throws an ApiError for an
 * unknown incident, runbook or step (404), a resolved incident or a run of
 * the same step that is still queued or running (409).
 */
export async function requestStepRun(
  client: pg.ClientBase,
  request: StepRunRequest,
): Promise<StepRun> {
  await client.query("BEGIN");
  try {
    const run = await insertManualRun(client, request);
    await client.query("COMMIT");
    return run;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}

async function insertManualRun(client: pg.ClientBase, request: StepRunRequest): Promise<StepRun> {
  const { incidentId, runbookId, stepId, actor } = request;
  // FOR SHARE keeps the incident from being resolved or deleted until the
  // run is queued.
  const incidents = await client.query<{ status: string; service_id: number }>(
    "SELECT status, service_id FROM incident WHERE id = $1 FOR SHARE",
    [incidentId],
  );
  const incident = incidents.rows[0];
  if (!incident) {
    throw new ApiError(404, "not_found", `no incident with id ${incidentId}`, { field: "id" });
  }
  if (request.serviceId != null && request.serviceId !== incident.service_id) {
    throw new ApiError(
      403,
      "forbidden",
      `this API token is bound to another service than incident ${incidentId}`,
      { field: "id", logContext: { tokenId: actor.id } },
    );
  }
  if (incident.status === "resolved") {
    throw new ApiError(
      409,
      "incident_resolved",
      `incident ${incidentId} is resolved; reopen it before running runbook steps`,
      { field: "id" },
    );
  }

  const runbooks = await client.query<{
    title: string;
    version: number | null;
    steps: unknown;
    archived_at: Date | null;
  }>(
    `SELECT runbook.title, runbook.current_version AS version, runbook.steps, runbook.archived_at
       FROM incident_runbook suggestion
       JOIN runbook ON runbook.id = suggestion.runbook_id
      WHERE suggestion.incident_id = $1 AND suggestion.runbook_id = $2`,
    [incidentId, runbookId],
  );
  const runbook = runbooks.rows[0];
  if (!runbook) {
    throw new ApiError(
      404,
      "not_found",
      `runbook ${runbookId} is not among the suggested runbooks of incident ${incidentId}`,
      { field: "runbookId" },
    );
  }
  if (runbook.archived_at !== null) {
    throw new ApiError(409, "runbook_archived", `runbook ${runbookId} is archived; restore it before running its steps`, {
      field: "runbookId",
    });
  }
  const parsed = parseStoredSteps(runbook.steps);
  if (parsed.error !== null) {
    throw new ApiError(409, "invalid_runbook", `runbook ${runbookId} has invalid steps: ${parsed.error}; fix the runbook`, {
      field: "runbookId",
    });
  }
  const step = parsed.steps.find((candidate) => candidate.id === stepId);
  if (!step) {
    const known = parsed.steps.map((candidate) => candidate.id).join(", ") || "none";
    throw new ApiError(
      404,
      "not_found",
      `runbook ${runbookId} has no step "${stepId}"; its steps are: ${known}`,
      { field: "stepId" },
    );
  }

  const inserted = await client.query<{ id: number }>(
    `INSERT INTO runbook_step_run
       (incident_id, runbook_id, runbook_version, step_id, step, automatic,
        actor_type, actor_id, actor_name)
     VALUES ($1, $2, $3, $4, $5::jsonb, false, $6, $7, $8)
     ON CONFLICT (incident_id, runbook_id, step_id)
       WHERE NOT automatic AND status IN ('queued', 'running')
     DO NOTHING
     RETURNING id`,
    [incidentId, runbookId, runbook.version, stepId, JSON.stringify(step), actor.type, actor.id, actor.name],
  );
  const runId = inserted.rows[0]?.id;
  if (runId === undefined) {
    const { rows } = await client.query<{ id: number; status: string; actor_name: string }>(
      `SELECT id, status, actor_name FROM runbook_step_run
        WHERE incident_id = $1 AND runbook_id = $2 AND step_id = $3
          AND NOT automatic AND status IN ('queued', 'running')`,
      [incidentId, runbookId, stepId],
    );
    const existing = rows[0];
    throw new ApiError(
      409,
      "step_run_in_progress",
      existing
        ? `step "${stepId}" is already ${existing.status} on incident ${incidentId} (run ${existing.id}, started by ${existing.actor_name}); wait for it to finish`
        : `step "${stepId}" is already running on incident ${incidentId}; wait for it to finish`,
      { field: "stepId", logContext: { existingRunId: existing?.id } },
    );
  }

  await addStepRunJob(client, runId);
  await addIncidentEvent(client, {
    incidentId,
    kind: "runbook_step_queued",
    actorType: actor.type,
    actorId: actor.id,
    actorName: actor.name,
    message: `${actor.name} ran ${stepLabel(runbook.title, step)}`,
    data: { runId, runbookId, runbookVersion: runbook.version, stepId, automatic: false },
  });
  return (await findStepRun(client, runId))!;
}

type AttemptContext = {
  run: StepRunRow;
  incident: {
    id: number;
    title: string;
    severity: string;
    status: string;
    service_id: number;
    service_slug: string;
    service_name: string;
  };
};

async function loadAttemptContext(db: Queryable, runId: number): Promise<AttemptContext | null> {
  const { rows } = await db.query<StepRunRow>(`${STEP_RUN_SELECT} WHERE run.id = $1`, [runId]);
  const run = rows[0];
  if (!run) return null;
  const incidents = await db.query<AttemptContext["incident"]>(
    `SELECT incident.id, incident.title, incident.severity, incident.status,
            incident.service_id, service.slug AS service_slug, service.name AS service_name
       FROM incident JOIN service ON service.id = incident.service_id
      WHERE incident.id = $1`,
    [run.incident_id],
  );
  return { run, incident: incidents.rows[0]! };
}

async function inTransaction<T>(db: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await db.query("BEGIN");
  try {
    const result = await fn();
    await db.query("COMMIT");
    return result;
  } catch (error) {
    await db.query("ROLLBACK");
    throw error;
  }
}

const WORKER_ACTOR = { actorType: "worker", actorName: "runbook step runner" } as const;

/**
 * Ends a run without sending anything (refused or suppressed), with a
 * timeline event. The status check makes a second job that reached the
 * same point change nothing.
 */
async function finishWithoutSending(
  db: pg.ClientBase,
  context: AttemptContext,
  status: "refused" | "suppressed",
  reason: string,
  data: Record<string, unknown>,
): Promise<boolean> {
  return inTransaction(db, async () => {
    const { rowCount } = await db.query(
      `UPDATE runbook_step_run
          SET status = $2::"RunbookStepRunStatus", error = $3, next_attempt_at = NULL,
              finished_at = now(), updated_at = now()
        WHERE id = $1 AND status IN ('queued', 'running')`,
      [context.run.id, status, reason],
    );
    if (rowCount === 0) return false;
    const label = stepLabel(context.run.runbook_title, context.run.step as unknown as RunbookStep);
    await addIncidentEvent(db, {
      incidentId: context.run.incident_id,
      kind: status === "refused" ? "runbook_step_refused" : "runbook_step_suppressed",
      ...WORKER_ACTOR,
      message:
        status === "refused"
          ? `Did not run ${label}: ${reason}`
          : `Automatic ${label} not run: suppressed by ${reason}`,
      data: {
        runId: context.run.id,
        runbookId: context.run.runbook_id,
        stepId: context.run.step_id,
        automatic: context.run.automatic,
        reason,
        ...data,
      },
    });
    return true;
  });
}

export type StepAttemptOutcome =
  | { outcome: "succeeded" | "failed"; attempt: number; status: number | null }
  | { outcome: "retrying"; attempt: number; retryInSeconds: number }
  | { outcome: "refused" | "suppressed"; reason: string }
  | { outcome: "skipped"; reason: string };

function excerpt(body: string | null, max = 200): string {
  if (body === null) return "";
  const text = body.replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/**
 * Runs the next attempt of step run `runId` on `db`, a client outside any
 * transaction. Throws only for database errors, which let graphile-worker
 * retry the job.
 */
export async function runStepAttempt(
  db: pg.ClientBase,
  runId: number,
  options: StepRunOptions,
  log: Logger,
): Promise<StepAttemptOutcome> {
  const context = await loadAttemptContext(db, runId);
  if (!context) {
    log.warn({ runId }, "runbook step run not found, its incident or runbook was deleted");
    return { outcome: "skipped", reason: "not found" };
  }
  const { run, incident } = context;
  const logContext = {
    runId,
    incidentId: run.incident_id,
    runbookId: run.runbook_id,
    stepId: run.step_id,
    automatic: run.automatic,
  };
  if (FINAL_STATUSES.includes(run.status)) {
    log.info({ ...logContext, status: run.status }, "runbook step run already finished, not sending again");
    return { outcome: "skipped", reason: `already ${run.status}` };
  }

  if (run.automatic) {
    // lib/clock's time, which tests of maintenance windows set. Silences
    // match the labels that notifications of this incident are matched on.
    const suppression = await findIncidentSuppression(db, incident.id, now());
    if (suppression) {
      const reason = describeSuppression(suppression);
      const finished = await finishWithoutSending(db, context, "suppressed", reason, {
        suppression: { kind: suppression.kind, id: suppression.id, name: suppression.name },
      });
      log.info({ ...logContext, suppression }, "automatic runbook step suppressed");
      return finished ? { outcome: "suppressed", reason } : { outcome: "skipped", reason: "finished by another job" };
    }
  }

  const parsedStep = runbookStepSchema.safeParse(run.step);
  if (!parsedStep.success) {
    const issue = parsedStep.error.issues[0]!;
    const reason = `the stored step is invalid: ${issue.path.join(".")} ${issue.message}`;
    await finishWithoutSending(db, context, "refused", reason, {});
    log.error({ ...logContext, reason }, "runbook step rejected: the stored step is invalid");
    return { outcome: "refused", reason };
  }
  const step = parsedStep.data;
  const values: TemplateValues = {
    "incident.id": String(incident.id),
    "incident.title": incident.title,
    "incident.severity": incident.severity,
    "incident.status": incident.status,
    "incident.url": incidentUrl(options.publicUrl ?? publicUrl(getConfig()), incident.id),
    "service.slug": incident.service_slug,
    "service.name": incident.service_name,
    "runbook.slug": run.runbook_slug,
    "step.id": step.id,
  };
  const rendered = renderStep(step, values);

  const destination = await checkDestination(db, rendered.url, options.resolve);
  if (destination.allowed === false) {
    const finished = await finishWithoutSending(db, context, "refused", destination.reason, {
      url: step.url,
    });
    log.warn({ ...logContext, reason: destination.reason }, "runbook step rejected: destination not on the allowlist");
    return finished
      ? { outcome: "refused", reason: destination.reason }
      : { outcome: "skipped", reason: "finished by another job" };
  }

  await db.query(
    `UPDATE runbook_step_run
        SET status = 'running', started_at = COALESCE(started_at, now()), updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'running')`,
    [runId],
  );

  const attempt = run.attempts + 1;
  let response: StepResponse;
  if (destination.allowed === "unresolved") {
    response = {
      succeeded: false,
      retryable: true,
      status: null,
      body: null,
      error: destination.reason,
      durationMs: 0,
    };
  } else {
    response = await sendStepRequest(rendered, destination.addresses);
  }

  const maxAttempts = step.retries + 1;
  const final = response.succeeded || !response.retryable || attempt >= maxAttempts;
  const retryInSeconds = final ? 0 : stepRetryDelaySeconds(attempt, options.retryBaseSeconds);
  let status: "succeeded" | "failed" | "running" = "running";
  if (response.succeeded) status = "succeeded";
  else if (final) status = "failed";

  await inTransaction(db, async () => {
    // The unique (run_id, attempt) index rejects a second job that raced
    // this one to the same attempt, and rolls its changes back.
    await db.query(
      `INSERT INTO runbook_step_run_attempt
         (run_id, attempt, succeeded, response_status, response_body, error, duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [runId, attempt, response.succeeded, response.status, response.body, response.error, response.durationMs],
    );
    await db.query(
      `UPDATE runbook_step_run
          SET status = $2::"RunbookStepRunStatus", attempts = $3, response_status = $4,
              response_body = $5, error = $6, duration_ms = $7,
              next_attempt_at = CASE WHEN $8::float8 > 0
                THEN now() + make_interval(secs => $8::float8) END,
              finished_at = CASE WHEN $2::"RunbookStepRunStatus" IN ('succeeded', 'failed') THEN now() END,
              updated_at = now()
        WHERE id = $1`,
      [runId, status, attempt, response.status, response.body, response.error, response.durationMs, retryInSeconds],
    );
    if (!final) await addStepRunJob(db, runId, retryInSeconds);
    if (final) {
      const label = stepLabel(run.runbook_title, step);
      const statusText = response.status !== null ? `HTTP ${response.status}` : "no response";
      const body = excerpt(response.body);
      const tries = attempt === 1 ? "1 attempt" : `${attempt} attempts`;
      await addIncidentEvent(db, {
        incidentId: run.incident_id,
        kind: response.succeeded ? "runbook_step_succeeded" : "runbook_step_failed",
        ...WORKER_ACTOR,
        message: response.succeeded
          ? `${run.automatic ? "Automatic " : ""}${label} succeeded with ${statusText} after ${tries}${body ? `: ${body}` : ""}`
          : `${run.automatic ? "Automatic " : ""}${label} failed after ${tries}: ${response.error}${body ? `; response: ${body}` : ""}`,
        data: {
          runId,
          runbookId: run.runbook_id,
          runbookVersion: run.runbook_version,
          stepId: run.step_id,
          automatic: run.automatic,
          requestedBy: run.actor_name,
          attempts: attempt,
          responseStatus: response.status,
          responseExcerpt: excerpt(response.body, 1000),
          error: response.error,
          durationMs: response.durationMs,
          allowedBy: destination.allowed === true ? destination.entry : null,
        },
      });
    }
  });

  const fields = {
    ...logContext,
    attempt,
    durationMs: response.durationMs,
    responseStatus: response.status,
  };
  if (response.succeeded) {
    log.info(fields, "runbook step succeeded");
    return { outcome: "succeeded", attempt, status: response.status };
  }
  if (!final) {
    log.warn({ ...fields, error: response.error, retryInSeconds }, "runbook step attempt failed, retrying later");
    return { outcome: "retrying", attempt, retryInSeconds };
  }
  log.error({ ...fields, error: response.error }, "runbook step failed, no attempts left");
  return { outcome: "failed", attempt, status: response.status };
}

export type StepRunAttempt = {
  attempt: number;
  succeeded: boolean;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
  createdAt: string;
};

/** Lists the attempts of one run, oldest first. */
export async function listStepRunAttempts(db: Queryable, runId: number): Promise<StepRunAttempt[]> {
  const { rows } = await db.query<{
    attempt: number;
    succeeded: boolean;
    response_status: number | null;
    response_body: string | null;
    error: string | null;
    duration_ms: number;
    created_at: Date;
  }>(
    `SELECT attempt, succeeded, response_status, response_body, error, duration_ms, created_at
       FROM runbook_step_run_attempt WHERE run_id = $1 ORDER BY attempt`,
    [runId],
  );
  return rows.map((row) => ({
    attempt: row.attempt,
    succeeded: row.succeeded,
    responseStatus: row.response_status,
    responseBody: row.response_body,
    error: row.error,
    durationMs: row.duration_ms,
    createdAt: row.created_at.toISOString(),
  }));
}
