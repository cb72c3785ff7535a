-- Alert incidents from Alertmanager and Grafana: the fingerprint of the alert
-- (a hash of its label set) that opened the incident.
ALTER TABLE "incident" ADD COLUMN "alert_fingerprint" TEXT;

-- At most one open alert incident per service and fingerprint, so that two
-- concurrent deliveries of one alert cannot open two incidents. Prisma's
-- schema language has no partial indexes, so this one lives only here.
CREATE UNIQUE INDEX "incident_open_alert_fingerprint_key"
    ON "incident"("service_id", "alert_fingerprint")
    WHERE "source" = 'alert' AND "status" <> 'resolved';

-- Webhook deliveries already processed, keyed by the sender's delivery id
-- (such as GitHub's X-GitHub-Delivery), so that a redelivery changes nothing.
CREATE TABLE "webhook_delivery" (
    "id" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id")
);
