-- Incident workflow: the assignee of an incident, and a postmortem per
-- incident with its follow-up items. Reopening, severity changes and notes
-- need no new columns: they change incident columns that exist and write
-- timeline events (incident_event).

ALTER TABLE "incident" ADD COLUMN "assignee_id" INTEGER;

ALTER TABLE "incident" ADD CONSTRAINT "incident_assignee_id_fkey" FOREIGN KEY ("assignee_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE INDEX "incident_assignee_id_idx" ON "incident"("assignee_id") WHERE "assignee_id" IS NOT NULL;

-- The limits match lib/incidents/postmortem.ts, so that a value the API
-- rejects cannot be stored by other means either.
CREATE TABLE "incident_postmortem" (
    "incident_id" INTEGER NOT NULL,
    "summary" TEXT NOT NULL DEFAULT '',
    "root_cause" TEXT NOT NULL DEFAULT '',
    "impact" TEXT NOT NULL DEFAULT '',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by_type" "ActorType" NOT NULL,
    "updated_by_id" INTEGER,
    "updated_by_name" TEXT NOT NULL,

    CONSTRAINT "incident_postmortem_pkey" PRIMARY KEY ("incident_id"),
    CONSTRAINT "incident_postmortem_text_check" CHECK (
        char_length("summary") <= 20000
        AND char_length("root_cause") <= 20000
        AND char_length("impact") <= 20000),
    CONSTRAINT "incident_postmortem_version_check" CHECK ("version" >= 1)
);

ALTER TABLE "incident_postmortem" ADD CONSTRAINT "incident_postmortem_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "postmortem_follow_up" (
    "id" SERIAL NOT NULL,
    "incident_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "description" TEXT NOT NULL,
    "owner_id" INTEGER,
    "due_date" TIMESTAMPTZ(3),
    "done" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "postmortem_follow_up_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "postmortem_follow_up_description_check"
        CHECK (char_length("description") BETWEEN 1 AND 2000),
    CONSTRAINT "postmortem_follow_up_due_date_check"
        CHECK ("due_date" IS NULL OR "due_date" = date_trunc('day', "due_date", 'UTC'))
);

CREATE UNIQUE INDEX "postmortem_follow_up_incident_id_position_key" ON "postmortem_follow_up"("incident_id", "position");
CREATE INDEX "postmortem_follow_up_owner_id_idx" ON "postmortem_follow_up"("owner_id");

ALTER TABLE "postmortem_follow_up" ADD CONSTRAINT "postmortem_follow_up_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident_postmortem"("incident_id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "postmortem_follow_up" ADD CONSTRAINT "postmortem_follow_up_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "user_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;
