import type pg from "pg";

import type { TrainingMetrics } from "@/lib/detector/model";
import type { Normalization } from "@/lib/detector/normalize";
import type {
  ModelReason,
  ModelStatus,
} from "@/lib/generated/prisma/enums";
import type { Queryable } from "@/lib/incidents/events";
import { lockSeriesInTransaction } from "@/lib/models/series-lock";
import {
  listTrainingJobs,
  type TrainingJob,
} from "@/lib/models/training-jobs";

// What the Models page and GET /api/v1/series/{id}/models show about a
// series' models, and the rollback that activates a copy of an earlier
// version. Weights never leave the database through these functions.

export type ModelVersionSummary = {
  id: number;
  version: number;
  status: ModelStatus;
  reason: ModelReason;
  requestedBy: string;
  kind: string;
  backend: string;
  codeVersion: string;
  windowSize: number;
  trainedFrom: Date;
  trainedTo: Date;
  pointCount: number;
  threshold: number;
  trainingMs: number;
  /** Null for a version whose stored metrics lack the field. */
  finalLoss: number | null;
  epochs: number | null;
  errorQuantiles: TrainingMetrics["errorQuantiles"] | null;
  normalization: Pick<Normalization, "center" | "scale" | "mean" | "std">;
  createdAt: Date;
  activatedAt: Date | null;
  sourceVersion: number | null;
  trainingJobId: number | null;
  holdout: {
    comparedVersion: number | null;
    points: number;
    currentError: number | null;
    candidateError: number | null;
  } | null;
};

export type DriftMeasurement = {
  measuredAt: Date;
  scoredUntil: Date;
  modelVersion: number;
  inputPsi: number | null;
  scorePsi: number | null;
  points: number;
  scorePoints: number;
  pointsSince: number;
  retrainReason: ModelReason | null;
  trainingJobId: number | null;
};

export type SeriesModels = {
  series: {
    id: number;
    name: string;
    labels: Record<string, string>;
    serviceSlug: string;
    serviceName: string;
    scoredUntil: Date | null;
  };
  versions: ModelVersionSummary[];
  trainingJobs: TrainingJob[];
  drift: DriftMeasurement[];
};

type VersionRow = {
  id: number;
  version: number;
  status: ModelStatus;
  reason: ModelReason;
  requested_by: string;
  kind: string;
  backend: string;
  code_version: string;
  window_size: number;
  trained_from: Date;
  trained_to: Date;
  point_count: number;
  threshold: number;
  training_ms: number;
  metrics: TrainingMetrics;
  normalization: Normalization;
  created_at: Date;
  activated_at: Date | null;
  source_version: number | null;
  training_job_id: number | null;
  compared_version: number | null;
  holdout_points: number | null;
  holdout_current_error: number | null;
  holdout_candidate_error: number | null;
};

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function toSummary(row: VersionRow): ModelVersionSummary {
  return {
    id: row.id,
    version: row.version,
    status: row.status,
    reason: row.reason,
    requestedBy: row.requested_by,
    kind: row.kind,
    backend: row.backend,
    codeVersion: row.code_version,
    windowSize: row.window_size,
    trainedFrom: row.trained_from,
    trainedTo: row.trained_to,
    pointCount: row.point_count,
    threshold: row.threshold,
    trainingMs: row.training_ms,
    finalLoss: numberOrNull(row.metrics?.finalLoss),
    epochs: numberOrNull(row.metrics?.epochs),
    errorQuantiles: row.metrics?.errorQuantiles ?? null,
    normalization: {
      center: row.normalization.center,
      scale: row.normalization.scale,
      mean: row.normalization.mean,
      std: row.normalization.std,
    },
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    sourceVersion: row.source_version,
    trainingJobId: row.training_job_id,
    holdout:
      row.holdout_points === null
        ? null
        : {
            comparedVersion: row.compared_version,
            points: row.holdout_points,
            currentError: row.holdout_current_error,
            candidateError: row.holdout_candidate_error,
          },
  };
}

