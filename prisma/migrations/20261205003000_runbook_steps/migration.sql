-- Executable runbook steps: the hosts an admin allows them to reach, every
-- run of a step on an incident, and every attempt of a run.

CREATE TYPE "RunbookStepRunStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'refused', 'suppressed');

-- host is stored normalised (lower case, IPv6 without brackets), so the
-- unique index also catches "Example.COM" next to "example.com". A NULL
-- port allows every port of the host.
CREATE TABLE "runbook_allowed_host" (
    "id" SERIAL NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER,
    "note" TEXT NOT NULL DEFAULT '',
    "actor_type" "ActorType" NOT NULL,
    "actor_id" INTEGER,
    "actor_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runbook_allowed_host_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "runbook_allowed_host_host_check"
        CHECK (char_length("host") BETWEEN 1 AND 253 AND "host" = lower("host")),
    CONSTRAINT "runbook_allowed_host_port_check"
        CHECK ("port" IS NULL OR "port" BETWEEN 1 AND 65535),
    CONSTRAINT "runbook_allowed_host_note_check"
        CHECK (char_length("note") <= 500)
);

CREATE UNIQUE INDEX "runbook_allowed_host_host_port_key"
    ON "runbook_allowed_host"("host", COALESCE("port", 0));

CREATE TABLE "runbook_step_run" (
    "id" SERIAL NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "runbook_id" INTEGER NOT NULL,
    "runbook_version" INTEGER,
    "step_id" TEXT NOT NULL,
    "step" JSONB NOT NULL,
    "automatic" BOOLEAN NOT NULL DEFAULT false,
    "status" "RunbookStepRunStatus" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "response_status" INTEGER,
    "response_body" TEXT,
    "error" TEXT,
    "duration_ms" INTEGER,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" INTEGER,
    "actor_name" TEXT NOT NULL,
    "next_attempt_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runbook_step_run_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "runbook_step_run_attempts_check" CHECK ("attempts" >= 0)
);

CREATE INDEX "runbook_step_run_incident_id_created_at_idx"
    ON "runbook_step_run"("incident_id", "created_at");
CREATE INDEX "runbook_step_run_runbook_id_idx" ON "runbook_step_run"("runbook_id");

-- An automatic runbook runs each step at most once per incident, however
-- many workers, retries or repeated suggestions try to queue it.
CREATE UNIQUE INDEX "runbook_step_run_automatic_key"
    ON "runbook_step_run"("incident_id", "runbook_id", "step_id")
    WHERE "automatic";

-- A second click on Run while the same step is still queued or running
-- conflicts instead of sending the request twice.
CREATE UNIQUE INDEX "runbook_step_run_manual_unfinished_key"
    ON "runbook_step_run"("incident_id", "runbook_id", "step_id")
    WHERE NOT "automatic" AND "status" IN ('queued', 'running');

ALTER TABLE "runbook_step_run" ADD CONSTRAINT "runbook_step_run_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "runbook_step_run" ADD CONSTRAINT "runbook_step_run_runbook_id_fkey" FOREIGN KEY ("runbook_id") REFERENCES "runbook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "runbook_step_run_attempt" (
    "id" SERIAL NOT NULL,
    "run_id" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "succeeded" BOOLEAN NOT NULL,
    "response_status" INTEGER,
    "response_body" TEXT,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runbook_step_run_attempt_pkey" PRIMARY KEY ("id")
);

-- A second job that raced another to the same attempt fails on this index
-- and rolls its record back.
CREATE UNIQUE INDEX "runbook_step_run_attempt_run_id_attempt_key"
    ON "runbook_step_run_attempt"("run_id", "attempt");

ALTER TABLE "runbook_step_run_attempt" ADD CONSTRAINT "runbook_step_run_attempt_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runbook_step_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
