-- Time of the deployed commit; lead time for changes is deployed_at - commit_at.
ALTER TABLE "deployment" ADD COLUMN "commit_at" TIMESTAMPTZ(3);
