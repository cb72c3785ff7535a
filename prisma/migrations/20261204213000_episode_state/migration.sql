-- Anomaly episode progress after scored_until, saved by the worker so that
-- the next job continues the episode exactly (lib/incidents/episodes.ts).
ALTER TABLE "metric_series" ADD COLUMN "episode_state" JSONB;
