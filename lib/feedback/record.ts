import type pg from "pg";

import { getPool } from "@/lib/db";
import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import { FeedbackError } from "@/lib/feedback/errors";
import { thresholdFromFeedback } from "@/lib/feedback/threshold";
import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import { logger } from "@/lib/logger";

// Records a verdict on a detector incident and applies its effect, all in
// one transaction: the feedback row, a "feedback" timeline event naming the
// actor, and the series' alarm threshold recomputed from every incident's
// newest verdict (lib/feedback/threshold.ts).
//
// Locking: the series row is locked first (FOR NO KEY UPDATE, the lock an
// UPDATE takes), which serialises feedback on one series, so each
// recomputation reads every committed verdict. When new points have arrived,
// the scoring worker updates the series row before it locks an incident, so
// taking the series row before touching the incident keeps the worker's
// lock order.

export const FEEDBACK_VERDICTS = ["real", "false_alarm"] as const;
export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];

export const MAX_COMMENT_LENGTH = 2000;

/** Largest id of a PostgreSQL integer (int4) column. */
export const MAX_INCIDENT_ID = 2_147_483_647;

/** Author of a verdict: a signed-in user or an API token. */
export type FeedbackActor =
  | { kind: "user"; id: number; name: string }
  | {
      kind: "token";
      id: number;
      name: string;
      /** Service the token is bound to; null for an unbound token. */
      serviceId: number | null;
    };

export type FeedbackInput = {
  incidentId: number;
  verdict: FeedbackVerdict;
  comment?: string | null;
  actor: FeedbackActor;
};

export type RecordedFeedback = {
  id: number;
  incidentId: number;
  seriesId: number;
  modelVersionId: number | null;
  verdict: FeedbackVerdict;
  comment: string | null;
  peakLikelihood: number | null;
  actorName: string;
  createdAt: Date;
};

export type FeedbackResult = {
  /** "unchanged" when the newest verdict came from the same actor with
   * the same verdict and comment, so nothing was written. */
  outcome: "recorded" | "unchanged";
  feedback: RecordedFeedback;
  previousVerdict: FeedbackVerdict | null;
  /** Alarm threshold of the series before and after; null is the default. */
  alarmThreshold: { before: number | null; after: number | null };
};

const VERDICT_TEXT: Record<FeedbackVerdict, string> = {
  real: "a real anomaly",
  false_alarm: "a false alarm",
};

type IncidentRow = {
  id: number;
  source: string;
  series_id: number | null;
  service_id: number;
  opened_at: Date;
  resolved_at: Date | null;
};

type FeedbackRow = {
  id: number;
  incident_id: number;
  series_id: number;
  model_version_id: number | null;
  verdict: FeedbackVerdict;
  comment: string | null;
  peak_likelihood: number | null;
  actor_name: string;
  created_at: Date;
};

const FEEDBACK_COLUMNS = `id, incident_id, series_id, model_version_id, verdict,
  comment, peak_likelihood, actor_name, created_at`;

function toRecordedFeedback(row: FeedbackRow): RecordedFeedback {
  return {
    id: row.id,
    incidentId: row.incident_id,
    seriesId: row.series_id,
    modelVersionId: row.model_version_id,
    verdict: row.verdict,
    comment: row.comment,
    peakLikelihood: row.peak_likelihood,
    actorName: row.actor_name,
    createdAt: row.created_at,
  };
}

/** Formats a threshold for a timeline message; null is the default. */
function describeThreshold(threshold: number | null): string {
  if (threshold === null) {
    return `the default ${DEFAULT_SETTINGS.alarmThreshold.toFixed(4)}`;
  }
  return threshold.toFixed(4);
}

function validateInput(input: FeedbackInput): string | null {
  if (
    !Number.isSafeInteger(input.incidentId) ||
    input.incidentId <= 0 ||
    input.incidentId > MAX_INCIDENT_ID
  ) {
    throw new FeedbackError(
      400,
      "invalid_field",
      `incident id must be a positive integer up to ${MAX_INCIDENT_ID}, got ${input.incidentId}`,
      "id",
    );
  }
  if (!FEEDBACK_VERDICTS.includes(input.verdict)) {
    throw new FeedbackError(
      400,
      "invalid_field",
      `verdict must be "real" or "false_alarm", got ${JSON.stringify(input.verdict)}`,
      "verdict",
    );
  }
  if (
    input.comment !== undefined &&
    input.comment !== null &&
    typeof input.comment !== "string"
  ) {
    throw new FeedbackError(
      400,
      "invalid_field",
      `comment must be a string or null, got ${typeof input.comment}`,
      "comment",
    );
  }
  const comment = input.comment?.trim() || null;
  if (comment !== null && comment.length > MAX_COMMENT_LENGTH) {
    throw new FeedbackError(
      400,
      "invalid_field",
      `comment must be at most ${MAX_COMMENT_LENGTH} characters, got ${comment.length}`,
      "comment",
    );
  }
  if (comment !== null) checkCommentText(comment);
  return comment;
}

