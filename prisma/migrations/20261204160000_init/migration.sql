-- CreateEnum
CREATE TYPE "Role" AS ENUM ('admin', 'responder', 'viewer');

-- CreateEnum
CREATE TYPE "TokenScope" AS ENUM ('ingest', 'admin');

-- CreateEnum
CREATE TYPE "IncidentStatus" AS ENUM ('triggered', 'acknowledged', 'resolved');

-- CreateEnum
CREATE TYPE "Severity" AS ENUM ('sev1', 'sev2', 'sev3', 'sev4');

-- CreateEnum
CREATE TYPE "IncidentSource" AS ENUM ('detector', 'alert', 'manual');

-- CreateEnum
CREATE TYPE "ActorType" AS ENUM ('user', 'token', 'worker', 'system');

-- CreateEnum
CREATE TYPE "ModelStatus" AS ENUM ('training', 'active', 'retired', 'failed');

-- CreateTable
CREATE TABLE "user_account" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'viewer',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_token" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "scope" "TokenScope" NOT NULL DEFAULT 'ingest',
    "service_id" INTEGER,
    "created_by_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service" (
    "id" SERIAL NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "request_metric" TEXT,
    "error_metric" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "metric_series" (
    "id" SERIAL NOT NULL,
    "service_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "labels_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_point_at" TIMESTAMPTZ(3),
    "scored_until" TIMESTAMPTZ(3),

    CONSTRAINT "metric_series_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "data_point" (
    "series_id" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "data_point_pkey" PRIMARY KEY ("series_id","ts")
);

-- CreateTable
CREATE TABLE "anomaly_score" (
    "series_id" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "model_version_id" INTEGER NOT NULL,
    "error" DOUBLE PRECISION NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "is_anomaly" BOOLEAN NOT NULL,
    "expected_low" DOUBLE PRECISION,
    "expected_high" DOUBLE PRECISION,

    CONSTRAINT "anomaly_score_pkey" PRIMARY KEY ("series_id","ts")
);

-- CreateTable
CREATE TABLE "model_version" (
    "id" SERIAL NOT NULL,
    "series_id" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "status" "ModelStatus" NOT NULL DEFAULT 'training',
    "kind" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "code_version" TEXT NOT NULL,
    "window_size" INTEGER NOT NULL,
    "trained_from" TIMESTAMPTZ(3) NOT NULL,
    "trained_to" TIMESTAMPTZ(3) NOT NULL,
    "point_count" INTEGER NOT NULL,
    "topology" JSONB NOT NULL,
    "weight_specs" JSONB NOT NULL,
    "weights" BYTEA NOT NULL,
    "normalization" JSONB NOT NULL,
    "metrics" JSONB NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "training_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployment" (
    "id" SERIAL NOT NULL,
    "service_id" INTEGER NOT NULL,
    "version" TEXT NOT NULL,
    "environment" TEXT NOT NULL DEFAULT 'production',
    "status" TEXT NOT NULL DEFAULT 'success',
    "deployed_at" TIMESTAMPTZ(3) NOT NULL,
    "commit_sha" TEXT,
    "description" TEXT,
    "external_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incident" (
    "id" SERIAL NOT NULL,
    "service_id" INTEGER NOT NULL,
    "series_id" INTEGER,
    "title" TEXT NOT NULL,
    "status" "IncidentStatus" NOT NULL DEFAULT 'triggered',
    "severity" "Severity" NOT NULL DEFAULT 'sev3',
    "source" "IncidentSource" NOT NULL,
    "service_impacting" BOOLEAN NOT NULL DEFAULT true,
    "dedup_key" TEXT NOT NULL,
    "summary" TEXT,
    "peak_score" DOUBLE PRECISION,
    "opened_at" TIMESTAMPTZ(3) NOT NULL,
    "acknowledged_at" TIMESTAMPTZ(3),
    "acknowledged_by_id" INTEGER,
    "resolved_at" TIMESTAMPTZ(3),
    "resolved_by_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incident_event" (
    "id" SERIAL NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" INTEGER,
    "actor_name" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runbook" (
    "id" SERIAL NOT NULL,
    "slug" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "services" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "metric_pattern" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runbook_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incident_runbook" (
    "incident_id" INTEGER NOT NULL,
    "runbook_id" INTEGER NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "incident_runbook_pkey" PRIMARY KEY ("incident_id","runbook_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_account_email_key" ON "user_account"("email");

-- CreateIndex
CREATE UNIQUE INDEX "api_token_token_hash_key" ON "api_token"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "service_slug_key" ON "service"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "metric_series_service_id_name_labels_key_key" ON "metric_series"("service_id", "name", "labels_key");

-- CreateIndex
CREATE UNIQUE INDEX "model_version_series_id_version_key" ON "model_version"("series_id", "version");

-- CreateIndex
CREATE INDEX "deployment_service_id_deployed_at_idx" ON "deployment"("service_id", "deployed_at");

-- CreateIndex
CREATE UNIQUE INDEX "deployment_service_id_external_id_key" ON "deployment"("service_id", "external_id");

-- CreateIndex
CREATE UNIQUE INDEX "incident_dedup_key_key" ON "incident"("dedup_key");

-- CreateIndex
CREATE INDEX "incident_service_id_opened_at_idx" ON "incident"("service_id", "opened_at");

-- CreateIndex
CREATE INDEX "incident_status_idx" ON "incident"("status");

-- CreateIndex
CREATE INDEX "incident_event_incident_id_created_at_idx" ON "incident_event"("incident_id", "created_at");

-- AddForeignKey
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "metric_series" ADD CONSTRAINT "metric_series_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "data_point" ADD CONSTRAINT "data_point_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "anomaly_score" ADD CONSTRAINT "anomaly_score_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "anomaly_score" ADD CONSTRAINT "anomaly_score_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_version"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_version" ADD CONSTRAINT "model_version_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident" ADD CONSTRAINT "incident_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident" ADD CONSTRAINT "incident_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident" ADD CONSTRAINT "incident_acknowledged_by_id_fkey" FOREIGN KEY ("acknowledged_by_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident" ADD CONSTRAINT "incident_resolved_by_id_fkey" FOREIGN KEY ("resolved_by_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident_event" ADD CONSTRAINT "incident_event_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident_runbook" ADD CONSTRAINT "incident_runbook_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident_runbook" ADD CONSTRAINT "incident_runbook_runbook_id_fkey" FOREIGN KEY ("runbook_id") REFERENCES "runbook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- At most one open detector incident per series: a later anomaly episode on a
-- series whose incident is still open joins that incident. Prisma's schema
-- language has no partial indexes, so this one lives only here.
CREATE UNIQUE INDEX "incident_open_detector_series_key" ON "incident"("series_id")
    WHERE "source" = 'detector' AND "status" <> 'resolved';
