import type pg from "pg";

import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import type { Logger } from "@/lib/logger";
import { retryDelaySeconds } from "@/lib/notifications/deliver";
import {
  buildReportMail,
  loadMailChannels,
  ScheduleSelectionError,
  sendReportMail,
  type ReportMail,
} from "@/lib/reports/schedule-send";
import { findSchedule, type ReportRunStatus } from "@/lib/reports/schedule-store";
import {
  lastRunAtOrBefore,
  nextRunAfter,
  reportPeriodFor,
  type ReportPeriod,
  type ScheduleTiming,
} from "@/lib/reports/schedule-time";

// The runs of report schedules, as the send-scheduled-reports task works
// them off:
//
// 1. queueDueRuns turns each enabled schedule whose nextRunAt has passed
//    into a run row for its period and advances nextRunAt. The run row is
//    unique per schedule and period start, so a second worker or a rerun
//    adds nothing.
// 2. sendDueRuns claims one pending run at a time with SELECT ... FOR NO KEY
//    UPDATE SKIP LOCKED and keeps that transaction open while it builds and
//    mails the report, so that no other worker sends the same run. Each
//    channel that accepts the mail gets a delivery row at once, outside the
//    transaction, so a retry sends only to the channels that failed.
//    NO KEY UPDATE leaves the run row open to the KEY SHARE lock that the
//    delivery row's foreign key takes.
//
// NOTE: a worker that stops after an SMTP server accepted the mail but
// before the delivery row is written sends that channel's mail again on the
// retry (at-least-once), like incident notifications. A stop also rolls
// back the attempt count, so such an attempt does not count toward
// maxAttempts.

export type RunOptions = {
  /** SMTP timeout in milliseconds. */
  timeoutMs: number;
  /** Attempts before a run is marked failed. */
  maxAttempts: number;
  /** Delay before the second attempt in seconds, doubled for each later attempt. */
  retryBaseSeconds: number;
  /** Stop claiming runs after this time (milliseconds since the epoch). */
  deadline?: number;
};

export type RunOutcome = {
  runId: number;
  scheduleId: number;
  status: ReportRunStatus;
  attempt: number;
  error: string | null;
};

type DueSchedule = {
  id: number;
  name: string;
  cadence: ScheduleTiming["cadence"];
  day_of_week: number | null;
  day_of_month: number | null;
  last_day_of_month: boolean;
  time_of_day: string;
  time_zone: string;
  next_run_at: Date;
};

function timingOf(row: DueSchedule): ScheduleTiming {
  return {
    cadence: row.cadence,
    dayOfWeek: row.day_of_week,
    dayOfMonth: row.day_of_month,
    lastDayOfMonth: row.last_day_of_month,
    timeOfDay: row.time_of_day,
    timeZone: row.time_zone,
  };
}

/** Maximum schedules that one call of queueDueRuns turns into runs. */
const QUEUE_BATCH = 100;

/**
 * Adds a run for every enabled schedule whose nextRunAt is at or before
 * `at` and moves nextRunAt past `at`. A schedule that missed several run
 * times, because no worker ran, gets one run for the newest period.
 * Returns the ids of the runs added.
 */
export async function queueDueRuns(pool: pg.Pool, at: Date, log: Logger): Promise<number[]> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<DueSchedule>(
      `SELECT id, name, cadence, day_of_week, day_of_month, last_day_of_month,
              time_of_day, time_zone, next_run_at
         FROM report_schedule
        WHERE enabled AND next_run_at <= $1
        ORDER BY next_run_at, id
        LIMIT $2
          FOR UPDATE SKIP LOCKED`,
      [at, QUEUE_BATCH],
    );
    const added: number[] = [];
    for (const row of rows) {
      const timing = timingOf(row);
      const runAt = lastRunAtOrBefore(timing, at);
      const period = reportPeriodFor(timing, runAt);
      if (runAt.getTime() > row.next_run_at.getTime()) {
        log.warn(
          { scheduleId: row.id, missedFrom: row.next_run_at.toISOString(), runAt: runAt.toISOString() },
          "report schedule missed run times while no worker ran; sending only the newest period",
        );
      }
      // A period that overlaps one already queued, as after a change of time
      // zone or cadence, is skipped so that no day is mailed twice.
      const inserted = await client.query<{ id: number }>(
        `INSERT INTO report_schedule_run (schedule_id, period_start, period_end, scheduled_at, next_attempt_at)
         SELECT $1::int, $2::timestamptz, $3::timestamptz, $4::timestamptz, $4::timestamptz
          WHERE NOT EXISTS (
                SELECT 1 FROM report_schedule_run
                 WHERE schedule_id = $1 AND period_start < $3 AND period_end > $2
                   AND period_start <> $2)
         ON CONFLICT (schedule_id, period_start) DO NOTHING
         RETURNING id`,
        [row.id, period.from, period.to, runAt],
      );
      await client.query(
        "UPDATE report_schedule SET next_run_at = $2, last_run_at = $3 WHERE id = $1",
        [row.id, nextRunAfter(timing, at), runAt],
      );
      if (inserted.rows[0]) {
        added.push(inserted.rows[0].id);
        log.info(
          { scheduleId: row.id, runId: inserted.rows[0].id, from: period.from.toISOString(), to: period.to.toISOString() },
          "report schedule run queued",
        );
      } else {
        log.info(
          { scheduleId: row.id, from: period.from.toISOString(), to: period.to.toISOString() },
          "report schedule run skipped because its period was already queued or overlaps a queued one",
        );
      }
    }
    return added;
  });
}

