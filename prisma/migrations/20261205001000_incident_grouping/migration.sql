-- A service's own grouping window in minutes; null uses
-- VIGIL_GROUPING_WINDOW_MINUTES.
ALTER TABLE "service" ADD COLUMN "grouping_window_minutes" INTEGER;
ALTER TABLE "service" ADD CONSTRAINT "service_grouping_window_minutes_check"
    CHECK ("grouping_window_minutes" BETWEEN 0 AND 1440);

-- Series whose anomaly episodes belong to a detector incident: the one that
-- opened it and those grouped into it (lib/incidents/grouping.ts).
CREATE TABLE "incident_series" (
    "incident_id" INTEGER NOT NULL,
    "series_id" INTEGER NOT NULL,
    "onset_at" TIMESTAMPTZ(3) NOT NULL,
    "peak_score" DOUBLE PRECISION NOT NULL,
    "peak_at" TIMESTAMPTZ(3) NOT NULL,
    "joined_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "recovered_at" TIMESTAMPTZ(3),

    CONSTRAINT "incident_series_pkey" PRIMARY KEY ("incident_id","series_id")
);

-- One episode onset of a series is recorded once, in one incident, so that a
-- rescore or a retried job cannot group it twice.
CREATE UNIQUE INDEX "incident_series_series_id_onset_at_key" ON "incident_series"("series_id", "onset_at");

ALTER TABLE "incident_series" ADD CONSTRAINT "incident_series_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "incident_series" ADD CONSTRAINT "incident_series_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Alerts (one fingerprint each) that belong to an alert incident: the one
-- that opened it and those of the same group that joined it.
CREATE TABLE "incident_alert" (
    "incident_id" INTEGER NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "group_key" TEXT,
    "alertname" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "last_starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3),
    "resolved" BOOLEAN NOT NULL DEFAULT false,
    "joined_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_alert_pkey" PRIMARY KEY ("incident_id","fingerprint")
);

CREATE INDEX "incident_alert_fingerprint_idx" ON "incident_alert"("fingerprint");

ALTER TABLE "incident_alert" ADD CONSTRAINT "incident_alert_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Incidents opened before grouping existed list their one series or alert.
-- A detector incident's series counts as recovered when the incident was
-- resolved. Old alert incidents get no group key, so no new alert joins them.
INSERT INTO "incident_series"
    ("incident_id", "series_id", "onset_at", "peak_score", "peak_at",
     "joined_at", "recovered_at")
SELECT "id", "series_id", "opened_at", COALESCE("peak_score", 0), "opened_at",
       "created_at", "resolved_at"
  FROM "incident"
 WHERE "source" = 'detector' AND "series_id" IS NOT NULL;

INSERT INTO "incident_alert"
    ("incident_id", "fingerprint", "alertname", "labels", "starts_at",
     "last_starts_at", "ends_at", "resolved", "joined_at")
SELECT i."id", i."alert_fingerprint",
       opened."data"->'labels'->>'alertname',
       COALESCE(opened."data"->'labels', '{}'::jsonb),
       i."opened_at", i."opened_at", i."resolved_at",
       i."status" = 'resolved', i."created_at"
  FROM "incident" i
  LEFT JOIN LATERAL (
        SELECT "data" FROM "incident_event"
         WHERE "incident_id" = i."id" AND "kind" = 'opened'
         ORDER BY "id" LIMIT 1
       ) opened ON true
 WHERE i."source" = 'alert' AND i."alert_fingerprint" IS NOT NULL;
