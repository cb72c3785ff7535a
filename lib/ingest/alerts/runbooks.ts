import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import {
  MAX_SUGGESTED_RUNBOOKS,
  rankRunbooks,
  type MatchTarget,
  type RunbookMatch,
  type RunbookRules,
} from "@/lib/runbooks/match";

// Runbook suggestions for alert incidents. The ranking is the detector's
// (rankRunbooks), with the alertname in place of the metric name. This file
// repeats the storing step of suggestRunbooks because that function records
// the anomaly detector as the actor, and here the API token acts.

export type EventActor = {
  actorType: "token";
  actorId: number;
  actorName: string;
};

type RunbookRow = {
  id: number;
  slug: string;
  title: string;
  services: string[] | null;
  metric_pattern: string | null;
  labels: Record<string, unknown> | null;
};

function toRules(row: RunbookRow): RunbookRules {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(row.labels ?? {})) {
    labels[key] = String(value);
  }
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    services: row.services ?? [],
    metricPattern: row.metric_pattern,
    labels,
  };
}

/**
 * Stores the best runbooks for an alert incident in incident_runbook and
 * adds a "runbooks_suggested" event by `actor`, inside the caller's
 * transaction. Returns the stored matches, none when no runbook matches.
 */
export async function suggestAlertRunbooks(
  db: Queryable,
  incidentId: number,
  target: MatchTarget,
  actor: EventActor,
): Promise<RunbookMatch[]> {
  const { rows } = await db.query<RunbookRow>(
    "SELECT id, slug, title, services, metric_pattern, labels FROM runbook",
  );
  const top = rankRunbooks(rows.map(toRules), target).slice(
    0,
    MAX_SUGGESTED_RUNBOOKS,
  );
  if (top.length === 0) return top;

  await db.query(
    `INSERT INTO incident_runbook (incident_id, runbook_id, score, reason)
     SELECT $1, runbook_id, score, reason
       FROM unnest($2::int[], $3::float8[], $4::text[])
            AS m(runbook_id, score, reason)
     ON CONFLICT (incident_id, runbook_id) DO NOTHING`,
    [
      incidentId,
      top.map((match) => match.runbookId),
      top.map((match) => match.score),
      top.map((match) => match.reason),
    ],
  );
  await addIncidentEvent(db, {
    incidentId,
    kind: "runbooks_suggested",
    ...actor,
    message: `Suggested runbooks: ${top.map((match) => match.title).join("; ")}`,
    data: {
      runbooks: top.map(({ runbookId, slug, score, reason }) => ({
        runbookId,
        slug,
        score,
        reason,
      })),
    },
  });
  return top;
}
