-- Model lifecycle: why each model version exists, how a retrained candidate
-- compared with the serving version on held-out points, the drift measured
-- while a version serves, and the training jobs with their progress.

-- A candidate that lost the holdout comparison is kept with status
-- 'rejected', so that people can see it and an admin can still activate it.
ALTER TYPE "ModelStatus" ADD VALUE 'rejected';

CREATE TYPE "ModelReason" AS ENUM ('initial', 'schedule', 'drift', 'request', 'rollback');

CREATE TYPE "TrainingJobStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed');

CREATE TABLE "model_training_job" (
    "id" SERIAL NOT NULL,
    "series_id" INTEGER NOT NULL,
    "reason" "ModelReason" NOT NULL,
    "requested_by_type" "ActorType" NOT NULL,
    "requested_by_id" INTEGER,
    "requested_by_name" TEXT NOT NULL,
    "status" "TrainingJobStatus" NOT NULL DEFAULT 'queued',
    "epochs_done" INTEGER NOT NULL DEFAULT 0,
    "epochs_total" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "message" TEXT,
    "data_until" TIMESTAMPTZ(3),
    "model_version_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_training_job_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "model_training_job_series_id_created_at_idx"
    ON "model_training_job"("series_id", "created_at");

-- At most one open job per series: a second request while one is queued or
-- running returns that job instead of training twice.
CREATE UNIQUE INDEX "model_training_job_one_open_per_series"
    ON "model_training_job"("series_id")
    WHERE "status" IN ('queued', 'running');

ALTER TABLE "model_training_job"
    ADD CONSTRAINT "model_training_job_series_id_fkey" FOREIGN KEY ("series_id")
    REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "model_version"
    ADD COLUMN "reason" "ModelReason" NOT NULL DEFAULT 'initial',
    ADD COLUMN "requested_by" TEXT NOT NULL DEFAULT 'worker',
    ADD COLUMN "activated_at" TIMESTAMPTZ(3),
    ADD COLUMN "schedule_from" TIMESTAMPTZ(3),
    ADD COLUMN "source_version_id" INTEGER,
    ADD COLUMN "training_job_id" INTEGER,
    ADD COLUMN "compared_version_id" INTEGER,
    ADD COLUMN "holdout_points" INTEGER,
    ADD COLUMN "holdout_current_error" DOUBLE PRECISION,
    ADD COLUMN "holdout_candidate_error" DOUBLE PRECISION;

-- Versions stored before this migration served from their creation. A NULL
-- schedule_from counts the schedule from trained_to.
UPDATE "model_version" SET "activated_at" = "created_at"
 WHERE "status" IN ('active', 'retired');

ALTER TABLE "model_version"
    ADD CONSTRAINT "model_version_source_version_id_fkey" FOREIGN KEY ("source_version_id")
    REFERENCES "model_version"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    ADD CONSTRAINT "model_version_compared_version_id_fkey" FOREIGN KEY ("compared_version_id")
    REFERENCES "model_version"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    ADD CONSTRAINT "model_version_training_job_id_fkey" FOREIGN KEY ("training_job_id")
    REFERENCES "model_training_job"("id") ON DELETE SET NULL ON UPDATE CASCADE;

ALTER TABLE "model_training_job"
    ADD CONSTRAINT "model_training_job_model_version_id_fkey" FOREIGN KEY ("model_version_id")
    REFERENCES "model_version"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "model_drift" (
    "id" SERIAL NOT NULL,
    "series_id" INTEGER NOT NULL,
    "model_version_id" INTEGER NOT NULL,
    "measured_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "scored_until" TIMESTAMPTZ(3) NOT NULL,
    "input_psi" DOUBLE PRECISION,
    "score_psi" DOUBLE PRECISION,
    "points" INTEGER NOT NULL,
    "score_points" INTEGER NOT NULL,
    "points_since" INTEGER NOT NULL,
    "retrain_reason" "ModelReason",
    "training_job_id" INTEGER,

    CONSTRAINT "model_drift_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "model_drift_series_id_measured_at_idx"
    ON "model_drift"("series_id", "measured_at");

ALTER TABLE "model_drift"
    ADD CONSTRAINT "model_drift_series_id_fkey" FOREIGN KEY ("series_id")
    REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    ADD CONSTRAINT "model_drift_model_version_id_fkey" FOREIGN KEY ("model_version_id")
    REFERENCES "model_version"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    ADD CONSTRAINT "model_drift_training_job_id_fkey" FOREIGN KEY ("training_job_id")
    REFERENCES "model_training_job"("id") ON DELETE SET NULL ON UPDATE CASCADE;
