-- Burns of several SLOs of one service can share one incident, so
-- slo_burn.incident_id is no longer unique.
DROP INDEX "slo_burn_incident_id_key";

CREATE INDEX "slo_burn_incident_id_idx" ON "slo_burn"("incident_id");