type ClaimedRun = {
  id: number;
  schedule_id: number;
  period_start: Date;
  period_end: Date;
  attempts: number;
};

async function recordDelivery(pool: pg.Pool, runId: number, channelId: number, smtpResponse: string | null): Promise<void> {
  await pool.query(
    `INSERT INTO report_schedule_delivery (run_id, channel_id, smtp_response, sent_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (run_id, channel_id) DO NOTHING`,
    [runId, channelId, smtpResponse, now()],
  );
}

/** Builds and mails one claimed run; returns the errors of the channels that failed. */
async function sendRun(
  pool: pg.Pool,
  run: ClaimedRun,
  options: RunOptions,
  log: Logger,
): Promise<{ errors: string[]; permanent: boolean }> {
  const schedule = await findSchedule(pool, run.schedule_id);
  if (!schedule) return { errors: ["the schedule was deleted"], permanent: true };

  const { rows: delivered } = await pool.query<{ channel_id: number }>(
    "SELECT channel_id FROM report_schedule_delivery WHERE run_id = $1",
    [run.id],
  );
  const done = new Set(delivered.map((row) => row.channel_id));
  const channels = (await loadMailChannels(schedule.id)).filter((channel) => !done.has(channel.id));
  if (channels.length === 0 && done.size === 0) {
    return { errors: ["the schedule has no email channel left; edit the schedule to choose one"], permanent: true };
  }
  if (channels.length === 0) return { errors: [], permanent: false };

  const period: ReportPeriod = { from: run.period_start, to: run.period_end };
  let mail: ReportMail;
  try {
    mail = await buildReportMail(schedule, period, now());
  } catch (error) {
    if (error instanceof ScheduleSelectionError) return { errors: [error.message], permanent: true };
    throw error;
  }

  const errors: string[] = [];
  for (const channel of channels) {
    const result = await sendReportMail(channel, mail, options.timeoutMs);
    if (result.succeeded) {
      await recordDelivery(pool, run.id, channel.id, result.smtpResponse);
      log.info({ runId: run.id, channelId: channel.id, smtpResponse: result.smtpResponse }, "scheduled report mailed");
    } else {
      errors.push(`channel ${JSON.stringify(channel.name)}: ${result.error}`);
      log.warn({ runId: run.id, channelId: channel.id, error: result.error }, "scheduled report mail failed");
    }
  }
  return { errors, permanent: false };
}

/**
 * Claims and sends one due run, holding its row locked until the outcome is
 * recorded. Returns null when no run is due or every due run is claimed by
 * another worker.
 */
async function claimAndSend(pool: pg.Pool, at: Date, options: RunOptions, log: Logger): Promise<RunOutcome | null> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<ClaimedRun>(
      `SELECT id, schedule_id, period_start, period_end, attempts
         FROM report_schedule_run
        WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $1
        ORDER BY next_attempt_at, id
        LIMIT 1
          FOR NO KEY UPDATE SKIP LOCKED`,
      [at],
    );
    const run = rows[0];
    if (!run) return null;
    const runLog = log.child({ runId: run.id, scheduleId: run.schedule_id });
    const attempt = run.attempts + 1;

    let result: { errors: string[]; permanent: boolean };
    try {
      result = await sendRun(pool, run, options, runLog);
    } catch (error) {
      // A database or rendering error: counted as a failed attempt.
      runLog.error({ err: error }, "building the scheduled report failed");
      result = { errors: [`building the report failed: ${(error as Error).message}`], permanent: false };
    }

    let status: ReportRunStatus;
    let nextAttemptAt = at;
    if (result.errors.length === 0) {
      status = "sent";
    } else if (result.permanent || attempt >= options.maxAttempts) {
      status = "failed";
    } else {
      status = "retrying";
      nextAttemptAt = new Date(now().getTime() + retryDelaySeconds(attempt, options.retryBaseSeconds) * 1000);
    }
    const error = result.errors.length === 0 ? null : result.errors.join("; ");
    await client.query(
      `UPDATE report_schedule_run
          SET status = $2::"ReportRunStatus", attempts = $3, error = $4, next_attempt_at = $5,
              sent_at = $6
        WHERE id = $1`,
      [run.id, status, attempt, error, nextAttemptAt, status === "sent" ? now() : null],
    );
    if (status === "sent") runLog.info({ attempt }, "scheduled report run sent");
    else if (status === "retrying") runLog.warn({ attempt, error, nextAttemptAt: nextAttemptAt.toISOString() }, "scheduled report run failed, will retry");
    else runLog.error({ attempt, error }, "scheduled report run failed after its last attempt");
    return { runId: run.id, scheduleId: run.schedule_id, status, attempt, error };
  });
}

