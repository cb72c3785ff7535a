-- Hourly and daily rollups of data_point per series, so that the error-rate
-- KPI reads one row per series per hour or day instead of every point.
-- Buckets are aligned to UTC: bucket_start is date_bin of ts on the epoch.
-- sum is numeric so that summing rollups gives exactly the numeric sum of
-- the raw values that the KPI query computes (float8 sums depend on order).
CREATE TABLE "series_rollup_hour" (
    "series_id" INTEGER NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL,
    "sum" NUMERIC NOT NULL,
    "min" DOUBLE PRECISION NOT NULL,
    "max" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "series_rollup_hour_pkey" PRIMARY KEY ("series_id", "bucket_start")
);

CREATE TABLE "series_rollup_day" (
    "series_id" INTEGER NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL,
    "sum" NUMERIC NOT NULL,
    "min" DOUBLE PRECISION NOT NULL,
    "max" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "series_rollup_day_pkey" PRIMARY KEY ("series_id", "bucket_start")
);

-- Hours whose points changed since their rollup was last computed. The
-- triggers below add a row in the transaction that writes the points, and
-- lib/kpi/rollups.ts recomputes the hour and its day from data_point and
-- deletes the row in one transaction. KPI queries read raw points for the
-- hours listed here, so their results never depend on the fold being done.
-- It has no foreign key: deleting a series deletes its points, whose trigger
-- then marks hours of a series that is gone, and the fold drops those rows.
CREATE TABLE "series_rollup_pending" (
    "series_id" INTEGER NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "marked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "series_rollup_pending_pkey" PRIMARY KEY ("series_id", "bucket_start")
);

ALTER TABLE "series_rollup_hour" ADD CONSTRAINT "series_rollup_hour_series_id_fkey"
    FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "series_rollup_day" ADD CONSTRAINT "series_rollup_day_series_id_fkey"
    FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Marks the hours of the changed rows as pending. ON CONFLICT DO UPDATE,
-- not DO NOTHING, because it waits for a fold that holds the row locked and
-- then inserts the row again after that fold deleted it: the fold's snapshot
-- may not contain these points. Rows go in key order, as folds lock them, so
-- that concurrent writers do not deadlock on each other.
CREATE FUNCTION "series_rollup_mark_pending"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO series_rollup_pending (series_id, bucket_start)
  SELECT DISTINCT changed.series_id,
         date_bin('1 hour', changed.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')
  FROM changed
  ORDER BY 1, 2
  ON CONFLICT (series_id, bucket_start)
    DO UPDATE SET marked_at = CURRENT_TIMESTAMP;
  RETURN NULL;
END
$$;

CREATE TRIGGER "data_point_rollup_insert"
  AFTER INSERT ON "data_point" REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION "series_rollup_mark_pending"();
CREATE TRIGGER "data_point_rollup_delete"
  AFTER DELETE ON "data_point" REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION "series_rollup_mark_pending"();
-- An update may move a point to another hour, so it marks both hours.
CREATE TRIGGER "data_point_rollup_update_old"
  AFTER UPDATE ON "data_point" REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION "series_rollup_mark_pending"();
CREATE TRIGGER "data_point_rollup_update_new"
  AFTER UPDATE ON "data_point" REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION "series_rollup_mark_pending"();

-- DELETE, not TRUNCATE: a TRUNCATE of data_point that also lists the
-- rollup tables (as tests do) holds them open, and a nested TRUNCATE of
-- them fails.
CREATE FUNCTION "series_rollup_truncate"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM series_rollup_hour;
  DELETE FROM series_rollup_day;
  DELETE FROM series_rollup_pending;
  RETURN NULL;
END
$$;

CREATE TRIGGER "data_point_rollup_truncate"
  AFTER TRUNCATE ON "data_point"
  FOR EACH STATEMENT EXECUTE FUNCTION "series_rollup_truncate"();
