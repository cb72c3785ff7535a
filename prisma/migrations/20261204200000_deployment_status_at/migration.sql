-- Time of the GitHub deployment status that set the row's status, so that a
-- status delivered late (older than the stored one) does not overwrite it.
ALTER TABLE "deployment" ADD COLUMN "status_at" TIMESTAMPTZ(3);
