import {
  DETECTOR_ACTOR,
  describePoint,
  findOpenIncident,
  type SeriesContext,
} from "@/lib/incidents/detector";
import {
  EPISODE_QUIET_POINTS,
  type ScoredPoint,
} from "@/lib/incidents/episodes";
import {
  addIncidentEvent,
  type IncidentEventKind,
  type Queryable,
} from "@/lib/incidents/events";
import { logger as rootLogger, type Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";

// Ends the series' detector incident when its anomaly episode ends.
//
// A triggered incident, which no responder has acknowledged, is resolved at
// the data time of the first point of the quiet run. The series was back in
// range from then on, so the incident lasts as long as the anomaly did, also
// when it was found in backfilled history. An acknowledged incident stays
// open for its responder and only gets a "recovered" event, as does every
// incident when automatic resolution is off.

export type RecoveryOutcome =
  | { outcome: "resolved"; incidentId: number }
  | { outcome: "recovered"; incidentId: number }
  | { outcome: "duplicate"; incidentId: number }
  | { outcome: "ignored" };

export type RecoveryOptions = {
  /** Resolve a triggered incident, as VIGIL_AUTO_RESOLVE sets. */
  autoResolve: boolean;
};

const RECOVERED_KIND: IncidentEventKind = "recovered";

/**
 * Finds the start of the quiet run that ends at `recoveredAt`, which is the
 * EPISODE_QUIET_POINTS-th newest stored score at or before it. Returns null
 * when fewer scores are stored.
 */
async function findQuietRunStart(
  db: Queryable,
  seriesId: number,
  recoveredAt: Date,
): Promise<Date | null> {
  const { rows } = await db.query<{ ts: Date }>(
    `SELECT ts FROM anomaly_score
      WHERE series_id = $1 AND ts <= $2
      ORDER BY ts DESC OFFSET $3 LIMIT 1`,
    [seriesId, recoveredAt, EPISODE_QUIET_POINTS - 1],
  );
  return rows[0]?.ts ?? null;
}

/** Resolves a triggered incident, or returns false when it is not triggered. */
async function resolveTriggered(
  db: Queryable,
  incidentId: number,
  resolvedAt: Date,
): Promise<boolean> {
  // An acknowledgement that commits first wins, because the UPDATE then
  // matches no row.
  const { rowCount } = await db.query(
    `UPDATE incident
        SET status = 'resolved', resolved_at = $2, resolved_by_id = NULL
      WHERE id = $1 AND status = 'triggered'`,
    [incidentId, resolvedAt],
  );
  return rowCount === 1;
}

async function hasRecoveredEvent(
  db: Queryable,
  incidentId: number,
  recoveredAt: Date,
): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM incident_event
      WHERE incident_id = $1 AND kind = $2 AND data->>'recoveredAt' = $3`,
    [incidentId, RECOVERED_KIND, recoveredAt.toISOString()],
  );
  return rows.length > 0;
}

/**
 * Records that the series recovered at `point`, the point that completed
 * the quiet run. Resolves its open detector incident if it is triggered and
 * `autoResolve` is on, and else adds a "recovered" event to it. Must run in
 * the transaction that stored the scores up to `point`. A given `logger`
 * must already carry the series id.
 */
export async function recordRecovery(
  db: Queryable,
  series: SeriesContext,
  point: ScoredPoint,
  options: RecoveryOptions,
  logger?: Logger,
): Promise<RecoveryOutcome> {
  const log = logger ?? rootLogger.child({ seriesId: series.seriesId });
  const open = await findOpenIncident(db, series.seriesId);
  if (!open) {
    log.debug(
      { recoveredAt: point.ts },
      "series recovered with no open detector incident",
    );
    return { outcome: "ignored" };
  }

  const quietSince = await findQuietRunStart(db, series.seriesId, point.ts);
  const period = quietSince
    ? `since ${quietSince.toISOString()}`
    : `up to ${point.ts.toISOString()}`;
  const recovery = `${series.metricName} was back to normal (inside the expected range, or with errors usual for it) for ${EPISODE_QUIET_POINTS} points ${period}`;
  const data = {
    recoveredAt: point.ts.toISOString(),
    quietSince: quietSince?.toISOString() ?? null,
    quietPoints: EPISODE_QUIET_POINTS,
    point: describePoint(point),
  };

  if (
    open.status === "triggered" &&
    options.autoResolve &&
    (await resolveTriggered(db, open.id, quietSince ?? point.ts))
  ) {
    await addIncidentEvent(db, {
      incidentId: open.id,
      kind: "resolved",
      ...DETECTOR_ACTOR,
      message: `Resolved: ${recovery}.`,
      data,
    });
    await enqueueIncidentNotifications(db, open.id, "resolved");
    log.info(
      { incidentId: open.id, resolvedAt: quietSince ?? point.ts },
      "detector incident resolved, series back to normal",
    );
    return { outcome: "resolved", incidentId: open.id };
  }

  if (await hasRecoveredEvent(db, open.id, point.ts)) {
    return { outcome: "duplicate", incidentId: open.id };
  }
  const reason = options.autoResolve
    ? "The incident was acknowledged, so it stays open until its responder resolves it."
    : "Automatic resolution is off (VIGIL_AUTO_RESOLVE=false), so the incident stays open.";
  await addIncidentEvent(db, {
    incidentId: open.id,
    kind: RECOVERED_KIND,
    ...DETECTOR_ACTOR,
    message: `Recovered: ${recovery}. ${reason}`,
    data,
  });
  log.info(
    {
      incidentId: open.id,
      recoveredAt: point.ts,
      autoResolve: options.autoResolve,
    },
    "series back to normal, detector incident left open",
  );
  return { outcome: "recovered", incidentId: open.id };
}
