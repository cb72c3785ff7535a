import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import { addStepRunJob } from "@/lib/runbooks/step-runs";

// Automatic runbooks: an admin marks a runbook automatic, and its steps run
// by themselves on every incident that it is suggested for.

export const AUTOMATIC_ACTOR_NAME = "automatic runbook";

// One run per step of every automatic, not archived runbook suggested for
// the incident, in step order. The partial unique index on (incident_id,
// runbook_id, step_id) WHERE automatic makes a repeated call, a retried
// transaction or a second worker add nothing, and a concurrent insert of
// the same row waits for the first transaction and then skips.
const ENQUEUE_AUTOMATIC_SQL = `
  INSERT INTO runbook_step_run
    (incident_id, runbook_id, runbook_version, step_id, step, automatic,
     actor_type, actor_id, actor_name)
  SELECT suggestion.incident_id, runbook.id, runbook.current_version,
         step.value->>'id', step.value, true, 'worker', NULL, $2::text
    FROM incident_runbook suggestion
    JOIN runbook ON runbook.id = suggestion.runbook_id
    CROSS JOIN LATERAL jsonb_array_elements(
      CASE WHEN jsonb_typeof(runbook.steps) = 'array' THEN runbook.steps ELSE '[]'::jsonb END
    ) WITH ORDINALITY AS step(value, position)
   WHERE suggestion.incident_id = $1::int
     AND runbook.automatic
     AND runbook.archived_at IS NULL
     AND jsonb_typeof(step.value->'id') = 'string'
   ORDER BY suggestion.score DESC, runbook.id, step.position
  ON CONFLICT (incident_id, runbook_id, step_id) WHERE automatic DO NOTHING
  RETURNING id, runbook_id, step_id, step->>'title' AS step_title,
            (SELECT title FROM runbook WHERE runbook.id = runbook_step_run.runbook_id) AS runbook_title`;

/**
 * Queues every step of the incident's suggested runbooks that are marked
 * automatic, each at most once per incident, with a job and a timeline
 * event each. Call it in the transaction that stores the suggestions, right
 * after them, so that a crash loses neither or both. Maintenance windows
 * and silences are checked when the step runs. Returns the new run ids.
 */
export async function enqueueAutomaticRunbooks(
  db: Queryable,
  incidentId: number,
): Promise<number[]> {
  const { rows } = await db.query<{
    id: number;
    runbook_id: number;
    step_id: string;
    step_title: string | null;
    runbook_title: string;
  }>(ENQUEUE_AUTOMATIC_SQL, [incidentId, AUTOMATIC_ACTOR_NAME]);
  for (const row of rows) {
    await addStepRunJob(db, row.id);
    await addIncidentEvent(db, {
      incidentId,
      kind: "runbook_step_queued",
      actorType: "worker",
      actorName: AUTOMATIC_ACTOR_NAME,
      message: `Automatic runbook "${row.runbook_title}" queued step "${row.step_title ?? row.step_id}"`,
      data: { runId: row.id, runbookId: row.runbook_id, stepId: row.step_id, automatic: true },
    });
  }
  return rows.map((row) => row.id);
}
