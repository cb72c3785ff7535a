-- Serves the new-series-per-hour limit of ingest, which counts the series a
-- service created in the last hour.
CREATE INDEX "metric_series_service_id_created_at_idx"
  ON "metric_series" ("service_id", "created_at");
