import type pg from "pg";

import type { ModelRecord, TrainingMetrics } from "@/lib/detector/model";
import type { Normalization } from "@/lib/detector/normalize";
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

/** Returns the newest active model version of a series, if any. */
export async function loadActiveModel(
  db: Queryable,
  seriesId: number,
): Promise<StoredModel | null> {
  const { rows } = await db.query<ModelVersionRow>(
    `SELECT id, version, kind, backend, window_size, topology, weight_specs,
            weights, normalization, metrics, threshold, training_ms
       FROM model_version
      WHERE series_id = $1 AND status = 'active'
      ORDER BY version DESC
      LIMIT 1`,
    [seriesId],
  );
  const row = rows[0];
  if (!row) return null;
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

export type TrainingSpan = {
  trainedFrom: Date;
  trainedTo: Date;
  pointCount: number;
  codeVersion: string;
};

/**
 * Stores a trained model as the series' next version, active, and retires
 * the versions that were active before. Returns the new row's id and version.
 */
export async function storeModelVersion(
  db: Pick<pg.ClientBase, "query">,
  seriesId: number,
  record: ModelRecord,
  span: TrainingSpan,
): Promise<{ id: number; version: number }> {
  await db.query(
    `UPDATE model_version SET status = 'retired'
      WHERE series_id = $1 AND status = 'active'`,
    [seriesId],
  );
  const { rows } = await db.query<{ id: number; version: number }>(
    `INSERT INTO model_version
       (series_id, version, status, kind, backend, code_version, window_size,
        trained_from, trained_to, point_count, topology, weight_specs,
        weights, normalization, metrics, threshold, training_ms)
     SELECT $1, COALESCE(MAX(version), 0) + 1, 'active', $2, $3, $4, $5,
            $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12::jsonb, $13::jsonb,
            $14, $15
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
    ],
  );
  return rows[0]!;
}
