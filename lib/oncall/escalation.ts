import type pg from "pg";

import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import type { Logger } from "@/lib/logger";
import {
  deliveryJobKey,
  NOTIFY_JOB_MAX_ATTEMPTS,
  TASK_NOTIFY_INCIDENT,
} from "@/lib/notifications/enqueue";
import { whoIsOnCall } from "@/lib/oncall/rotation";
import { loadSchedule } from "@/lib/oncall/schedules";
import {
  describeSuppression,
  findIncidentSuppression,
  type Suppression,
} from "@/lib/oncall/suppression";

// Escalation of an unacknowledged incident through its service's policy.
//
// Each incident with a policy has one incident_escalation row naming the
// level due next and when. The escalate-incident job, keyed per incident,
// runs at that time and calls runEscalation, which locks the incident row
// (FOR SHARE) and then the escalation row. Acknowledge, resolve and reopen
// (lib/incidents/actions.ts) and the ingest paths take the same two locks in
// the same order, so they wait for each other instead of deadlocking. In one
// transaction it notifies the level and schedules the job for the next one.
// Each person or channel gets one notification delivery, which the
// notify-incident jobs send with their retries. The unique
// (incident_id, cycle, level) row of escalation_step makes a level fire at
// most once, even when two workers run the job. A crash before the commit
// notifies nobody, and the job runs again.

export const TASK_ESCALATE_INCIDENT = "escalate-incident";

/**
 * graphile-worker attempts of one escalate-incident job; only database
 * errors use them. An escalation whose job failed this often, or whose job
 * is lost, is scheduled again by rescheduleLostEscalations.
 */
export const ESCALATE_JOB_MAX_ATTEMPTS = 10;

const ESCALATION_ACTOR = { actorType: "worker" as const, actorName: "escalation" };

/** Returns the job_key of an incident's escalation job, so it has one pending job at most. */
export function escalationJobKey(incidentId: number): string {
  return `escalate-incident:${incidentId}`;
}

/** Adds (or moves) the escalation job of an incident to run at `runAt`. */
export async function scheduleEscalationJob(
  db: Queryable,
  incidentId: number,
  runAt: Date,
): Promise<void> {
  await db.query(
    `SELECT graphile_worker.add_job($1::text, json_build_object('incidentId', $2::int),
       run_at := $3::timestamptz, job_key := $4::text, max_attempts := $5::int)`,
    [TASK_ESCALATE_INCIDENT, incidentId, runAt, escalationJobKey(incidentId), ESCALATE_JOB_MAX_ATTEMPTS],
  );
}

/**
 * Starts escalating an incident whose service has a policy with levels:
 * level 1 is due at `at`. Restarts an escalation that stopped or completed
 * (a reopened incident) with the next cycle number. Must run in the
 * transaction that opens the incident. Returns whether it started.
 */
export async function startEscalation(
  db: Queryable,
  incidentId: number,
  at: Date,
): Promise<boolean> {
  const { rows } = await db.query(
    `WITH target AS (
       SELECT i.id, p.id AS policy_id, p.repeat_count,
              (SELECT min(l.position) FROM escalation_level l WHERE l.policy_id = p.id) AS first_level
         FROM incident i JOIN escalation_policy p ON p.service_id = i.service_id
        WHERE i.id = $1 AND i.status = 'triggered')
     INSERT INTO incident_escalation
       (incident_id, policy_id, status, cycle, repeats_left, next_level, next_at)
     SELECT id, policy_id, 'active', 1, repeat_count, first_level, $2
       FROM target WHERE first_level IS NOT NULL
     ON CONFLICT (incident_id) DO UPDATE
        SET policy_id = EXCLUDED.policy_id, status = 'active',
            cycle = incident_escalation.cycle + 1, repeats_left = EXCLUDED.repeats_left,
            next_level = EXCLUDED.next_level, next_at = EXCLUDED.next_at,
            stop_reason = NULL, updated_at = now()
      WHERE incident_escalation.status <> 'active'
     RETURNING incident_id`,
    [incidentId, at],
  );
  if (rows.length === 0) return false;
  await scheduleEscalationJob(db, incidentId, at);
  return true;
}

/**
 * Stops an incident's escalation because it was acknowledged or resolved,
 * with a timeline event. Returns whether an escalation was running.
 */
