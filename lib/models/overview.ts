import type {
  ModelReason,
  TrainingJobStatus,
} from "@/lib/generated/prisma/enums";
import type { Queryable } from "@/lib/incidents/events";

// One row per series for the Models page: its serving version, that
// version's newest drift measurement, open or newest training job and
// flagged candidates.

/** Maximum rows listed. The page shows the total when more series exist. */
export const OVERVIEW_LIMIT = 500;

export type SeriesModelOverview = {
  seriesId: number;
  seriesName: string;
  labels: Record<string, string>;
  serviceSlug: string;
  serviceName: string;
  active: {
    id: number;
    version: number;
    reason: ModelReason;
    activatedAt: Date | null;
    createdAt: Date;
    threshold: number;
    backend: string;
  } | null;
  versionCount: number;
  rejectedCount: number;
  drift: {
    measuredAt: Date;
    inputPsi: number | null;
    scorePsi: number | null;
    retrainReason: ModelReason | null;
  } | null;
  job: {
    id: number;
    status: TrainingJobStatus;
    reason: ModelReason;
    epochsDone: number;
    epochsTotal: number | null;
    message: string | null;
    updatedAt: Date;
  } | null;
};

type OverviewRow = {
  series_id: number;
  series_name: string;
  labels: Record<string, string> | null;
  service_slug: string;
  service_name: string;
  active_id: number | null;
  active_version: number | null;
  active_reason: ModelReason | null;
  active_activated_at: Date | null;
  active_created_at: Date | null;
  active_threshold: number | null;
  active_backend: string | null;
  version_count: number;
  rejected_count: number;
  drift_measured_at: Date | null;
  drift_input_psi: number | null;
  drift_score_psi: number | null;
  drift_reason: ModelReason | null;
  job_id: number | null;
  job_status: TrainingJobStatus | null;
  job_reason: ModelReason | null;
  job_epochs_done: number | null;
  job_epochs_total: number | null;
  job_message: string | null;
  job_updated_at: Date | null;
};

/**
 * Lists the series that have a model version or a training job, by
 * service and name, at most OVERVIEW_LIMIT of them, and their total count.
 */
export async function listModelOverview(
  db: Queryable,
): Promise<{ rows: SeriesModelOverview[]; total: number }> {
  const modelled = `
    SELECT s.id, s.name, s.labels, sv.slug, sv.name AS service_name
      FROM metric_series s JOIN service sv ON sv.id = s.service_id
     WHERE EXISTS (SELECT 1 FROM model_version m WHERE m.series_id = s.id)
        OR EXISTS (SELECT 1 FROM model_training_job t WHERE t.series_id = s.id)`;
  const counted = await db.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM (${modelled}) x`,
  );
  // The limit applies before the per-series lookups, so the page stays
  // quick however many series have models.
  const { rows } = await db.query<OverviewRow>(
    `WITH modelled AS (
       ${modelled}
       ORDER BY sv.slug, s.name, s.id
       LIMIT $1
     )
     SELECT x.id AS series_id, x.name AS series_name, x.labels,
            x.slug AS service_slug, x.service_name,
            a.id AS active_id, a.version AS active_version,
            a.reason AS active_reason, a.activated_at AS active_activated_at,
            a.created_at AS active_created_at, a.threshold AS active_threshold,
            a.backend AS active_backend,
            (SELECT count(*)::int FROM model_version m WHERE m.series_id = x.id)
              AS version_count,
            (SELECT count(*)::int FROM model_version m
              WHERE m.series_id = x.id AND m.status = 'rejected')
              AS rejected_count,
            d.measured_at AS drift_measured_at, d.input_psi AS drift_input_psi,
            d.score_psi AS drift_score_psi, d.retrain_reason AS drift_reason,
            j.id AS job_id, j.status AS job_status, j.reason AS job_reason,
            j.epochs_done AS job_epochs_done, j.epochs_total AS job_epochs_total,
            j.message AS job_message, j.updated_at AS job_updated_at
       FROM modelled x
       LEFT JOIN LATERAL (
         SELECT id, version, reason, activated_at, created_at, threshold, backend
           FROM model_version
          WHERE series_id = x.id AND status = 'active'
          ORDER BY version DESC LIMIT 1) a ON true
       -- Drift of the serving version only: a newer version has no drift
       -- row until the worker measures it, and the old version's rows
       -- describe a model that no longer serves.
       LEFT JOIN LATERAL (
         SELECT measured_at, input_psi, score_psi, retrain_reason
           FROM model_drift
          WHERE series_id = x.id AND model_version_id = a.id
          ORDER BY measured_at DESC, id DESC LIMIT 1) d ON true
       LEFT JOIN LATERAL (
         SELECT id, status, reason, epochs_done, epochs_total, message, updated_at
           FROM model_training_job WHERE series_id = x.id
          ORDER BY (status IN ('queued', 'running')) DESC, created_at DESC, id DESC
          LIMIT 1) j ON true
      ORDER BY x.slug, x.name, x.id`,
    [OVERVIEW_LIMIT],
  );
  return {
    total: counted.rows[0]!.total,
    rows: rows.map((row) => ({
      seriesId: row.series_id,
      seriesName: row.series_name,
      labels: row.labels ?? {},
      serviceSlug: row.service_slug,
      serviceName: row.service_name,
      active:
        row.active_id === null
          ? null
          : {
              id: row.active_id,
              version: row.active_version!,
              reason: row.active_reason!,
              activatedAt: row.active_activated_at,
              createdAt: row.active_created_at!,
              threshold: row.active_threshold!,
              backend: row.active_backend!,
            },
      versionCount: row.version_count,
      rejectedCount: row.rejected_count,
      drift:
        row.drift_measured_at === null
          ? null
          : {
              measuredAt: row.drift_measured_at,
              inputPsi: row.drift_input_psi,
              scorePsi: row.drift_score_psi,
              retrainReason: row.drift_reason,
            },
      job:
        row.job_id === null
          ? null
          : {
              id: row.job_id,
              status: row.job_status!,
              reason: row.job_reason!,
              epochsDone: row.job_epochs_done!,
              epochsTotal: row.job_epochs_total,
              message: row.job_message,
              updatedAt: row.job_updated_at!,
            },
    })),
  };
}
