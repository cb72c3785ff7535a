import type { Queryable } from "@/lib/incidents/events";
import { enqueueAutomaticRunbooks } from "@/lib/runbooks/automatic";
import {
  suggestRunbooks,
  type MatchTarget,
  type RankedSuggestion,
} from "@/lib/runbooks/match";

// Runbook suggestions for alert incidents: the detector's ranking and
// storing (suggestRunbooks) with the API token as the actor of the
// timeline event. Alerts have no metric, so the alertname the caller
// passes as the metric name is matched against a runbook's alertNames.

export type EventActor = {
  actorType: "token";
  actorId: number;
  actorName: string;
};

/**
 * Stores the best runbooks for an alert incident in incident_runbook and
 * adds a "runbooks_suggested" event by `actor`, inside the caller's
 * transaction, then queues the steps of the automatic ones. Returns the
 * stored suggestions, none when nothing fits.
 */
export async function suggestAlertRunbooks(
  db: Queryable,
  incidentId: number,
  target: MatchTarget,
  actor: EventActor,
): Promise<RankedSuggestion[]> {
  const alertName = target.alertName ?? target.metricName ?? null;
  const suggestions = await suggestRunbooks(
    db,
    incidentId,
    { ...target, metricName: null, alertName: alertName || null },
    actor,
  );
  await enqueueAutomaticRunbooks(db, incidentId);
  return suggestions;
}