export async function stopEscalation(
  db: Queryable,
  incidentId: number,
  reason: "acknowledged" | "resolved",
): Promise<boolean> {
  const { rows } = await db.query<{ next_level: number }>(
    `UPDATE incident_escalation
        SET status = 'stopped', stop_reason = $2, updated_at = now()
      WHERE incident_id = $1 AND status = 'active'
      RETURNING next_level`,
    [incidentId, reason],
  );
  if (rows.length === 0) return false;
  await addIncidentEvent(db, {
    incidentId,
    kind: "escalation_stopped",
    ...ESCALATION_ACTOR,
    message: `Escalation stopped: the incident was ${reason} before level ${rows[0]!.next_level} was notified`,
    data: { reason, nextLevel: rows[0]!.next_level },
  });
  return true;
}

type EscalationRow = {
  incident_id: number;
  policy_id: number;
  status: "active" | "stopped" | "completed";
  cycle: number;
  repeats_left: number;
  next_level: number;
  next_at: Date;
  incident_status: "triggered" | "acknowledged" | "resolved";
  page_channel_id: number | null;
  policy_name: string;
  policy_repeat_count: number;
};

type LevelRow = {
  position: number;
  delay_minutes: number;
  targets: Array<{
    kind: "schedule" | "user" | "channel";
    schedule_id: number | null;
    user_id: number | null;
    user_name: string | null;
    user_email: string | null;
    channel_id: number | null;
    channel_name: string | null;
    channel_type: string | null;
  }>;
};

/** A person or channel that a level notifies, as stored in escalation_step.targets. */
export type PagedTarget =
  | { kind: "person"; userId: number; name: string; email: string; via: string | null }
  | { kind: "channel"; channelId: number; name: string; channelType: string };

export type EscalationOutcome =
  | { outcome: "inactive" }
  | { outcome: "stopped"; reason: string }
  | { outcome: "waiting"; nextAt: Date }
  | { outcome: "suppressed"; suppression: Suppression }
  | { outcome: "escalated"; level: number; cycle: number; targets: PagedTarget[]; nextAt: Date | null };

async function loadLevels(db: Queryable, policyId: number): Promise<LevelRow[]> {
  const { rows } = await db.query<LevelRow>(
    `SELECT l.position, l.delay_minutes,
            COALESCE((
              SELECT json_agg(json_build_object(
                       'kind', t.kind, 'schedule_id', t.schedule_id,
                       'user_id', t.user_id, 'user_name', u.name, 'user_email', u.email,
                       'channel_id', t.channel_id, 'channel_name', c.name,
                       'channel_type', c.type)
                     ORDER BY t.id)
                FROM escalation_target t
                LEFT JOIN user_account u ON u.id = t.user_id
                LEFT JOIN notification_channel c ON c.id = t.channel_id
               WHERE t.level_id = l.id), '[]'::json) AS targets
       FROM escalation_level l
      WHERE l.policy_id = $1
      ORDER BY l.position`,
    [policyId],
  );
  return rows;
}

/**
 * Resolves a level's targets at `at`: a schedule's on-call user, users and
 * channels, each person once. Returns the schedules without anyone on call.
 */
async function resolveTargets(
  db: Queryable,
  level: LevelRow,
  at: Date,
): Promise<{ targets: PagedTarget[]; nobodyOnCall: string[] }> {
  const targets: PagedTarget[] = [];
  const nobodyOnCall: string[] = [];
  const seenUsers = new Set<number>();
  for (const target of level.targets) {
    if (target.kind === "channel") {
      targets.push({
        kind: "channel",
        channelId: target.channel_id!,
        name: target.channel_name ?? "",
        channelType: target.channel_type ?? "",
      });
      continue;
    }
    if (target.kind === "user") {
      if (seenUsers.has(target.user_id!)) continue;
      seenUsers.add(target.user_id!);
      targets.push({
        kind: "person",
        userId: target.user_id!,
        name: target.user_name ?? "",
        email: target.user_email ?? "",
        via: null,
      });
      continue;
    }
    const schedule = await loadSchedule(db, target.schedule_id!, at);
    if (!schedule) continue;
    const shift = whoIsOnCall(schedule, at);
    if (!shift) {
      nobodyOnCall.push(schedule.name);
      continue;
    }
    if (seenUsers.has(shift.userId)) continue;
    seenUsers.add(shift.userId);
    targets.push({ kind: "person", userId: shift.userId, name: shift.name, email: shift.email, via: schedule.name });
  }
  return { targets, nobodyOnCall };
}

