-- Reliability reports emailed every week or month through email
-- notification channels, with one run row per schedule and period.
CREATE TYPE "ReportCadence" AS ENUM ('weekly', 'monthly');

CREATE TYPE "ReportFormat" AS ENUM ('pdf', 'csv');

CREATE TYPE "ReportRunStatus" AS ENUM ('pending', 'retrying', 'sent', 'failed');

CREATE TABLE "report_schedule" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "cadence" "ReportCadence" NOT NULL,
    "day_of_week" INTEGER,
    "day_of_month" INTEGER,
    "last_day_of_month" BOOLEAN NOT NULL DEFAULT false,
    "time_of_day" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "all_services" BOOLEAN NOT NULL DEFAULT false,
    "service_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "team_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "formats" "ReportFormat"[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "next_run_at" TIMESTAMPTZ(3),
    "last_run_at" TIMESTAMPTZ(3),
    "created_by_id" INTEGER,
    "created_by_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "report_schedule_pkey" PRIMARY KEY ("id"),
    -- A weekly schedule names its weekday, a monthly one its day or the
    -- last day; the API checks the same with a message naming the field.
    CONSTRAINT "report_schedule_day_check" CHECK (
        ("cadence" = 'weekly' AND "day_of_week" BETWEEN 1 AND 7
            AND "day_of_month" IS NULL AND NOT "last_day_of_month")
        OR ("cadence" = 'monthly' AND "day_of_week" IS NULL
            AND (("day_of_month" BETWEEN 1 AND 28 AND NOT "last_day_of_month")
                 OR ("day_of_month" IS NULL AND "last_day_of_month")))
    )
);

CREATE UNIQUE INDEX "report_schedule_name_key" ON "report_schedule"("name");

CREATE INDEX "report_schedule_enabled_next_run_at_idx" ON "report_schedule"("enabled", "next_run_at");

ALTER TABLE "report_schedule" ADD CONSTRAINT "report_schedule_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "report_schedule_channel" (
    "schedule_id" INTEGER NOT NULL,
    "channel_id" INTEGER NOT NULL,

    CONSTRAINT "report_schedule_channel_pkey" PRIMARY KEY ("schedule_id", "channel_id")
);

CREATE INDEX "report_schedule_channel_channel_id_idx" ON "report_schedule_channel"("channel_id");

ALTER TABLE "report_schedule_channel" ADD CONSTRAINT "report_schedule_channel_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "report_schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "report_schedule_channel" ADD CONSTRAINT "report_schedule_channel_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "report_schedule_run" (
    "id" SERIAL NOT NULL,
    "schedule_id" INTEGER NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "scheduled_at" TIMESTAMPTZ(3) NOT NULL,
    "status" "ReportRunStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "report_schedule_run_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "report_schedule_run_schedule_id_period_start_key" ON "report_schedule_run"("schedule_id", "period_start");

CREATE INDEX "report_schedule_run_status_next_attempt_at_idx" ON "report_schedule_run"("status", "next_attempt_at");

ALTER TABLE "report_schedule_run" ADD CONSTRAINT "report_schedule_run_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "report_schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "report_schedule_delivery" (
    "run_id" INTEGER NOT NULL,
    "channel_id" INTEGER NOT NULL,
    "smtp_response" TEXT,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "report_schedule_delivery_pkey" PRIMARY KEY ("run_id", "channel_id")
);

CREATE INDEX "report_schedule_delivery_channel_id_idx" ON "report_schedule_delivery"("channel_id");

ALTER TABLE "report_schedule_delivery" ADD CONSTRAINT "report_schedule_delivery_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "report_schedule_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "report_schedule_delivery" ADD CONSTRAINT "report_schedule_delivery_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;
