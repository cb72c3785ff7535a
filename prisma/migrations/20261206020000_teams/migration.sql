-- Teams group services. A service belongs to at most one team, and
-- deleting a team sets its services' team_id to NULL.
CREATE TABLE "team" (
    "id" SERIAL NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "team_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "team_slug_key" ON "team"("slug");

ALTER TABLE "service" ADD COLUMN "team_id" INTEGER;

CREATE INDEX "service_team_id_idx" ON "service"("team_id");

ALTER TABLE "service" ADD CONSTRAINT "service_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "team"("id") ON DELETE SET NULL ON UPDATE CASCADE;
