import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import {
  dedupKeyFor,
  formatValue,
  severityForScore,
  type Episode,
  type ScoredPoint,
} from "@/lib/incidents/episodes";
import { logger as rootLogger, type Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { suggestRunbooks } from "@/lib/runbooks/match";

export * from "@/lib/incidents/episodes";

// Turns episodes into incidents.
//
// Each episode opens one detector incident, keyed by series and onset time.
// A series has at most one open detector incident (partial unique index
// incident_open_detector_series_key), so an episode that starts while one is
// open is added to it as an "anomaly" event instead. lib/incidents/recovery.ts
// handles the end of an episode.

export type SeriesContext = {
  seriesId: number;
  serviceId: number;
  serviceSlug: string;
  serviceName: string;
  metricName: string;
  labels: Record<string, unknown>;
};

export type EpisodeOutcome =
  | { outcome: "opened"; incidentId: number }
  | { outcome: "joined"; incidentId: number }
  | { outcome: "duplicate"; incidentId: number }
  | { outcome: "ignored" };

export const DETECTOR_ACTOR = {
  actorType: "worker",
  actorName: "anomaly detector",
} as const;
const OPEN_INCIDENT_INDEX = "incident_open_detector_series_key";

export function describePoint(point: ScoredPoint): Record<string, unknown> {
  return {
    ts: point.ts.toISOString(),
    value: point.value,
    score: point.score,
    likelihood: point.likelihood,
    expectedLow: point.expectedLow,
    expectedHigh: point.expectedHigh,
  };
}

/**
 * Formats the expected range for stored text, in plain numbers because the
 * series' unit is not known here. A low bound of exactly 0 reads "at most X",
 * because the detector clips the band of a non-negative series at 0.
 */
function expectedRangeText(low: number | null, high: number | null): string {
  if (low === 0 && high !== null) return `at most ${formatValue(high)}`;
  return `${formatValue(low)} to ${formatValue(high)}`;
}

function observedVersusExpected(point: ScoredPoint): string {
  return (
    `observed ${formatValue(point.value)} where ` +
    `${expectedRangeText(point.expectedLow, point.expectedHigh)} ` +
    `was expected (anomaly score ${point.score.toFixed(2)}, ` +
    `likelihood ${point.likelihood.toFixed(4)}, ` +
    `${point.ts.toISOString()})`
  );
}

export type OpenIncidentRow = {
  id: number;
  status: "triggered" | "acknowledged";
  peak_score: number | null;
};

/** Locks and returns the series' open detector incident, if any. */
export async function findOpenIncident(
  db: Queryable,
  seriesId: number,
): Promise<OpenIncidentRow | undefined> {
  const { rows } = await db.query<OpenIncidentRow>(
    `SELECT id, status, peak_score FROM incident
      WHERE series_id = $1 AND source = 'detector' AND status <> 'resolved'
      FOR UPDATE`,
    [seriesId],
  );
  return rows[0];
}

/** Raises the peak score, and with it the severity, of an incident. */
async function raisePeak(
  db: Queryable,
  incidentId: number,
  peakScore: number,
): Promise<void> {
  await db.query(
    `UPDATE incident
        SET peak_score = GREATEST(COALESCE(peak_score, 0), $2),
            severity = LEAST(severity, $3::"Severity")
      WHERE id = $1`,
    [incidentId, peakScore, severityForScore(peakScore)],
  );
}

async function joinIncident(
  db: Queryable,
  incidentId: number,
  series: SeriesContext,
  episode: Episode,
  log: Logger,
): Promise<EpisodeOutcome> {
  await raisePeak(db, incidentId, episode.peak.score);
  await addIncidentEvent(db, {
    incidentId,
    kind: "anomaly",
    ...DETECTOR_ACTOR,
    message: `Another anomaly episode in ${series.metricName}: ${observedVersusExpected(episode.peak)}`,
    data: {
      dedupKey: dedupKeyFor(series.seriesId, episode.onset.ts),
      onset: describePoint(episode.onset),
      peak: describePoint(episode.peak),
    },
  });
  log.info(
    { incidentId, onset: episode.onset.ts },
    "anomaly episode joined the open incident",
  );
  return { outcome: "joined", incidentId };
}

function isOpenIncidentConflict(error: unknown): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === "23505" && pgError.constraint === OPEN_INCIDENT_INDEX;
}

