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

-- On-call schedules. A schedule has layers of ordered users who take turns
-- (rotations), and overrides where one user covers a period. The user on
-- call at an instant comes from the newest override covering it, else from
-- the highest layer in effect (lib/oncall/rotation.ts).
CREATE TABLE "oncall_schedule" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    -- IANA time zone of the handoff times, such as 'Europe/Madrid'.
    "time_zone" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oncall_schedule_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "oncall_schedule_name_check"
        CHECK (char_length("name") BETWEEN 1 AND 100)
);

CREATE UNIQUE INDEX "oncall_schedule_name_key" ON "oncall_schedule"("name");

-- One rotation: the members take turns of rotation_length units, each turn
-- starting at handoff_time (local HH:MM in the schedule's time zone) on or
-- after start_date (local YYYY-MM-DD). A higher position wins where two
-- layers are in effect.
CREATE TABLE "oncall_layer" (
    "id" SERIAL NOT NULL,
    "schedule_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "rotation_unit" TEXT NOT NULL,
    "rotation_length" INTEGER NOT NULL,
    "handoff_time" TEXT NOT NULL,
    "start_date" TEXT NOT NULL,
    "end_date" TEXT,

    CONSTRAINT "oncall_layer_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "oncall_layer_name_check" CHECK (char_length("name") BETWEEN 1 AND 100),
    CONSTRAINT "oncall_layer_unit_check" CHECK ("rotation_unit" IN ('hours', 'days', 'weeks')),
    CONSTRAINT "oncall_layer_length_check" CHECK ("rotation_length" BETWEEN 1 AND 8760),
    CONSTRAINT "oncall_layer_handoff_check" CHECK ("handoff_time" ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    CONSTRAINT "oncall_layer_start_check" CHECK ("start_date" ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    CONSTRAINT "oncall_layer_end_check" CHECK ("end_date" IS NULL OR "end_date" > "start_date")
);

CREATE UNIQUE INDEX "oncall_layer_schedule_id_position_key" ON "oncall_layer"("schedule_id", "position");

ALTER TABLE "oncall_layer" ADD CONSTRAINT "oncall_layer_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "oncall_schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The members of a layer in rotation order; position 0 takes the first turn.
CREATE TABLE "oncall_layer_member" (
    "layer_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,

    CONSTRAINT "oncall_layer_member_pkey" PRIMARY KEY ("layer_id", "position")
);

CREATE INDEX "oncall_layer_member_user_id_idx" ON "oncall_layer_member"("user_id");

ALTER TABLE "oncall_layer_member" ADD CONSTRAINT "oncall_layer_member_layer_id_fkey" FOREIGN KEY ("layer_id") REFERENCES "oncall_layer"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "oncall_layer_member" ADD CONSTRAINT "oncall_layer_member_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- user_id covers the schedule from starts_at to ends_at.
CREATE TABLE "oncall_override" (
    "id" SERIAL NOT NULL,
    "schedule_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT,
    "created_by_id" INTEGER,
    "created_by_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oncall_override_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "oncall_override_range_check" CHECK ("ends_at" > "starts_at")
);

CREATE INDEX "oncall_override_schedule_id_ends_at_idx" ON "oncall_override"("schedule_id", "ends_at");

ALTER TABLE "oncall_override" ADD CONSTRAINT "oncall_override_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "oncall_schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "oncall_override" ADD CONSTRAINT "oncall_override_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "oncall_override" ADD CONSTRAINT "oncall_override_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The escalation policy of one service: ordered levels, each notified when
-- the incident is still unacknowledged delay_minutes after the previous
-- level. repeat_count repeats the whole policy after its last level.
-- page_channel_id is the email channel that pages people; NULL uses the
-- paging channel of oncall_setting.
CREATE TABLE "escalation_policy" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "service_id" INTEGER NOT NULL,
    "repeat_count" INTEGER NOT NULL DEFAULT 0,
    "page_channel_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "escalation_policy_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "escalation_policy_name_check" CHECK (char_length("name") BETWEEN 1 AND 100),
    CONSTRAINT "escalation_policy_repeat_check" CHECK ("repeat_count" BETWEEN 0 AND 10)
);

CREATE UNIQUE INDEX "escalation_policy_name_key" ON "escalation_policy"("name");
CREATE UNIQUE INDEX "escalation_policy_service_id_key" ON "escalation_policy"("service_id");

ALTER TABLE "escalation_policy" ADD CONSTRAINT "escalation_policy_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "escalation_policy" ADD CONSTRAINT "escalation_policy_page_channel_id_fkey" FOREIGN KEY ("page_channel_id") REFERENCES "notification_channel"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Level position 1 is notified when the incident opens; level n + 1 when
-- the incident is still unacknowledged delay_minutes after level n.
CREATE TABLE "escalation_level" (
    "id" SERIAL NOT NULL,
    "policy_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "delay_minutes" INTEGER NOT NULL,

    CONSTRAINT "escalation_level_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "escalation_level_position_check" CHECK ("position" >= 1),
    CONSTRAINT "escalation_level_delay_check" CHECK ("delay_minutes" BETWEEN 1 AND 1440)
);

CREATE UNIQUE INDEX "escalation_level_policy_id_position_key" ON "escalation_level"("policy_id", "position");

ALTER TABLE "escalation_level" ADD CONSTRAINT "escalation_level_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "escalation_policy"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Whom a level notifies: the user on call in a schedule, one user, or a
-- notification channel. Exactly the id column of the kind is set.
CREATE TABLE "escalation_target" (
    "id" SERIAL NOT NULL,
    "level_id" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "schedule_id" INTEGER,
    "user_id" INTEGER,
    "channel_id" INTEGER,

    CONSTRAINT "escalation_target_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "escalation_target_kind_check" CHECK (
        ("kind" = 'schedule' AND "schedule_id" IS NOT NULL AND "user_id" IS NULL AND "channel_id" IS NULL)
     OR ("kind" = 'user' AND "user_id" IS NOT NULL AND "schedule_id" IS NULL AND "channel_id" IS NULL)
     OR ("kind" = 'channel' AND "channel_id" IS NOT NULL AND "schedule_id" IS NULL AND "user_id" IS NULL))
);

CREATE INDEX "escalation_target_level_id_idx" ON "escalation_target"("level_id");

ALTER TABLE "escalation_target" ADD CONSTRAINT "escalation_target_level_id_fkey" FOREIGN KEY ("level_id") REFERENCES "escalation_level"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "escalation_target" ADD CONSTRAINT "escalation_target_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "oncall_schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "escalation_target" ADD CONSTRAINT "escalation_target_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "escalation_target" ADD CONSTRAINT "escalation_target_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Escalation state of one incident: the level due next (in repeat cycle
-- "cycle") and when. The escalate-incident job locks this row, so that one
-- worker at a time advances an incident. A reopened incident that starts
-- escalating again continues with the next cycle number.
CREATE TABLE "incident_escalation" (
    "incident_id" INTEGER NOT NULL,
    "policy_id" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "cycle" INTEGER NOT NULL DEFAULT 1,
    -- Repeats of the whole policy still to come after this cycle.
    "repeats_left" INTEGER NOT NULL DEFAULT 0,
    "next_level" INTEGER NOT NULL DEFAULT 1,
    "next_at" TIMESTAMPTZ(3) NOT NULL,
    "stop_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_escalation_pkey" PRIMARY KEY ("incident_id"),
    CONSTRAINT "incident_escalation_status_check" CHECK ("status" IN ('active', 'stopped', 'completed'))
);

CREATE INDEX "incident_escalation_status_next_at_idx" ON "incident_escalation"("status", "next_at");

ALTER TABLE "incident_escalation" ADD CONSTRAINT "incident_escalation_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "incident_escalation" ADD CONSTRAINT "incident_escalation_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "escalation_policy"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One row per level notified. The unique (incident_id, cycle, level)
-- index makes each level fire at most once per incident and cycle, even
-- when two workers race.
CREATE TABLE "escalation_step" (
    "id" SERIAL NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "cycle" INTEGER NOT NULL,
    "level" INTEGER NOT NULL,
    "fired_at" TIMESTAMPTZ(3) NOT NULL,
    -- People and channels notified, as shown in the timeline.
    "targets" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "escalation_step_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "escalation_step_incident_id_cycle_level_key" ON "escalation_step"("incident_id", "cycle", "level");

ALTER TABLE "escalation_step" ADD CONSTRAINT "escalation_step_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Settings of the on-call feature, in the single row with id 1.
CREATE TABLE "oncall_setting" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "paging_channel_id" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oncall_setting_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "oncall_setting_single_row_check" CHECK ("id" = 1)
);

ALTER TABLE "oncall_setting" ADD CONSTRAINT "oncall_setting_paging_channel_id_fkey" FOREIGN KEY ("paging_channel_id") REFERENCES "notification_channel"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Escalation pages are notification deliveries with event 'escalation',
-- one per level, cycle and person or channel, so that they share the
-- delivery log, the retries and the backoff of incident notifications.
-- page_key tells the pages of one incident and channel apart; it is ''
-- for the other events, whose (incident, event, channel) stays unique.
ALTER TABLE "notification_delivery"
    ADD COLUMN "page_key" TEXT NOT NULL DEFAULT '',
    ADD COLUMN "escalation_step_id" INTEGER,
    ADD COLUMN "escalation_level" INTEGER,
    ADD COLUMN "recipient_user_id" INTEGER,
    ADD COLUMN "recipient_name" TEXT,
    ADD COLUMN "recipient_email" TEXT;

ALTER TABLE "notification_delivery" DROP CONSTRAINT "notification_delivery_event_check";
ALTER TABLE "notification_delivery" ADD CONSTRAINT "notification_delivery_event_check"
    CHECK ("event" IN ('opened', 'resolved', 'test', 'escalation'));
ALTER TABLE "notification_delivery" ADD CONSTRAINT "notification_delivery_page_check"
    CHECK (("event" = 'escalation') = ("escalation_step_id" IS NOT NULL));

DROP INDEX "notification_delivery_incident_id_event_channel_id_key";
CREATE UNIQUE INDEX "notification_delivery_incident_id_event_channel_id_page_key_key" ON "notification_delivery"("incident_id", "event", "channel_id", "page_key");
CREATE INDEX "notification_delivery_escalation_step_id_idx" ON "notification_delivery"("escalation_step_id");

ALTER TABLE "notification_delivery" ADD CONSTRAINT "notification_delivery_escalation_step_id_fkey" FOREIGN KEY ("escalation_step_id") REFERENCES "escalation_step"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "notification_delivery" ADD CONSTRAINT "notification_delivery_recipient_user_id_fkey" FOREIGN KEY ("recipient_user_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;