/**
 * Rejects text that PostgreSQL cannot store: it rejects U+0000 in text
 * columns, and a lone UTF-16 surrogate in the jsonb of the timeline event.
 */
function checkCommentText(comment: string): void {
  const nul = comment.indexOf("\u0000");
  if (nul >= 0) {
    throw new FeedbackError(
      400,
      "invalid_field",
      `comment contains the NUL character (U+0000) at position ${nul}; remove it`,
      "comment",
    );
  }
  // With the u flag, a surrogate pair is one code point, so this class
  // matches only unpaired surrogates.
  const surrogate = /[\uD800-\uDFFF]/u.exec(comment);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    throw new FeedbackError(
      400,
      "invalid_field",
      `comment contains an unpaired UTF-16 surrogate (U+${code}) at position ${surrogate.index}; send valid Unicode text`,
      "comment",
    );
  }
}

/** Loads a detector incident and checks that the actor may judge it or
 * read its verdicts. */
export async function loadTargetIncident(
  db: Queryable,
  incidentId: number,
  actor: FeedbackActor,
): Promise<IncidentRow & { series_id: number }> {
  const { rows } = await db.query<IncidentRow>(
    `SELECT id, source, series_id, service_id, opened_at, resolved_at
       FROM incident WHERE id = $1`,
    [incidentId],
  );
  const incident = rows[0];
  if (!incident) {
    throw new FeedbackError(
      404,
      "not_found",
      `incident ${incidentId} not found`,
      "id",
    );
  }
  if (incident.source !== "detector") {
    throw new FeedbackError(
      422,
      "not_a_detector_incident",
      `incident ${incidentId} was opened by an ${incident.source === "alert" ? "alert" : `${incident.source} source`}, ` +
        "not by the anomaly detector; feedback applies to detector incidents only",
      "id",
    );
  }
  if (incident.series_id === null) {
    throw new FeedbackError(
      422,
      "series_deleted",
      `the metric series of incident ${incidentId} has been deleted, so feedback cannot change its alarm threshold`,
      "id",
    );
  }
  if (
    actor.kind === "token" &&
    actor.serviceId !== null &&
    actor.serviceId !== incident.service_id
  ) {
    throw new FeedbackError(
      403,
      "forbidden",
      `this API token is bound to another service than incident ${incidentId}`,
    );
  }
  return { ...incident, series_id: incident.series_id };
}