/**
 * Sends every run due at `at`, one at a time, until none is left or the
 * deadline passes. Returns the outcome of each run it claimed.
 */
export async function sendDueRuns(pool: pg.Pool, at: Date, options: RunOptions, log: Logger): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
  for (;;) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) break;
    const outcome = await claimAndSend(pool, at, options, log);
    if (!outcome) break;
    outcomes.push(outcome);
  }
  return outcomes;
}

/** Minimum time between two Send now mails of one schedule, in seconds. */
export const SEND_NOW_INTERVAL_SECONDS = 60;

/** A Send now within SEND_NOW_INTERVAL_SECONDS of the previous one. */
export class SendNowTooSoonError extends Error {
  readonly retryAfterSeconds: number;

  constructor(scheduleId: number, retryAfterSeconds: number) {
    super(
      `report schedule ${scheduleId} was sent less than ${SEND_NOW_INTERVAL_SECONDS} seconds ago; ` +
        `try again in ${retryAfterSeconds} seconds`,
    );
    this.name = "SendNowTooSoonError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Records a Send now at `at` unless the previous one of the schedule is
 * less than SEND_NOW_INTERVAL_SECONDS old. One statement does the check and
 * the write, so two parallel requests cannot both pass. Returns the
 * previous time, or null when there was none; throws SendNowTooSoonError.
 */
async function claimSendNow(pool: pg.Pool, scheduleId: number, at: Date): Promise<Date | null> {
  const { rows } = await pool.query<{ previous: Date | null }>(
    `WITH previous AS (SELECT sent_at FROM report_schedule_test_send WHERE schedule_id = $1)
     INSERT INTO report_schedule_test_send (schedule_id, sent_at) VALUES ($1, $2)
     ON CONFLICT (schedule_id) DO UPDATE SET sent_at = EXCLUDED.sent_at
      WHERE report_schedule_test_send.sent_at <= $2::timestamptz - make_interval(secs => $3)
     RETURNING (SELECT sent_at FROM previous) AS previous`,
    [scheduleId, at, SEND_NOW_INTERVAL_SECONDS],
  );
  if (rows.length > 0) return rows[0]!.previous;
  const { rows: current } = await pool.query<{ sent_at: Date }>(
    "SELECT sent_at FROM report_schedule_test_send WHERE schedule_id = $1",
    [scheduleId],
  );
  const last = current[0]?.sent_at ?? at;
  const waitMs = last.getTime() + SEND_NOW_INTERVAL_SECONDS * 1000 - at.getTime();
  throw new SendNowTooSoonError(scheduleId, Math.max(1, Math.ceil(waitMs / 1000)));
}

/** Restores the Send now time that claimSendNow replaced, when no mail went out. */
async function releaseSendNow(pool: pg.Pool, scheduleId: number, at: Date, previous: Date | null): Promise<void> {
  if (previous === null) {
    await pool.query("DELETE FROM report_schedule_test_send WHERE schedule_id = $1 AND sent_at = $2", [scheduleId, at]);
  } else {
    await pool.query(
      "UPDATE report_schedule_test_send SET sent_at = $3 WHERE schedule_id = $1 AND sent_at = $2",
      [scheduleId, at, previous],
    );
  }
}

export type SendNowResult = {
  period: ReportPeriod;
  sent: { channelId: number; name: string }[];
  failed: { channelId: number; name: string; error: string }[];
};

/**
 * Mails the report of the schedule's last full period now, through every
 * channel, as a test. It adds no run row, so the scheduled run of the same
 * period still goes out. Throws ScheduleSelectionError for a stale selection
 * and SendNowTooSoonError when the previous mail is under a minute old. A
 * call that mails nothing does not count toward that limit.
 */
export async function sendScheduleNow(
  scheduleId: number,
  options: Pick<RunOptions, "timeoutMs">,
  log: Logger,
): Promise<SendNowResult | null> {
  const schedule = await findSchedule(getPool(), scheduleId);
  if (!schedule) return null;
  const at = now();
  const previous = await claimSendNow(getPool(), scheduleId, at);
  const result: SendNowResult = { period: reportPeriodFor(schedule, at), sent: [], failed: [] };
  try {
    const mail = await buildReportMail(schedule, result.period, at);
    for (const channel of await loadMailChannels(scheduleId)) {
      const sent = await sendReportMail(channel, mail, options.timeoutMs);
      if (sent.succeeded) {
        result.sent.push({ channelId: channel.id, name: channel.name });
      } else {
        result.failed.push({ channelId: channel.id, name: channel.name, error: sent.error ?? "failed" });
        log.warn({ scheduleId, channelId: channel.id, error: sent.error }, "test mail of a report schedule failed");
      }
    }
  } finally {
    if (result.sent.length === 0) await releaseSendNow(getPool(), scheduleId, at, previous);
  }
  return result;
}
