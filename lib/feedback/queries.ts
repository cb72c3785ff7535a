import { getPool } from "@/lib/db";
import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import {
  feedbackPrecision,
  type ModelVersionPrecision,
  type SeriesPrecision,
} from "@/lib/feedback/precision";
import type { FeedbackVerdict } from "@/lib/feedback/record";

// Read models for the feedback panel and the likelihood in the incident's
// explanation.

export type FeedbackEntry = {
  id: number;
  verdict: FeedbackVerdict;
  comment: string | null;
  actorName: string;
  createdAt: Date;
};

/** A scored point's anomaly likelihood and the deviation behind it. */
export type LikelihoodPoint = {
  ts: Date;
  likelihood: number;
  /** Standard deviations of the recent raw scores above the series'
   * history; null during the detector's warm-up. */
  deviation: number | null;
};

export type IncidentFeedbackView = {
  /** Every verdict, newest first; the first one counts. */
  history: FeedbackEntry[];
  /** Alarm threshold in effect for the series, the default when unset. */
  alarmThreshold: number;
  /** True when feedback has set the threshold, false for the default. */
  thresholdFromFeedback: boolean;
  onset: LikelihoodPoint | null;
  /** Point with the highest likelihood between the onset and the
   * resolution, or every point scored so far for an open incident. */
  peak: LikelihoodPoint | null;
  seriesPrecision: SeriesPrecision | null;
  /** Precision of the model version that scored the onset. */
  modelPrecision: ModelVersionPrecision | null;
  onsetModelVersion: { id: number; version: number } | null;
};

type LikelihoodRow = {
  ts: Date;
  likelihood: number;
  deviation: number | null;
  model_version_id: number;
  version: number;
};

function toLikelihoodPoint(row: LikelihoodRow | undefined) {
  if (!row) return null;
  return { ts: row.ts, likelihood: row.likelihood, deviation: row.deviation };
}

/** Loads the verdicts, threshold, likelihoods and precision for a
 * detector incident of `seriesId`. */
export async function getIncidentFeedbackView(incident: {
  id: number;
  seriesId: number;
  openedAt: Date;
  resolvedAt: Date | null;
}): Promise<IncidentFeedbackView> {
  const pool = getPool();
  const likelihoodColumns = `s.ts, s.likelihood, s.deviation,
    s.model_version_id, m.version
    FROM anomaly_score s JOIN model_version m ON m.id = s.model_version_id`;

  const [history, series, onset, peak] = await Promise.all([
    pool.query<{
      id: number;
      verdict: FeedbackVerdict;
      comment: string | null;
      actor_name: string;
      created_at: Date;
    }>(
      `SELECT id, verdict, comment, actor_name, created_at
         FROM incident_feedback WHERE incident_id = $1 ORDER BY id DESC`,
      [incident.id],
    ),
    pool.query<{ alarm_threshold: number | null }>(
      "SELECT alarm_threshold FROM metric_series WHERE id = $1",
      [incident.seriesId],
    ),
    pool.query<LikelihoodRow>(
      `SELECT ${likelihoodColumns}
        WHERE s.series_id = $1 AND s.ts = $2`,
      [incident.seriesId, incident.openedAt],
    ),
    pool.query<LikelihoodRow>(
      `SELECT ${likelihoodColumns}
        WHERE s.series_id = $1 AND s.ts >= $2
          AND ($3::timestamptz IS NULL OR s.ts <= $3)
        ORDER BY s.likelihood DESC, s.ts ASC LIMIT 1`,
      [incident.seriesId, incident.openedAt, incident.resolvedAt],
    ),
  ]);

  const onsetRow = onset.rows[0];
  const precision = await feedbackPrecision(pool, {
    seriesIds: [incident.seriesId],
  });
  const stored = series.rows[0]?.alarm_threshold ?? null;

  return {
    history: history.rows.map((row) => ({
      id: row.id,
      verdict: row.verdict,
      comment: row.comment,
      actorName: row.actor_name,
      createdAt: row.created_at,
    })),
    alarmThreshold: stored ?? DEFAULT_SETTINGS.alarmThreshold,
    thresholdFromFeedback: stored !== null,
    onset: toLikelihoodPoint(onsetRow),
    peak: toLikelihoodPoint(peak.rows[0]),
    seriesPrecision: precision.series[0] ?? null,
    modelPrecision:
      precision.modelVersions.find(
        (entry) => entry.modelVersionId === onsetRow?.model_version_id,
      ) ?? null,
    onsetModelVersion: onsetRow
      ? { id: onsetRow.model_version_id, version: onsetRow.version }
      : null,
  };
}

/** Loads the likelihood of one scored point, or null when it was not scored. */
export async function getLikelihoodAt(
  seriesId: number,
  ts: Date,
): Promise<number | null> {
  const { rows } = await getPool().query<{ likelihood: number }>(
    "SELECT likelihood FROM anomaly_score WHERE series_id = $1 AND ts = $2",
    [seriesId, ts],
  );
  return rows[0]?.likelihood ?? null;
}