async function recordInTransaction(
  db: pg.ClientBase,
  input: FeedbackInput,
  comment: string | null,
): Promise<FeedbackResult> {
  const { incidentId, verdict, actor } = input;
  // Read without a lock, to find the series to lock first (see the header).
  const target = await loadTargetIncident(db, incidentId, actor);
  const seriesId = target.series_id;

  const locked = await db.query<{ alarm_threshold: number | null }>(
    `SELECT alarm_threshold FROM metric_series WHERE id = $1
        FOR NO KEY UPDATE`,
    [seriesId],
  );
  if (locked.rows.length === 0) {
    // The series was deleted after the first read, which set the
    // incident's series_id to null: load again to report that.
    await loadTargetIncident(db, incidentId, actor);
  }
  const before = locked.rows[0]?.alarm_threshold ?? null;

  const { rows: latestRows } = await db.query<
    FeedbackRow & { user_id: number | null; token_id: number | null }
  >(
    `SELECT ${FEEDBACK_COLUMNS}, user_id, token_id FROM incident_feedback
      WHERE incident_id = $1 ORDER BY id DESC LIMIT 1`,
    [incidentId],
  );
  const latest = latestRows[0];
  const sameActor =
    latest !== undefined &&
    (actor.kind === "user"
      ? latest.user_id === actor.id
      : latest.token_id === actor.id);
  if (
    latest &&
    sameActor &&
    latest.verdict === verdict &&
    latest.comment === comment
  ) {
    return {
      outcome: "unchanged",
      feedback: toRecordedFeedback(latest),
      previousVerdict: latest.verdict,
      alarmThreshold: { before, after: before },
    };
  }

  // The incident spans opened_at to resolved_at. An open incident spans
  // every point scored so far, including episodes that joined it.
  // NOTE: the peak is recorded with the verdict. If an open incident's peak
  // rises later, the threshold uses the older peak until the next verdict.
  const peak = await db.query<{
    peak_likelihood: number | null;
    model_version_id: number | null;
  }>(
    `SELECT
       (SELECT max(likelihood) FROM anomaly_score
         WHERE series_id = $1 AND ts >= $2
           AND ($3::timestamptz IS NULL OR ts <= $3)) AS peak_likelihood,
       (SELECT model_version_id FROM anomaly_score
         WHERE series_id = $1 AND ts = $2) AS model_version_id`,
    [seriesId, target.opened_at, target.resolved_at],
  );
  const peakLikelihood = peak.rows[0]?.peak_likelihood ?? null;
  const modelVersionId = peak.rows[0]?.model_version_id ?? null;

  const inserted = await db.query<FeedbackRow>(
    `INSERT INTO incident_feedback
       (incident_id, series_id, model_version_id, verdict, peak_likelihood,
        user_id, token_id, actor_name, comment, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp())
     RETURNING ${FEEDBACK_COLUMNS}`,
    [
      incidentId,
      seriesId,
      modelVersionId,
      verdict,
      peakLikelihood,
      actor.kind === "user" ? actor.id : null,
      actor.kind === "token" ? actor.id : null,
      actor.name,
      comment,
    ],
  );
  const feedback = toRecordedFeedback(inserted.rows[0]!);

  // Newest verdict per incident: ids grow in commit order, because the
  // series lock serialises these transactions.
  const { rows: verdicts } = await db.query<{
    verdict: FeedbackVerdict;
    peak_likelihood: number | null;
  }>(
    `SELECT DISTINCT ON (incident_id) verdict, peak_likelihood
       FROM incident_feedback WHERE series_id = $1
      ORDER BY incident_id, id DESC`,
    [seriesId],
  );
  const after = thresholdFromFeedback(
    verdicts.map((row) => ({
      verdict: row.verdict,
      peakLikelihood: row.peak_likelihood,
    })),
  );
  if (after !== before) {
    await db.query(
      "UPDATE metric_series SET alarm_threshold = $2 WHERE id = $1",
      [seriesId, after],
    );
  }

  const previousVerdict = latest?.verdict ?? null;
  const sentences = [
    previousVerdict && previousVerdict !== verdict
      ? `${actor.name} changed the verdict from ${VERDICT_TEXT[previousVerdict]} to ${VERDICT_TEXT[verdict]}.`
      : `${actor.name} marked this incident as ${VERDICT_TEXT[verdict]}.`,
  ];
  if (comment) {
    const ended = /[.!?]$/.test(comment) ? comment : `${comment}.`;
    sentences.push(`Comment: ${ended}`);
  }
  if (after !== before) {
    sentences.push(
      `The alarm threshold of the series changed from ${describeThreshold(before)} to ${describeThreshold(after)}.`,
    );
  }
  await addIncidentEvent(db, {
    incidentId,
    kind: "feedback",
    actorType: actor.kind,
    actorId: actor.id,
    actorName: actor.name,
    message: sentences.join(" "),
    data: {
      feedbackId: feedback.id,
      verdict,
      previousVerdict,
      comment,
      peakLikelihood,
      modelVersionId,
      alarmThreshold: { before, after },
    },
  });

  return {
    outcome: "recorded",
    feedback,
    previousVerdict,
    alarmThreshold: { before, after },
  };
}

/**
 * Records a verdict on a detector incident and recomputes the alarm
 * threshold of its series. Throws FeedbackError for invalid input (400), an
 * unknown incident (404), a token bound to another service (403) and an
 * incident the detector did not open or whose series is gone (422). The
 * caller checks the user's role.
 */
export async function recordFeedback(
  input: FeedbackInput,
): Promise<FeedbackResult> {
  const comment = validateInput(input);
  const log = logger.child({
    incidentId: input.incidentId,
    actorType: input.actor.kind,
    actorId: input.actor.id,
  });

  const client = await getPool().connect();
  let result: FeedbackResult;
  try {
    await client.query("BEGIN");
    try {
      result = await recordInTransaction(client, input, comment);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    }
  } finally {
    client.release();
  }

  log.info(
    {
      outcome: result.outcome,
      verdict: input.verdict,
      feedbackId: result.feedback.id,
      seriesId: result.feedback.seriesId,
      modelVersionId: result.feedback.modelVersionId,
      peakLikelihood: result.feedback.peakLikelihood,
      alarmThresholdBefore: result.alarmThreshold.before,
      alarmThresholdAfter: result.alarmThreshold.after,
    },
    result.outcome === "recorded"
      ? "incident feedback recorded"
      : "incident feedback unchanged: same verdict and comment as the newest one",
  );
  return result;
}