/**
 * Opens an incident for an episode, or adds the episode to the series' open
 * detector incident. Must run inside a transaction, because it uses a
 * savepoint to recover when a concurrent worker opens an incident for the
 * same series first. A given `logger` must already carry the series id.
 */
export async function recordEpisode(
  db: Queryable,
  series: SeriesContext,
  episode: Episode,
  logger?: Logger,
): Promise<EpisodeOutcome> {
  const log = logger ?? rootLogger.child({ seriesId: series.seriesId });
  if (episode.continuesPrevious) {
    const open = await findOpenIncident(db, series.seriesId);
    if (!open) return { outcome: "ignored" };
    await raisePeak(db, open.id, episode.peak.score);
    return { outcome: "joined", incidentId: open.id };
  }

  const open = await findOpenIncident(db, series.seriesId);
  if (open) return joinIncident(db, open.id, series, episode, log);

  const dedupKey = dedupKeyFor(series.seriesId, episode.onset.ts);
  const title = `Anomaly in ${series.metricName} on ${series.serviceName}`;
  // The onset, not the peak: later points of the episode may raise the peak
  // after this row is written, and the summary must not go stale.
  const summary = `${series.metricName} on ${series.serviceName} turned anomalous: ${observedVersusExpected(episode.onset)}.`;

  await db.query("SAVEPOINT open_detector_incident");
  let insertedId: number | undefined;
  try {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO incident
         (service_id, series_id, title, status, severity, source, dedup_key,
          summary, peak_score, opened_at)
       VALUES ($1, $2, $3, 'triggered', $4, 'detector', $5, $6, $7, $8)
       ON CONFLICT (dedup_key) DO NOTHING
       RETURNING id`,
      [
        series.serviceId,
        series.seriesId,
        title,
        severityForScore(episode.peak.score),
        dedupKey,
        summary,
        episode.peak.score,
        episode.onset.ts,
      ],
    );
    insertedId = rows[0]?.id;
    await db.query("RELEASE SAVEPOINT open_detector_incident");
  } catch (error) {
    await db.query("ROLLBACK TO SAVEPOINT open_detector_incident");
    if (!isOpenIncidentConflict(error)) throw error;

    // Another worker committed an open incident for this series after our
    // check: this episode joins it.
    const winner = await findOpenIncident(db, series.seriesId);
    if (!winner) throw error;
    log.info(
      { incidentId: winner.id },
      "concurrent worker opened the incident first, joining it",
    );
    return joinIncident(db, winner.id, series, episode, log);
  }

  if (insertedId === undefined) {
    const { rows } = await db.query<{ id: number }>(
      "SELECT id FROM incident WHERE dedup_key = $1",
      [dedupKey],
    );
    return { outcome: "duplicate", incidentId: rows[0]!.id };
  }

  await addIncidentEvent(db, {
    incidentId: insertedId,
    kind: "opened",
    ...DETECTOR_ACTOR,
    message: `Opened: ${series.metricName} turned anomalous, ${observedVersusExpected(episode.onset)}`,
    data: {
      dedupKey,
      onset: describePoint(episode.onset),
      peak: describePoint(episode.peak),
      score: episode.onset.score,
      expectedRange: [episode.onset.expectedLow, episode.onset.expectedHigh],
    },
  });
  const runbooks = await suggestRunbooks(db, insertedId, {
    serviceSlug: series.serviceSlug,
    metricName: series.metricName,
    labels: series.labels,
  });
  await enqueueIncidentNotifications(db, insertedId, "opened");
  log.info(
    {
      incidentId: insertedId,
      onset: episode.onset.ts,
      peakScore: episode.peak.score,
      runbooks: runbooks.map((match) => match.slug),
    },
    "detector incident opened",
  );
  return { outcome: "opened", incidentId: insertedId };
}
