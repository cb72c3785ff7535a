-- On call: maintenance windows and silences, which suppress notifications,
-- escalation and automatic runbooks while active (lib/oncall/suppression.ts).

-- Planned work on one service. An admin may end a window early, which sets
-- ended_at; the window is active from starts_at until the earlier of ends_at
-- and ended_at.
CREATE TABLE "maintenance_window" (
    "id" SERIAL NOT NULL,
    "service_id" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "created_by_id" INTEGER,
    "created_by_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "maintenance_window_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "maintenance_window_reason_check"
        CHECK (char_length("reason") BETWEEN 1 AND 200),
    CONSTRAINT "maintenance_window_range_check" CHECK ("ends_at" > "starts_at")
);

CREATE INDEX "maintenance_window_service_id_ends_at_idx" ON "maintenance_window"("service_id", "ends_at");

ALTER TABLE "maintenance_window" ADD CONSTRAINT "maintenance_window_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "maintenance_window" ADD CONSTRAINT "maintenance_window_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- A silence of one service (or of every service when service_id is NULL)
-- and/or of the alerts whose labels match every matcher. "matchers" is a
-- JSON array of {"name", "operator": "=" | "!=" | "=~" | "!~", "value"},
-- checked in lib/oncall/suppression.ts. A silence without a service has at
-- least one matcher, so that no silence mutes every service by accident.
CREATE TABLE "silence" (
    "id" SERIAL NOT NULL,
    "service_id" INTEGER,
    "matchers" JSONB NOT NULL DEFAULT '[]',
    "reason" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "created_by_id" INTEGER,
    "created_by_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "silence_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "silence_reason_check"
        CHECK (char_length("reason") BETWEEN 1 AND 200),
    CONSTRAINT "silence_range_check" CHECK ("ends_at" > "starts_at"),
    CONSTRAINT "silence_matchers_check" CHECK (jsonb_typeof("matchers") = 'array'),
    CONSTRAINT "silence_scope_check"
        CHECK ("service_id" IS NOT NULL OR jsonb_array_length("matchers") > 0)
);

CREATE INDEX "silence_service_id_idx" ON "silence"("service_id");
CREATE INDEX "silence_ends_at_idx" ON "silence"("ends_at");

ALTER TABLE "silence" ADD CONSTRAINT "silence_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "silence" ADD CONSTRAINT "silence_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;
