import type { Queryable } from "@/lib/incidents/events";
import {
  suggestRunbooks,
  type MatchTarget,
  type RunbookMatch,
} from "@/lib/runbooks/match";

// Runbook suggestions for alert incidents: the detector's ranking and
// storing (suggestRunbooks), with the alertname in place of the metric name
// and the API token as the actor of the timeline event.

export type EventActor = {
  actorType: "token";
  actorId: number;
  actorName: string;
};

/**
 * Stores the best runbooks for an alert incident in incident_runbook and
 * adds a "runbooks_suggested" event by `actor`, inside the caller's
 * transaction. Returns the stored matches, none when no runbook matches.
 */
export function suggestAlertRunbooks(
  db: Queryable,
  incidentId: number,
  target: MatchTarget,
  actor: EventActor,
): Promise<RunbookMatch[]> {
  return suggestRunbooks(db, incidentId, target, actor);
}
