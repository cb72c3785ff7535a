-- Service level objectives and the fast burns that opened incidents.
ALTER TYPE "IncidentSource" ADD VALUE 'slo';

CREATE TYPE "SloKind" AS ENUM ('availability', 'latency');

CREATE TYPE "SloAvailabilitySource" AS ENUM ('requests', 'incidents');

CREATE TABLE "slo" (
    "id" SERIAL NOT NULL,
    "service_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "SloKind" NOT NULL,
    "availability_source" "SloAvailabilitySource",
    "latency_metric" TEXT,
    "latency_threshold" DOUBLE PRECISION,
    "target" DOUBLE PRECISION NOT NULL,
    "window_days" INTEGER NOT NULL,
    "fast_burn_rate" DOUBLE PRECISION NOT NULL DEFAULT 14.4,
    "fast_long_minutes" INTEGER NOT NULL DEFAULT 60,
    "fast_short_minutes" INTEGER NOT NULL DEFAULT 5,
    "slow_burn_rate" DOUBLE PRECISION NOT NULL DEFAULT 6,
    "slow_long_minutes" INTEGER NOT NULL DEFAULT 360,
    "slow_short_minutes" INTEGER NOT NULL DEFAULT 30,
    "burning_since" TIMESTAMPTZ(3),
    "burn_count" INTEGER NOT NULL DEFAULT 0,
    "last_evaluated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "slo_pkey" PRIMARY KEY ("id"),
    -- The API checks the same rules first and names the field; these keep
    -- other writers from storing an SLO that cannot be evaluated.
    CONSTRAINT "slo_target_check" CHECK ("target" > 0 AND "target" < 1),
    CONSTRAINT "slo_window_days_check" CHECK ("window_days" BETWEEN 1 AND 366),
    CONSTRAINT "slo_kind_check" CHECK (
        ("kind" = 'availability' AND "availability_source" IS NOT NULL
            AND "latency_metric" IS NULL AND "latency_threshold" IS NULL)
        OR ("kind" = 'latency' AND "availability_source" IS NULL
            AND "latency_metric" IS NOT NULL AND "latency_threshold" IS NOT NULL)
    )
);

CREATE UNIQUE INDEX "slo_service_id_name_key" ON "slo"("service_id", "name");

ALTER TABLE "slo" ADD CONSTRAINT "slo_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "slo_burn" (
    "id" SERIAL NOT NULL,
    "slo_id" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "incident_id" INTEGER,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "long_burn_rate" DOUBLE PRECISION NOT NULL,
    "short_burn_rate" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "slo_burn_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "slo_burn_incident_id_key" ON "slo_burn"("incident_id");

CREATE UNIQUE INDEX "slo_burn_slo_id_seq_key" ON "slo_burn"("slo_id", "seq");

ALTER TABLE "slo_burn" ADD CONSTRAINT "slo_burn_slo_id_fkey" FOREIGN KEY ("slo_id") REFERENCES "slo"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "slo_burn" ADD CONSTRAINT "slo_burn_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE SET NULL ON UPDATE CASCADE;
