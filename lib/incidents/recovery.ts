import {
  listCorrelatedSeries,
  type CorrelatedSeries,
} from "@/lib/incidents/correlation";
import {
  DETECTOR_ACTOR,
  describePoint,
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
import {
  findOpenIncident,
  lockServiceGrouping,
  markSeriesRecovered,
} from "@/lib/incidents/grouping";
import { logger as rootLogger, type Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";

// Ends the series' detector incident when the anomaly episodes of all its
// series have ended.
//
// The end of an episode marks the series recovered in incident_series. While
// another series of the incident is still anomalous, the incident only gets
// a "recovered" event. Once every series is back to normal, a triggered
// incident, which no responder has acknowledged, is resolved at the data
// time of the first point of the last quiet run. The series were back in
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
  seriesId: number,
  recoveredAt: Date,
): Promise<boolean> {
  // Events written before grouping carry no seriesId; their incident had
  // one series.
  const { rows } = await db.query(
    `SELECT 1 FROM incident_event
      WHERE incident_id = $1 AND kind = $2 AND data->>'recoveredAt' = $3
        AND COALESCE(data->>'seriesId', $4) = $4`,
    [incidentId, RECOVERED_KIND, recoveredAt.toISOString(), String(seriesId)],
  );
  return rows.length > 0;
}

/** Names the series still anomalous, such as "2 of 3 correlated series (a, b)". */
function describeAnomalous(
  anomalous: CorrelatedSeries[],
  total: number,
): string {
  const names = anomalous.map((state) => state.metricName).join(", ");
  const verb = anomalous.length === 1 ? "is" : "are";
  return `${anomalous.length} of ${total} correlated series (${names}) ${verb} still anomalous`;
}

/** Returns the latest recovery time among the series, all recovered. */
function lastRecovery(states: CorrelatedSeries[], fallback: Date): Date {
  let latest = fallback;
  for (const state of states) {
    if (state.recoveredAt! > latest) latest = state.recoveredAt!;
  }
  return latest;
}

/**
 * Records that the series recovered at `point`, the point that completed
 * the quiet run. Once every series of its open detector incident is back to
 * normal, resolves the incident if it is triggered and `autoResolve` is on.
 * Otherwise adds a "recovered" event to it. Must run in the transaction that
 * stored the scores up to `point`, because it takes the service's grouping
 * lock until commit. A given `logger` must already carry the series id.
 */
export async function recordRecovery(
  db: Queryable,
  series: SeriesContext,
  point: ScoredPoint,
  options: RecoveryOptions,
  logger?: Logger,
): Promise<RecoveryOutcome> {
  const log = logger ?? rootLogger.child({ seriesId: series.seriesId });
  await lockServiceGrouping(db, "detector", series.serviceId);
  const open = await findOpenIncident(db, series.seriesId);
  if (!open) {
    log.debug(
      { recoveredAt: point.ts },
      "series recovered with no open detector incident",
    );
    return { outcome: "ignored" };
  }

  const quietSince = await findQuietRunStart(db, series.seriesId, point.ts);
  await markSeriesRecovered(
    db,
    open.id,
    series.seriesId,
    quietSince ?? point.ts,
  );
  const states = await listCorrelatedSeries(db, open.id);
  const anomalous = states.filter((state) => state.recoveredAt === null);

  const period = quietSince
    ? `since ${quietSince.toISOString()}`
    : `up to ${point.ts.toISOString()}`;
  const recovery = `${series.metricName} was back to normal (inside the expected range, or with errors usual for it) for ${EPISODE_QUIET_POINTS} points ${period}`;
  const data = {
    seriesId: series.seriesId,
    recoveredAt: point.ts.toISOString(),
    quietSince: quietSince?.toISOString() ?? null,
    quietPoints: EPISODE_QUIET_POINTS,
    point: describePoint(point),
    ...(states.length > 1
      ? { anomalousSeriesIds: anomalous.map((state) => state.seriesId) }
      : {}),
  };

  if (anomalous.length === 0) {
    const resolvedAt = lastRecovery(states, quietSince ?? point.ts);
    if (
      open.status === "triggered" &&
      options.autoResolve &&
      (await resolveTriggered(db, open.id, resolvedAt))
    ) {
      const all =
        states.length > 1
          ? ` All ${states.length} correlated series are back to normal.`
          : "";
      await addIncidentEvent(db, {
        incidentId: open.id,
        kind: "resolved",
        ...DETECTOR_ACTOR,
        message: `Resolved: ${recovery}.${all}`,
        data,
      });
      await enqueueIncidentNotifications(db, open.id, "resolved");
      log.info(
        { incidentId: open.id, resolvedAt, series: states.length },
        "detector incident resolved, series back to normal",
      );
      return { outcome: "resolved", incidentId: open.id };
    }
  }

  if (await hasRecoveredEvent(db, open.id, series.seriesId, point.ts)) {
    return { outcome: "duplicate", incidentId: open.id };
  }
  let reason: string;
  if (anomalous.length > 0) {
    reason = `${describeAnomalous(anomalous, states.length)}, so the incident stays open.`;
  } else if (options.autoResolve) {
    reason =
      "The incident was acknowledged, so it stays open until its responder resolves it.";
  } else {
    reason =
      "Automatic resolution is off (VIGIL_AUTO_RESOLVE=false), so the incident stays open.";
  }
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
      anomalousSeries: anomalous.length,
    },
    "series back to normal, detector incident left open",
  );
  return { outcome: "recovered", incidentId: open.id };
}
