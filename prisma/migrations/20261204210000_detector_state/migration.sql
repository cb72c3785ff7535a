-- Detector state carried between scoring jobs, and the per-series alarm
-- threshold that feedback on false alarms raises (NULL: the default).
ALTER TABLE "metric_series"
    ADD COLUMN "detector_state" JSONB,
    ADD COLUMN "alarm_threshold" DOUBLE PRECISION;

-- Anomaly likelihood in [0, 1] of each scored point and the deviation of the
-- recent raw scores from the series' history behind it (NULL in warm-up).
ALTER TABLE "anomaly_score"
    ADD COLUMN "likelihood" DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN "deviation" DOUBLE PRECISION;
