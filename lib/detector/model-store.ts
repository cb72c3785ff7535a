import type pg from "pg";

import type { ModelRecord, TrainingMetrics } from "@/lib/detector/model";
import type { Normalization } from "@/lib/detector/normalize";
import type { ModelReason } from "@/lib/generated/prisma/enums";
import type { Queryable } from "@/lib/incidents/events";

// Reads and writes model_version rows with plain SQL, so that the worker can
// store a model in the same transaction as the scores it produces.

export type StoredModel = { id: number; version: number; record: ModelRecord };

type ModelVersionRow = {
  id: number;
  version: number;
  kind: string;
  backend: string;
  window_size: number;
  topology: object;
  weight_specs: ModelRecord["weightSpecs"];
  weights: Buffer;
  normalization: Normalization;
  metrics: TrainingMetrics;
  threshold: number;
  training_ms: number;
};

const MODEL_COLUMNS = `id, version, kind, backend, window_size, topology,
  weight_specs, weights, normalization, metrics, threshold, training_ms`;

function toStoredModel(row: ModelVersionRow): StoredModel {
  return {
    id: row.id,
    version: row.version,
    record: {
      kind: row.kind,
      topology: row.topology,
      weightSpecs: row.weight_specs,
      weights: new Uint8Array(row.weights),
      normalization: row.normalization,
      metrics: row.metrics,
      threshold: row.threshold,
      windowSize: row.window_size,
      backend: row.backend,
      trainingMs: row.training_ms,
    },
  };
}

/** Returns the newest active model version of a series, if any. */
export async function loadActiveModel(
  db: Queryable,
  seriesId: number,
): Promise<StoredModel | null> {
  const { rows } = await db.query<ModelVersionRow>(
    `SELECT ${MODEL_COLUMNS}
       FROM model_version
      WHERE series_id = $1 AND status = 'active'
      ORDER BY version DESC
      LIMIT 1`,
    [seriesId],
  );
  return rows[0] ? toStoredModel(rows[0]) : null;
}

/** Returns one model version of a series by its version number, if any. */
export async function loadModelVersion(
  db: Queryable,
  seriesId: number,
  version: number,
): Promise<StoredModel | null> {
  const { rows } = await db.query<ModelVersionRow>(
    `SELECT ${MODEL_COLUMNS}
       FROM model_version
      WHERE series_id = $1 AND version = $2`,
    [seriesId, version],
  );
  return rows[0] ? toStoredModel(rows[0]) : null;
}

export type TrainingSpan = {
  trainedFrom: Date;
  trainedTo: Date;
  pointCount: number;
  codeVersion: string;
};

/** Holdout comparison of a retrained candidate with the serving version. */
export type HoldoutEvaluation = {
  /** Version that was serving when the candidate was compared; null when
   * the series had none. */
  comparedVersionId: number | null;
  points: number;
  /** Mean squared forecast residuals in the series' units squared; NaN is
   * stored as null. */
  currentError: number;
  candidateError: number;
};

export type StoreOptions = {
  /** "active" retires the versions active before; "rejected" keeps them. */
  status?: "active" | "rejected";
  reason?: ModelReason;
  requestedBy?: string;
  /** Start of the retraining schedule; null counts from trainedTo. */
  scheduleFrom?: Date | null;
  sourceVersionId?: number | null;
  trainingJobId?: number | null;
  evaluation?: HoldoutEvaluation | null;
};

function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

/**
 * Stores a trained model as the series' next version. An active version
 * retires the versions that were active before; a rejected one changes
 * nothing else. Returns the new row's id and version.
 */
export async function storeModelVersion(
  db: Pick<pg.ClientBase, "query">,
  seriesId: number,
  record: ModelRecord,
  span: TrainingSpan,
  options: StoreOptions = {},
): Promise<{ id: number; version: number }> {
  const status = options.status ?? "active";
  if (status === "active") {
    await db.query(
      `UPDATE model_version SET status = 'retired'
        WHERE series_id = $1 AND status = 'active'`,
      [seriesId],
    );
  }
  const evaluation = options.evaluation ?? null;
  const { rows } = await db.query<{ id: number; version: number }>(
    `INSERT INTO model_version
       (series_id, version, status, kind, backend, code_version, window_size,
        trained_from, trained_to, point_count, topology, weight_specs,
        weights, normalization, metrics, threshold, training_ms,
        reason, requested_by, activated_at, schedule_from, source_version_id,
        training_job_id, compared_version_id, holdout_points,
        holdout_current_error, holdout_candidate_error)
     SELECT $1, COALESCE(MAX(version), 0) + 1, $16::"ModelStatus", $2, $3, $4,
            $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12::jsonb, $13::jsonb,
            $14, $15, $17::"ModelReason", $18,
            CASE WHEN $16 = 'active' THEN now() END, $19, $20, $21, $22, $23,
            $24, $25
       FROM model_version WHERE series_id = $1
     RETURNING id, version`,
    [
      seriesId,
      record.kind,
      record.backend,
      span.codeVersion,
      record.windowSize,
      span.trainedFrom,
      span.trainedTo,
      span.pointCount,
      JSON.stringify(record.topology),
      JSON.stringify(record.weightSpecs),
      Buffer.from(record.weights),
      JSON.stringify(record.normalization),
      JSON.stringify(record.metrics),
      record.threshold,
      record.trainingMs,
      status,
      options.reason ?? "initial",
      options.requestedBy ?? "worker",
      options.scheduleFrom ?? null,
      options.sourceVersionId ?? null,
      options.trainingJobId ?? null,
      evaluation?.comparedVersionId ?? null,
      evaluation?.points ?? null,
      finiteOrNull(evaluation?.currentError),
      finiteOrNull(evaluation?.candidateError),
    ],
  );
  return rows[0]!;
}