/** Lists a series' model versions, newest first, without their weights. */
export async function listModelVersions(
  db: Queryable,
  seriesId: number,
): Promise<ModelVersionSummary[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT m.id, m.version, m.status, m.reason, m.requested_by, m.kind,
            m.backend, m.code_version, m.window_size, m.trained_from,
            m.trained_to, m.point_count, m.threshold, m.training_ms,
            m.metrics, m.normalization, m.created_at, m.activated_at,
            src.version AS source_version, m.training_job_id,
            cmp.version AS compared_version, m.holdout_points,
            m.holdout_current_error, m.holdout_candidate_error
       FROM model_version m
       LEFT JOIN model_version src ON src.id = m.source_version_id
       LEFT JOIN model_version cmp ON cmp.id = m.compared_version_id
      WHERE m.series_id = $1
      ORDER BY m.version DESC`,
    [seriesId],
  );
  return rows.map(toSummary);
}

/** Loads the newest drift measurements of a series, oldest first. */
export async function listDrift(
  db: Queryable,
  seriesId: number,
  limit = 200,
): Promise<DriftMeasurement[]> {
  const { rows } = await db.query<{
    measured_at: Date;
    scored_until: Date;
    model_version: number;
    input_psi: number | null;
    score_psi: number | null;
    points: number;
    score_points: number;
    points_since: number;
    retrain_reason: ModelReason | null;
    training_job_id: number | null;
  }>(
    `SELECT * FROM (
       SELECT d.measured_at, d.scored_until, m.version AS model_version,
              d.input_psi, d.score_psi, d.points, d.score_points,
              d.points_since, d.retrain_reason, d.training_job_id, d.id
         FROM model_drift d JOIN model_version m ON m.id = d.model_version_id
        WHERE d.series_id = $1
        ORDER BY d.measured_at DESC, d.id DESC LIMIT $2
     ) newest ORDER BY measured_at, id`,
    [seriesId, limit],
  );
  return rows.map((row) => ({
    measuredAt: row.measured_at,
    scoredUntil: row.scored_until,
    modelVersion: row.model_version,
    inputPsi: row.input_psi,
    scorePsi: row.score_psi,
    points: row.points,
    scorePoints: row.score_points,
    pointsSince: row.points_since,
    retrainReason: row.retrain_reason,
    trainingJobId: row.training_job_id,
  }));
}

/** Loads everything shown about one series' models, or null when the
 * series does not exist. */
export async function loadSeriesModels(
  db: Queryable,
  seriesId: number,
): Promise<SeriesModels | null> {
  const { rows } = await db.query<{
    id: number;
    name: string;
    labels: Record<string, string> | null;
    service_slug: string;
    service_name: string;
    scored_until: Date | null;
  }>(
    `SELECT s.id, s.name, s.labels, sv.slug AS service_slug,
            sv.name AS service_name, s.scored_until
       FROM metric_series s JOIN service sv ON sv.id = s.service_id
      WHERE s.id = $1`,
    [seriesId],
  );
  const row = rows[0];
  if (!row) return null;
  const [versions, trainingJobs, drift] = await Promise.all([
    listModelVersions(db, seriesId),
    listTrainingJobs(db, seriesId),
    listDrift(db, seriesId),
  ]);
  return {
    series: {
      id: row.id,
      name: row.name,
      labels: row.labels ?? {},
      serviceSlug: row.service_slug,
      serviceName: row.service_name,
      scoredUntil: row.scored_until,
    },
    versions,
    trainingJobs,
    drift,
  };
}

export type RollbackOutcome =
  | { outcome: "activated"; modelVersionId: number; version: number; sourceVersion: number }
  | { outcome: "not_found" }
  | { outcome: "already_active"; version: number }
  | { outcome: "not_activatable"; status: ModelStatus };

/**
 * Activates an earlier version of a series by storing a copy of it as the
 * next version, with reason rollback, and retiring the active one. Open
 * training jobs of the series are cancelled (marked failed). Copying
 * keeps the version history in order: every activation is a new version.
 * The series' detector state is kept. `db` must be a dedicated connection,
 * because this runs a transaction that waits for the series' lock.
 * NOTE: unlike a retrained version's, the state is not rescaled to the
 * restored version's raw scores, because that would need TensorFlow.js in
 * the web process. Deviations can shift until the history adapts.
 */
export async function rollbackToVersion(
  db: pg.ClientBase,
  seriesId: number,
  version: number,
  requestedBy: string,
): Promise<RollbackOutcome> {
  await db.query("BEGIN");
  try {
    await lockSeriesInTransaction(db, seriesId);
    const { rows } = await db.query<{ id: number; status: ModelStatus }>(
      `SELECT id, status FROM model_version
        WHERE series_id = $1 AND version = $2`,
      [seriesId, version],
    );
    const source = rows[0];
    let outcome: RollbackOutcome;
    if (!source) {
      outcome = { outcome: "not_found" };
    } else if (source.status === "active") {
      outcome = { outcome: "already_active", version };
    } else if (source.status !== "retired" && source.status !== "rejected") {
      outcome = { outcome: "not_activatable", status: source.status };
    } else {
      await db.query(
        `UPDATE model_version SET status = 'retired'
          WHERE series_id = $1 AND status = 'active'`,
        [seriesId],
      );
      // The schedule restarts at the newest point, so that the rolled-back
      // version is not retrained at once for its old training window.
      const inserted = await db.query<{ id: number; version: number }>(
        `INSERT INTO model_version
           (series_id, version, status, kind, backend, code_version,
            window_size, trained_from, trained_to, point_count, topology,
            weight_specs, weights, normalization, metrics, threshold,
            training_ms, reason, requested_by, activated_at, schedule_from,
            source_version_id)
         SELECT src.series_id,
                (SELECT max(version) + 1 FROM model_version WHERE series_id = $1),
                'active', src.kind, src.backend, src.code_version,
                src.window_size, src.trained_from, src.trained_to,
                src.point_count, src.topology, src.weight_specs, src.weights,
                src.normalization, src.metrics, src.threshold,
                src.training_ms, 'rollback', $3, now(),
                GREATEST(src.trained_to,
                         (SELECT max(ts) FROM data_point WHERE series_id = $1)),
                src.id
           FROM model_version src WHERE src.id = $2
         RETURNING id, version`,
        [seriesId, source.id, requestedBy],
      );
      const copy = inserted.rows[0]!;
      // An open training would compare its candidate with the restored
      // version and could replace it at once, undoing the admin's choice.
      // Its running attempt reads the status before storing and stores nothing.
      await db.query(
        `UPDATE model_training_job
            SET status = 'failed', finished_at = now(), updated_at = now(),
                message = $2
          WHERE series_id = $1 AND status IN ('queued', 'running')`,
        [
          seriesId,
          `cancelled: ${requestedBy} rolled back to version ${version} (stored as version ${copy.version})`,
        ],
      );
      outcome = {
        outcome: "activated",
        modelVersionId: copy.id,
        version: copy.version,
        sourceVersion: version,
      };
    }
    await db.query(outcome.outcome === "activated" ? "COMMIT" : "ROLLBACK");
    return outcome;
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
