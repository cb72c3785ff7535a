-- Incident notifications: channels (where to send), routing rules (which
-- incidents go to which channel), deliveries (one per incident event and
-- channel) and the log of every delivery attempt.
--
-- NOTE: the Slack webhook URL and the SMTP password are stored in plain text
-- in "secret_config". They cannot be hashed, because the worker must send
-- them to the peer. The API and the UI show them only masked.
CREATE TYPE "NotificationChannelType" AS ENUM ('webhook', 'slack', 'email');

CREATE TYPE "NotificationDeliveryStatus" AS ENUM ('pending', 'retrying', 'sent', 'failed');

CREATE TABLE "notification_channel" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "type" "NotificationChannelType" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "config" JSONB NOT NULL DEFAULT '{}',
    "secret_config" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_channel_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "notification_channel_name_check"
        CHECK (char_length("name") BETWEEN 1 AND 100)
);

CREATE UNIQUE INDEX "notification_channel_name_key" ON "notification_channel"("name");

-- A rule sends the incidents of one service (or of every service when
-- service_id is NULL) whose severity is min_severity or more severe
-- (sev1 is the most severe) to one channel.
CREATE TABLE "notification_rule" (
    "id" SERIAL NOT NULL,
    "channel_id" INTEGER NOT NULL,
    "service_id" INTEGER,
    "min_severity" "Severity" NOT NULL DEFAULT 'sev4',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_rule_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "notification_rule_channel_id_idx" ON "notification_rule"("channel_id");
CREATE INDEX "notification_rule_service_id_idx" ON "notification_rule"("service_id");

ALTER TABLE "notification_rule" ADD CONSTRAINT "notification_rule_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "notification_rule" ADD CONSTRAINT "notification_rule_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One row per incident event ('opened', 'resolved') and channel, so that a
-- retried transaction or job cannot send one event twice to a channel. A
-- test notification has no incident and the event 'test'.
CREATE TABLE "notification_delivery" (
    "id" SERIAL NOT NULL,
    "channel_id" INTEGER NOT NULL,
    "incident_id" INTEGER,
    "event" TEXT NOT NULL,
    "status" "NotificationDeliveryStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_delivery_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "notification_delivery_event_check"
        CHECK ("event" IN ('opened', 'resolved', 'test')),
    CONSTRAINT "notification_delivery_incident_check"
        CHECK (("event" = 'test') = ("incident_id" IS NULL))
);

CREATE UNIQUE INDEX "notification_delivery_incident_id_event_channel_id_key" ON "notification_delivery"("incident_id", "event", "channel_id");
CREATE INDEX "notification_delivery_channel_id_idx" ON "notification_delivery"("channel_id");
CREATE INDEX "notification_delivery_created_at_idx" ON "notification_delivery"("created_at");

ALTER TABLE "notification_delivery" ADD CONSTRAINT "notification_delivery_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "notification_delivery" ADD CONSTRAINT "notification_delivery_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every attempt of a delivery with its result. http_status is set for
-- webhook and Slack channels, smtp_response for email.
CREATE TABLE "notification_attempt" (
    "id" SERIAL NOT NULL,
    "delivery_id" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "succeeded" BOOLEAN NOT NULL,
    "http_status" INTEGER,
    "smtp_response" TEXT,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_attempt_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "notification_attempt_delivery_id_attempt_key" ON "notification_attempt"("delivery_id", "attempt");

ALTER TABLE "notification_attempt" ADD CONSTRAINT "notification_attempt_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "notification_delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;
