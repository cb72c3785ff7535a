import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import {
  dedupKeyFor,
  formatValue,
  severityForScore,
  type Episode,
  type ScoredPoint,
} from "@/lib/incidents/episodes";
import {
  addIncidentSeries,
  findGroupIncident,
  findOpenIncident,
  findRecordedEpisode,
  groupingWindowMinutes,
  lockServiceGrouping,
  markSeriesAnomalous,
} from "@/lib/incidents/grouping";
import { recordSuspectDeployments } from "@/lib/incidents/suspects";
import { logger as rootLogger, type Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { enqueueAutomaticRunbooks } from "@/lib/runbooks/automatic";
import { raiseSeverity } from "@/lib/incidents/severity";
import { suggestRunbooks } from "@/lib/runbooks/match";

export * from "@/lib/incidents/episodes";
export { findOpenIncident, type OpenIncidentRow } from "@/lib/incidents/grouping";

// Turns episodes into incidents.
//
// An episode of a series that an open detector incident lists joins that
// incident as an "anomaly" event. An episode of another series of the same
// service that starts within the grouping window of an open incident's onset
// joins it as a correlated series (lib/incidents/grouping.ts). Any other
// episode opens a new incident, keyed by series and onset time (dedup_key),
// so a retried job cannot open it twice. lib/incidents/recovery.ts handles
// the end of an episode.

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

/** Raises the peak score, and with it the severity, of an incident. */
async function raisePeak(
  db: Queryable,
  incidentId: number,
  peakScore: number,
): Promise<void> {
  await db.query(
    `UPDATE incident SET peak_score = GREATEST(COALESCE(peak_score, 0), $2)
      WHERE id = $1`,
    [incidentId, peakScore],
  );
  await raiseSeverity(
    db,
    incidentId,
    severityForScore(peakScore),
    DETECTOR_ACTOR,
    `the anomaly score reached ${peakScore.toFixed(2)}`,
  );
}


/** Adds a later episode of a series the open incident lists already. */
async function joinIncident(
  db: Queryable,
  incidentId: number,
  series: SeriesContext,
  episode: Episode,
  log: Logger,
): Promise<EpisodeOutcome> {
  await raisePeak(db, incidentId, episode.peak.score);
  await markSeriesAnomalous(db, incidentId, series.seriesId, episode.peak);
  await addIncidentEvent(db, {
    incidentId,
    kind: "anomaly",
    ...DETECTOR_ACTOR,
    message: `Another anomaly episode in ${series.metricName}: ${observedVersusExpected(episode.peak)}`,
    data: {
      dedupKey: dedupKeyFor(series.seriesId, episode.onset.ts),
      seriesId: series.seriesId,
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

/** Adds the episode of another series of the service to an open incident. */
async function joinGroup(
  db: Queryable,
  incident: { id: number; opened_at: Date },
  series: SeriesContext,
  episode: Episode,
  windowMinutes: number,
  log: Logger,
): Promise<EpisodeOutcome> {
  // opened_at stays the onset of the series that opened the incident, even
  // when this episode started earlier, because the incident page and
  // feedback read that series' scores at opened_at.
  await raisePeak(db, incident.id, episode.peak.score);
  await addIncidentSeries(
    db,
    incident.id,
    series.seriesId,
    episode.onset,
    episode.peak,
  );
  const gapMinutes = Math.round(
    Math.abs(episode.onset.ts.getTime() - incident.opened_at.getTime()) /
      60_000,
  );
  await addIncidentEvent(db, {
    incidentId: incident.id,
    kind: "series_joined",
    ...DETECTOR_ACTOR,
    message:
      `Correlated series ${series.metricName} turned anomalous ` +
      `${gapMinutes} min from the incident's onset (grouping window ` +
      `${windowMinutes} min): ${observedVersusExpected(episode.onset)}`,
    data: {
      dedupKey: dedupKeyFor(series.seriesId, episode.onset.ts),
      seriesId: series.seriesId,
      metricName: series.metricName,
      labels: series.labels,
      windowMinutes,
      onset: describePoint(episode.onset),
      peak: describePoint(episode.peak),
    },
  });
  log.info(
    { incidentId: incident.id, onset: episode.onset.ts, windowMinutes },
    "anomaly episode grouped into the service's open incident",
  );
  return { outcome: "joined", incidentId: incident.id };
}

/** Opens an incident for the episode, or returns undefined when its dedup_key exists. */
async function openIncident(
  db: Queryable,
  series: SeriesContext,
  episode: Episode,
  log: Logger,
): Promise<number | undefined> {
  const dedupKey = dedupKeyFor(series.seriesId, episode.onset.ts);
  const title = `Anomaly in ${series.metricName} on ${series.serviceName}`;
  // The onset, not the peak: later points of the episode may raise the peak
  // after this row is written, and the summary must not go stale.
  const summary = `${series.metricName} on ${series.serviceName} turned anomalous: ${observedVersusExpected(episode.onset)}.`;
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
  const incidentId = rows[0]?.id;
  if (incidentId === undefined) return undefined;

  await addIncidentSeries(
    db,
    incidentId,
    series.seriesId,
    episode.onset,
    episode.peak,
  );
  await addIncidentEvent(db, {
    incidentId,
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
  const suspects = await recordSuspectDeployments(db, incidentId, DETECTOR_ACTOR);
  const runbooks = await suggestRunbooks(db, incidentId, {
    serviceSlug: series.serviceSlug,
    metricName: series.metricName,
    labels: series.labels,
  });
  await enqueueAutomaticRunbooks(db, incidentId);
  await enqueueIncidentNotifications(db, incidentId, "opened");
  log.info(
    {
      incidentId,
      onset: episode.onset.ts,
      peakScore: episode.peak.score,
      runbooks: runbooks.map((match) => match.slug),
      suspectDeploymentIds: suspects.map((suspect) => suspect.deploymentId),
    },
    "detector incident opened",
  );
  return incidentId;
}

/**
 * Opens an incident for an episode, adds it to the open incident that lists
 * its series, or groups it into the service's open incident whose onset is
 * within the grouping window. Must run inside a transaction, because it
 * takes the service's grouping lock until commit. A given `logger` must
 * already carry the series id.
 */
export async function recordEpisode(
  db: Queryable,
  series: SeriesContext,
  episode: Episode,
  logger?: Logger,
): Promise<EpisodeOutcome> {
  const log = logger ?? rootLogger.child({ seriesId: series.seriesId });
  await lockServiceGrouping(db, "detector", series.serviceId);
  if (episode.continuesPrevious) {
    const open = await findOpenIncident(db, series.seriesId);
    if (!open) return { outcome: "ignored" };
    await raisePeak(db, open.id, episode.peak.score);
    await markSeriesAnomalous(db, open.id, series.seriesId, episode.peak);
    return { outcome: "joined", incidentId: open.id };
  }

  const recorded = await findRecordedEpisode(
    db,
    series.seriesId,
    episode.onset.ts,
  );
  if (recorded !== undefined) {
    return { outcome: "duplicate", incidentId: recorded };
  }

  const open = await findOpenIncident(db, series.seriesId);
  if (open) return joinIncident(db, open.id, series, episode, log);

  const windowMinutes = await groupingWindowMinutes(db, series.serviceId);
  if (windowMinutes > 0) {
    // NOTE: an incident that recovered and resolved before this episode was
    // scored is no longer open, so a series scored long after the others
    // (a backfill) opens its own incident.
    const group = await findGroupIncident(
      db,
      series.serviceId,
      episode.onset.ts,
      windowMinutes,
    );
    if (group) {
      return joinGroup(db, group, series, episode, windowMinutes, log);
    }
  }

  const incidentId = await openIncident(db, series, episode, log);
  if (incidentId !== undefined) return { outcome: "opened", incidentId };

  // The dedup_key exists without an incident_series row for the episode,
  // which only a hand-edited database leaves.
  const { rows } = await db.query<{ id: number }>(
    "SELECT id FROM incident WHERE dedup_key = $1",
    [dedupKeyFor(series.seriesId, episode.onset.ts)],
  );
  return { outcome: "duplicate", incidentId: rows[0]!.id };
}
