-- Runbook versions, the match rules on alert name and severity, executable
-- steps, helpful feedback and the score breakdown of each suggestion.

ALTER TABLE "runbook"
    ADD COLUMN "current_version" INTEGER,
    ADD COLUMN "alert_names" TEXT[] DEFAULT ARRAY[]::TEXT[],
    ADD COLUMN "severities" "Severity"[] DEFAULT ARRAY[]::"Severity"[],
    ADD COLUMN "steps" JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN "automatic" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "archived_at" TIMESTAMPTZ(3);

-- One immutable version of a runbook's content. The runbook row carries a
-- copy of its current version's content, which the matcher reads.
CREATE TABLE "runbook_version" (
    "id" SERIAL NOT NULL,
    "runbook_id" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "services" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "metric_pattern" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "alert_names" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "severities" "Severity"[] DEFAULT ARRAY[]::"Severity"[],
    "steps" JSONB NOT NULL DEFAULT '[]',
    "automatic" BOOLEAN NOT NULL DEFAULT false,
    "author_type" "ActorType" NOT NULL,
    "author_id" INTEGER,
    "author_name" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runbook_version_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "runbook_version_version_check" CHECK ("version" >= 1)
);

CREATE UNIQUE INDEX "runbook_version_runbook_id_version_key"
    ON "runbook_version"("runbook_id", "version");

ALTER TABLE "runbook_version"
    ADD CONSTRAINT "runbook_version_runbook_id_fkey"
    FOREIGN KEY ("runbook_id") REFERENCES "runbook"("id")
    ON DELETE CASCADE ON UPDATE CASCADE;

-- Runbooks that exist before this migration get their content as version 1.
INSERT INTO "runbook_version"
    ("runbook_id", "version", "title", "body", "services", "metric_pattern",
     "labels", "author_type", "author_name", "note", "created_at")
SELECT "id", 1, "title", "body", "services", "metric_pattern", "labels",
       'system', 'migration', 'content before versioning', "updated_at"
  FROM "runbook";

UPDATE "runbook" SET "current_version" = 1;

ALTER TABLE "incident_runbook"
    ADD COLUMN "version" INTEGER,
    ADD COLUMN "breakdown" JSONB NOT NULL DEFAULT '{}';

-- A responder's verdict on one suggested runbook of one incident. One row
-- per incident, runbook and actor: a second mark replaces the first.
CREATE TABLE "runbook_feedback" (
    "id" SERIAL NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "runbook_id" INTEGER NOT NULL,
    "version" INTEGER,
    "helpful" BOOLEAN NOT NULL,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" INTEGER NOT NULL,
    "actor_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runbook_feedback_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "runbook_feedback_incident_id_runbook_id_actor_type_actor_id_key"
    ON "runbook_feedback"("incident_id", "runbook_id", "actor_type", "actor_id");

CREATE INDEX "runbook_feedback_runbook_id_idx" ON "runbook_feedback"("runbook_id");

ALTER TABLE "runbook_feedback"
    ADD CONSTRAINT "runbook_feedback_incident_id_fkey"
    FOREIGN KEY ("incident_id") REFERENCES "incident"("id")
    ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "runbook_feedback"
    ADD CONSTRAINT "runbook_feedback_runbook_id_fkey"
    FOREIGN KEY ("runbook_id") REFERENCES "runbook"("id")
    ON DELETE CASCADE ON UPDATE CASCADE;
