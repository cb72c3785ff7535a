-- A responder's verdict on a detector incident: a real anomaly or a false
-- alarm. Every verdict is kept as history, and the newest one per incident
-- counts. series_id and peak_likelihood are copied from the incident when
-- the verdict is given, so that the alarm threshold derived from the
-- feedback (lib/feedback/threshold.ts) does not depend on anomaly_score rows,
-- which a rescore deletes. peak_likelihood is NULL when the incident has no
-- scored points.
CREATE TYPE "FeedbackVerdict" AS ENUM ('real', 'false_alarm');

CREATE TABLE "incident_feedback" (
    "id" SERIAL NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "series_id" INTEGER NOT NULL,
    "model_version_id" INTEGER,
    "verdict" "FeedbackVerdict" NOT NULL,
    "peak_likelihood" DOUBLE PRECISION,
    "user_id" INTEGER,
    "token_id" INTEGER,
    "actor_name" TEXT NOT NULL,
    "comment" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_feedback_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "incident_feedback_peak_likelihood_check"
        CHECK ("peak_likelihood" >= 0 AND "peak_likelihood" <= 1),
    CONSTRAINT "incident_feedback_comment_check"
        CHECK (char_length("comment") <= 2000)
);

CREATE INDEX "incident_feedback_incident_id_created_at_idx" ON "incident_feedback"("incident_id", "created_at");
CREATE INDEX "incident_feedback_series_id_idx" ON "incident_feedback"("series_id");
CREATE INDEX "incident_feedback_model_version_id_idx" ON "incident_feedback"("model_version_id");

ALTER TABLE "incident_feedback" ADD CONSTRAINT "incident_feedback_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "incident_feedback" ADD CONSTRAINT "incident_feedback_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "metric_series"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "incident_feedback" ADD CONSTRAINT "incident_feedback_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_version"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "incident_feedback" ADD CONSTRAINT "incident_feedback_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "incident_feedback" ADD CONSTRAINT "incident_feedback_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "api_token"("id") ON DELETE SET NULL ON UPDATE CASCADE;
