import { getConfig } from "@/lib/config";
import type { Queryable } from "@/lib/incidents/events";

// Grouping of anomaly episodes on several series of one service into one
// detector incident, and the service-wide lock that makes it race-safe.
//
// A series belongs to an incident through a row of incident_series. An
// episode of a series that belongs to an open detector incident joins that
// incident. An episode of another series of the same service joins the open
// detector incident whose onset (opened_at) lies within the grouping window
// of the episode's onset. Otherwise it opens a new incident. Both times are
// data times, so grouping does not depend on when the worker scores.
//
// Every worker takes a transaction-scoped advisory lock on the service before
// it looks for an incident to join and holds it until commit. So two workers
// scoring two series of one service cannot both miss each other's new
// incident, and recovery sees the recovered_at of every series of the
// incident as committed.

// First keys of the two-key advisory locks on a service, one for detector
// grouping and one for alert grouping, so that a long scoring transaction
// does not hold up alert webhooks. "VGd" and "VGa" in ASCII; the series lock
// of workers/score-series.ts uses 0x5647 ("VG").
const DETECTOR_GROUPING_LOCK_CLASS = 0x564764;
const ALERT_GROUPING_LOCK_CLASS = 0x564761;
// SLO burns of one service (lib/slo/burns.ts), "VGs" in ASCII.
const SLO_GROUPING_LOCK_CLASS = 0x564773;

export type GroupingSource = "detector" | "alert" | "slo";

const GROUPING_LOCK_CLASSES: Record<GroupingSource, number> = {
  detector: DETECTOR_GROUPING_LOCK_CLASS,
  alert: ALERT_GROUPING_LOCK_CLASS,
  slo: SLO_GROUPING_LOCK_CLASS,
};

/**
 * Takes the grouping lock of one service until the end of the caller's
 * transaction. Outside a transaction the lock would end with the statement,
 * so callers must be inside one.
 */
export async function lockServiceGrouping(
  db: Queryable,
  source: GroupingSource,
  serviceId: number,
): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock($1, $2)", [
    GROUPING_LOCK_CLASSES[source],
    serviceId,
  ]);
}

/**
 * Returns the service's grouping window in minutes: its own
 * grouping_window_minutes, else VIGIL_GROUPING_WINDOW_MINUTES. 0 turns
 * grouping off.
 */
export async function groupingWindowMinutes(
  db: Queryable,
  serviceId: number,
): Promise<number> {
  const { rows } = await db.query<{ grouping_window_minutes: number | null }>(
    "SELECT grouping_window_minutes FROM service WHERE id = $1",
    [serviceId],
  );
  return (
    rows[0]?.grouping_window_minutes ??
    getConfig().VIGIL_GROUPING_WINDOW_MINUTES
  );
}

export type OpenIncidentRow = {
  id: number;
  status: "triggered" | "acknowledged";
  peak_score: number | null;
  opened_at: Date;
};

/**
 * Locks and returns the open detector incident that lists the series, or
 * whose series_id it is, if any. A reopened incident can make two of them
 * open at once, and the newest wins then. Also adds the series to the
 * incident's incident_series rows when only series_id names it, as for an
 * incident inserted without them.
 */
export async function findOpenIncident(
  db: Queryable,
  seriesId: number,
): Promise<OpenIncidentRow | undefined> {
  const { rows } = await db.query<OpenIncidentRow>(
    `SELECT i.id, i.status, i.peak_score, i.opened_at
       FROM incident i
      WHERE i.source = 'detector' AND i.status <> 'resolved'
        AND (i.series_id = $1
             OR EXISTS (SELECT 1 FROM incident_series s
                         WHERE s.incident_id = i.id AND s.series_id = $1))
      ORDER BY i.opened_at DESC, i.id DESC
      LIMIT 1
      FOR UPDATE OF i`,
    [seriesId],
  );
  const open = rows[0];
  if (open) {
    // No conflict target: a row for this incident and series, or for this
    // series and onset, means the series is listed already.
    await db.query(
      `INSERT INTO incident_series
         (incident_id, series_id, onset_at, peak_score, peak_at)
       VALUES ($1, $2, $3, COALESCE($4::float8, 0), $3)
       ON CONFLICT DO NOTHING`,
      [open.id, seriesId, open.opened_at, open.peak_score],
    );
  }
  return open;
}

/**
 * Locks and returns the open detector incident of the service whose onset
 * lies within `windowMinutes` of `onset`, the nearest one when several do.
 */
export async function findGroupIncident(
  db: Queryable,
  serviceId: number,
  onset: Date,
  windowMinutes: number,
): Promise<OpenIncidentRow | undefined> {
  const { rows } = await db.query<OpenIncidentRow>(
    `SELECT id, status, peak_score, opened_at
       FROM incident
      WHERE service_id = $1 AND source = 'detector' AND status <> 'resolved'
        AND opened_at BETWEEN $2::timestamptz - make_interval(mins => $3)
                          AND $2::timestamptz + make_interval(mins => $3)
      ORDER BY abs(extract(epoch FROM opened_at - $2::timestamptz)), id
      LIMIT 1
      FOR UPDATE`,
    [serviceId, onset, windowMinutes],
  );
  return rows[0];
}

/**
 * Returns the incident that already records the episode of this series with
 * this onset, or undefined. A rescore or a retried job then adds nothing.
 */
export async function findRecordedEpisode(
  db: Queryable,
  seriesId: number,
  onset: Date,
): Promise<number | undefined> {
  const { rows } = await db.query<{ incident_id: number }>(
    `SELECT incident_id FROM incident_series
      WHERE series_id = $1 AND onset_at = $2`,
    [seriesId, onset],
  );
  return rows[0]?.incident_id;
}

export type EpisodePoint = { ts: Date; score: number };

/** Adds a series to an incident, or does nothing when it is listed already. */
export async function addIncidentSeries(
  db: Queryable,
  incidentId: number,
  seriesId: number,
  onset: EpisodePoint,
  peak: EpisodePoint,
): Promise<void> {
  await db.query(
    `INSERT INTO incident_series
       (incident_id, series_id, onset_at, peak_score, peak_at, joined_at)
     VALUES ($1, $2, $3, $4, $5, clock_timestamp())
     ON CONFLICT (incident_id, series_id) DO NOTHING`,
    [incidentId, seriesId, onset.ts, peak.score, peak.ts],
  );
}

/**
 * Marks the series of an incident anomalous again and raises its peak, for
 * a new or continued episode of a series the incident lists.
 */
export async function markSeriesAnomalous(
  db: Queryable,
  incidentId: number,
  seriesId: number,
  peak: EpisodePoint,
): Promise<void> {
  await db.query(
    `UPDATE incident_series
        SET recovered_at = NULL,
            peak_at = CASE WHEN $3 > peak_score THEN $4 ELSE peak_at END,
            peak_score = GREATEST(peak_score, $3)
      WHERE incident_id = $1 AND series_id = $2`,
    [incidentId, seriesId, peak.score, peak.ts],
  );
}

/** Records when the series of an incident got back to normal. */
export async function markSeriesRecovered(
  db: Queryable,
  incidentId: number,
  seriesId: number,
  recoveredAt: Date,
): Promise<void> {
  await db.query(
    `UPDATE incident_series SET recovered_at = $3
      WHERE incident_id = $1 AND series_id = $2`,
    [incidentId, seriesId, recoveredAt],
  );
}