/** Returns the email channel that pages people under a policy, enabled or not. */
async function pagingChannel(
  db: Queryable,
  policyChannelId: number | null,
): Promise<{ id: number; name: string } | null> {
  const { rows } = await db.query<{ id: number; name: string }>(
    `SELECT c.id, c.name FROM notification_channel c
      WHERE c.type = 'email'
        AND c.id = COALESCE($1::int, (SELECT paging_channel_id FROM oncall_setting WHERE id = 1))`,
    [policyChannelId],
  );
  return rows[0] ?? null;
}

/** Adds one escalation delivery and its notify-incident job; nothing when it exists. */
async function addPageDelivery(
  db: Queryable,
  page: {
    channelId: number;
    incidentId: number;
    stepId: number;
    level: number;
    pageKey: string;
    recipient: { userId: number; name: string; email: string } | null;
  },
): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO notification_delivery
       (channel_id, incident_id, event, page_key, escalation_step_id, escalation_level,
        recipient_user_id, recipient_name, recipient_email)
     VALUES ($1, $2, 'escalation', $3, $4, $5, $6, $7, $8)
     ON CONFLICT (incident_id, event, channel_id, page_key) DO NOTHING
     RETURNING id`,
    [
      page.channelId,
      page.incidentId,
      page.pageKey,
      page.stepId,
      page.level,
      page.recipient?.userId ?? null,
      page.recipient?.name ?? null,
      page.recipient?.email ?? null,
    ],
  );
  const deliveryId = rows[0]?.id;
  if (deliveryId === undefined) return null;
  await db.query(
    `SELECT graphile_worker.add_job($1::text, json_build_object('deliveryId', $2::int),
       job_key := $3::text, max_attempts := $4::int)`,
    [TASK_NOTIFY_INCIDENT, deliveryId, deliveryJobKey(deliveryId), NOTIFY_JOB_MAX_ATTEMPTS],
  );
  return deliveryId;
}

function describeTarget(target: PagedTarget): string {
  if (target.kind === "channel") return `${target.channelType} channel ${target.name}`;
  return target.via ? `${target.name} (${target.via} schedule)` : target.name;
}

async function recordSuppression(
  db: Queryable,
  row: EscalationRow,
  suppression: Suppression,
): Promise<void> {
  // The job may run more than once during one suppression; one event is enough.
  const { rows } = await db.query(
    `SELECT 1 FROM incident_event
      WHERE incident_id = $1 AND kind = 'escalation_suppressed'
        AND data @> $2::jsonb
      LIMIT 1`,
    [
      row.incident_id,
      JSON.stringify({ suppressionKind: suppression.kind, suppressionId: suppression.id, cycle: row.cycle, level: row.next_level }),
    ],
  );
  if (rows.length > 0) return;
  await addIncidentEvent(db, {
    incidentId: row.incident_id,
    kind: "escalation_suppressed",
    ...ESCALATION_ACTOR,
    message: `Escalation to level ${row.next_level} suppressed: ${describeSuppression(suppression)}`,
    data: {
      suppressionKind: suppression.kind,
      suppressionId: suppression.id,
      suppressionName: suppression.name,
      endsAt: suppression.endsAt.toISOString(),
      cycle: row.cycle,
      level: row.next_level,
    },
  });
}

async function inTransaction<T>(db: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await db.query("BEGIN");
  try {
    const result = await work();
    await db.query("COMMIT");
    return result;
  } catch (error) {
    await db.query("ROLLBACK");
    throw error;
  }
}

/**
 * Advances an incident's escalation at `now`. It stops when the incident is
 * no longer triggered, waits when the next level is not due, and defers
 * while a maintenance window or silence is active. Otherwise it notifies
 * the level and schedules the next one. `db` must be a client outside any
 * transaction. Throws only for database errors.
 */
export async function runEscalation(
  db: pg.ClientBase,
  incidentId: number,
  now: Date,
  log: Logger,
): Promise<EscalationOutcome> {
  const outcome = await inTransaction(db, () => advance(db, incidentId, now));
  const fields = { incidentId, ...outcome };
  if (outcome.outcome === "escalated") log.info(fields, "escalated incident");
  else if (outcome.outcome === "suppressed") log.info(fields, "escalation suppressed");
  else log.debug(fields, "escalation not due");
  return outcome;
}

async function advance(db: pg.ClientBase, incidentId: number, now: Date): Promise<EscalationOutcome> {
  // The incident row first: locking the escalation row first deadlocked
  // with a resolve or reopen that held the incident row and waited for the
  // escalation row. FOR SHARE lets two workers of one incident proceed to
  // the escalation row lock, where one waits for the other.
  await db.query("SELECT 1 FROM incident WHERE id = $1 FOR SHARE", [incidentId]);
  const { rows } = await db.query<EscalationRow>(
    `SELECT e.incident_id, e.policy_id, e.status, e.cycle, e.repeats_left, e.next_level,
            e.next_at, i.status AS incident_status, p.page_channel_id, p.name AS policy_name,
            p.repeat_count AS policy_repeat_count
       FROM incident_escalation e
       JOIN incident i ON i.id = e.incident_id
       JOIN escalation_policy p ON p.id = e.policy_id
      WHERE e.incident_id = $1
        FOR UPDATE OF e`,
    [incidentId],
  );
  const row = rows[0];
  if (!row || row.status !== "active") return { outcome: "inactive" };

  if (row.incident_status !== "triggered") {
    await stopEscalation(db, incidentId, row.incident_status);
    return { outcome: "stopped", reason: row.incident_status };
  }
  if (row.next_at > now) {
    // A job that ran early, such as one added before the policy changed.
    await scheduleEscalationJob(db, incidentId, row.next_at);
    return { outcome: "waiting", nextAt: row.next_at };
  }

  const suppression = await findIncidentSuppression(db, incidentId, now);
  if (suppression) {
    await recordSuppression(db, row, suppression);
    await scheduleEscalationJob(db, incidentId, suppression.endsAt);
    return { outcome: "suppressed", suppression };
  }

  const levels = await loadLevels(db, row.policy_id);
  // The level due, or the next one when an edit of the policy removed it.
  const level = levels.find((candidate) => candidate.position >= row.next_level);
  if (!level) {
    const nextAt = await finishCycle(db, row, levels, now, 0);
    return nextAt === null ? { outcome: "inactive" } : { outcome: "waiting", nextAt };
  }
  return notifyLevel(db, row, levels, level, now);
}

async function notifyLevel(
  db: Queryable,
  row: EscalationRow,
  levels: LevelRow[],
  level: LevelRow,
  now: Date,
): Promise<EscalationOutcome> {
  const { targets, nobodyOnCall } = await resolveTargets(db, level, now);
  const { rows: steps } = await db.query<{ id: number }>(
    `INSERT INTO escalation_step (incident_id, cycle, level, fired_at, targets)
     VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (incident_id, cycle, level) DO NOTHING
     RETURNING id`,
    [row.incident_id, row.cycle, level.position, now, JSON.stringify(targets)],
  );
  const stepId = steps[0]?.id;
  // Under the row lock a level fires once; the unique row is the backstop.
  if (stepId !== undefined) {
    await sendPages(db, row, level.position, stepId, targets, nobodyOnCall);
  }

  const nextAt = await finishLevel(db, row, levels, level, now);
  return { outcome: "escalated", level: level.position, cycle: row.cycle, targets, nextAt };
}

async function sendPages(
  db: Queryable,
  row: EscalationRow,
  level: number,
  stepId: number,
  targets: PagedTarget[],
  nobodyOnCall: string[],
): Promise<void> {
  const channel = await pagingChannel(db, row.page_channel_id);
  const unpaged: string[] = [];
  for (const target of targets) {
    if (target.kind === "channel") {
      await addPageDelivery(db, {
        channelId: target.channelId,
        incidentId: row.incident_id,
        stepId,
        level,
        pageKey: `cycle ${row.cycle} level ${level} channel`,
        recipient: null,
      });
    } else if (channel) {
      await addPageDelivery(db, {
        channelId: channel.id,
        incidentId: row.incident_id,
        stepId,
        level,
        pageKey: `cycle ${row.cycle} level ${level} user ${target.userId}`,
        recipient: target,
      });
    } else {
      unpaged.push(target.name);
    }
  }

  // A cycle also starts when the incident is reopened, so the cycle number
  // is not the repeat number. repeats_left starts at the policy's
  // repeat_count and counts down with each repeat.
  // NOTE: an edit of the policy's repeatCount during an escalation shifts
  // this number until the escalation restarts.
  const repeat = row.policy_repeat_count - row.repeats_left;
  const cycleText = row.policy_repeat_count > 0 && repeat > 0 ? ` (repeat ${repeat})` : "";
  const described = targets.map(describeTarget);
  const empty = nobodyOnCall.map((name) => `nobody on call in ${name}`);
  await addIncidentEvent(db, {
    incidentId: row.incident_id,
    kind: "escalated",
    ...ESCALATION_ACTOR,
    message: `Escalated to level ${level}${cycleText}: ${[...described, ...empty].join(", ") || "no targets"}`,
    data: { policyId: row.policy_id, policyName: row.policy_name, cycle: row.cycle, level, targets, nobodyOnCall },
  });
  if (unpaged.length > 0) {
    await addIncidentEvent(db, {
      incidentId: row.incident_id,
      kind: "escalation_failed",
      ...ESCALATION_ACTOR,
      message: `Level ${level} could not page ${unpaged.join(", ")}: no email channel is set for paging; choose one in the policy ${row.policy_name} or in the on-call settings`,
      data: { cycle: row.cycle, level, unpaged },
    });
  }
}

/** Moves the escalation past `level`; returns when the next level is due, or null. */
async function finishLevel(
  db: Queryable,
  row: EscalationRow,
  levels: LevelRow[],
  level: LevelRow,
  now: Date,
): Promise<Date | null> {
  const following = levels.find((candidate) => candidate.position > level.position);
  const nextAt = new Date(now.getTime() + level.delay_minutes * 60_000);
  if (following) {
    await db.query(
      `UPDATE incident_escalation SET next_level = $2, next_at = $3, updated_at = now()
        WHERE incident_id = $1`,
      [row.incident_id, following.position, nextAt],
    );
    await scheduleEscalationJob(db, row.incident_id, nextAt);
    return nextAt;
  }
  return finishCycle(db, row, levels, now, level.delay_minutes);
}

/** Repeats the policy from its first level, or completes the escalation. */
async function finishCycle(
  db: Queryable,
  row: EscalationRow,
  levels: LevelRow[],
  now: Date,
  delayMinutes: number,
): Promise<Date | null> {
  if (row.repeats_left > 0 && levels.length > 0) {
    const nextAt = new Date(now.getTime() + delayMinutes * 60_000);
    await db.query(
      `UPDATE incident_escalation
          SET cycle = cycle + 1, repeats_left = repeats_left - 1, next_level = $2,
              next_at = $3, updated_at = now()
        WHERE incident_id = $1`,
      [row.incident_id, levels[0]!.position, nextAt],
    );
    await scheduleEscalationJob(db, row.incident_id, nextAt);
    return nextAt;
  }
  await db.query(
    `UPDATE incident_escalation
        SET status = 'completed', stop_reason = 'every level was notified', updated_at = now()
      WHERE incident_id = $1`,
    [row.incident_id],
  );
  return null;
}

/**
 * Moves the escalation jobs of a service's active escalations that are
 * overdue to `now`, so that escalation deferred by a maintenance window or
 * silence resumes as soon as an admin ends it. `serviceId` null means every
 * service (a silence of all services).
 */
export async function resumeDeferredEscalations(
  db: Queryable,
  serviceId: number | null,
  now: Date,
): Promise<number> {
  const { rows } = await db.query<{ incident_id: number }>(
    `SELECT e.incident_id FROM incident_escalation e JOIN incident i ON i.id = e.incident_id
      WHERE e.status = 'active' AND e.next_at <= $1
        AND ($2::int IS NULL OR i.service_id = $2)`,
    [now, serviceId],
  );
  for (const row of rows) await scheduleEscalationJob(db, row.incident_id, now);
  return rows.length;
}

/**
 * Backstop for escalations that have no live job: an active escalation due
 * more than a minute ago whose job failed all its attempts, was deleted, or
 * is held by a worker that stopped `staleLockMinutes` ago gets its job
 * again. The worker's per-minute cron runs it. Returns the incident ids.
 */
export async function rescheduleLostEscalations(
  db: Queryable,
  now: Date,
  staleLockMinutes: number,
): Promise<number[]> {
  const { rows } = await db.query<{ incident_id: number }>(
    `SELECT e.incident_id FROM incident_escalation e
      WHERE e.status = 'active'
        AND e.next_at <= $1::timestamptz - interval '1 minute'
        AND NOT EXISTS (
          SELECT 1 FROM graphile_worker._private_jobs j
           WHERE j.key = 'escalate-incident:' || e.incident_id
             AND j.attempts < j.max_attempts
             AND (j.locked_at IS NULL
                  OR j.locked_at > now() - make_interval(mins => $2)))
      ORDER BY e.incident_id`,
    [now, staleLockMinutes],
  );
  for (const row of rows) await scheduleEscalationJob(db, row.incident_id, now);
  return rows.map((row) => row.incident_id);
}

export type EscalationStatus = {
  status: "active" | "stopped" | "completed";
  cycle: number;
  nextLevel: number;
  nextAt: Date;
  stopReason: string | null;
  policyName: string;
};

/** Returns an incident's escalation state, or null when it has none. */
export async function loadEscalationStatus(
  db: Queryable,
  incidentId: number,
): Promise<EscalationStatus | null> {
  const { rows } = await db.query<{
    status: EscalationStatus["status"];
    cycle: number;
    next_level: number;
    next_at: Date;
    stop_reason: string | null;
    policy_name: string;
  }>(
    `SELECT e.status, e.cycle, e.next_level, e.next_at, e.stop_reason, p.name AS policy_name
       FROM incident_escalation e JOIN escalation_policy p ON p.id = e.policy_id
      WHERE e.incident_id = $1`,
    [incidentId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    status: row.status,
    cycle: row.cycle,
    nextLevel: row.next_level,
    nextAt: row.next_at,
    stopReason: row.stop_reason,
    policyName: row.policy_name,
  };
}

export type EscalationStepView = { cycle: number; level: number; firedAt: Date; targets: PagedTarget[] };

/** Returns the levels notified for an incident, oldest first. */
export async function listEscalationSteps(
  db: Queryable,
  incidentId: number,
): Promise<EscalationStepView[]> {
  const { rows } = await db.query<{ cycle: number; level: number; fired_at: Date; targets: PagedTarget[] }>(
    `SELECT cycle, level, fired_at, targets FROM escalation_step
      WHERE incident_id = $1 ORDER BY fired_at, id`,
    [incidentId],
  );
  return rows.map((row) => ({ cycle: row.cycle, level: row.level, firedAt: row.fired_at, targets: row.targets }));
}

export type ActiveEscalation = {
  incidentId: number;
  title: string;
  serviceName: string;
  policyName: string;
  cycle: number;
  nextLevel: number;
  nextAt: Date;
};

/** Lists the escalations still running, the next level due first. */
export async function listActiveEscalations(db: Queryable): Promise<ActiveEscalation[]> {
  const { rows } = await db.query<{
    incident_id: number;
    title: string;
    service_name: string;
    policy_name: string;
    cycle: number;
    next_level: number;
    next_at: Date;
  }>(
    `SELECT e.incident_id, i.title, s.name AS service_name, p.name AS policy_name,
            e.cycle, e.next_level, e.next_at
       FROM incident_escalation e
       JOIN incident i ON i.id = e.incident_id
       JOIN service s ON s.id = i.service_id
       JOIN escalation_policy p ON p.id = e.policy_id
      WHERE e.status = 'active'
      ORDER BY e.next_at, e.incident_id
      LIMIT 100`,
  );
  return rows.map((row) => ({
    incidentId: row.incident_id,
    title: row.title,
    serviceName: row.service_name,
    policyName: row.policy_name,
    cycle: row.cycle,
    nextLevel: row.next_level,
    nextAt: row.next_at,
  }));
}
