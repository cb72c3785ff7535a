import { Card } from "@tremor/react";

import { LocalTime } from "@/components/local-time";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { listEscalationSteps, loadEscalationStatus, type PagedTarget } from "@/lib/oncall/escalation";
import { describeSuppression, findIncidentSuppression } from "@/lib/oncall/suppression";

function targetName(target: PagedTarget): string {
  if (target.kind === "channel") return `channel ${target.name}`;
  return target.via ? `${target.name} (${target.via})` : target.name;
}

/** Shows an incident's escalation: the levels notified and the next one due. */
export async function OncallIncidentEscalation({ incidentId }: { incidentId: number }) {
  const db = getPool();
  const status = await loadEscalationStatus(db, incidentId);
  if (!status) return null;
  const steps = await listEscalationSteps(db, incidentId);
  // A maintenance window or silence defers the next level until it ends.
  const suppression =
    status.status === "active" ? await findIncidentSuppression(db, incidentId, now()) : null;
  return (
    <Card className="h-fit min-w-0 p-4" data-testid="incident-escalation">
      <h2 className="mb-2 text-sm font-medium text-slate-900">Escalation</h2>
      <p className="text-xs text-slate-500">Policy {status.policyName}</p>
      <p className="mt-2 text-sm text-slate-700">
        {status.status === "active" && !suppression && (
          <>
            Level {status.nextLevel} is notified <LocalTime value={status.nextAt} /> unless someone acknowledges first.
          </>
        )}
        {status.status === "active" && suppression && (
          <>
            Level {status.nextLevel} is held back by {describeSuppression(suppression)}. It is notified when
            that ends, unless someone acknowledges first.
          </>
        )}
        {status.status === "stopped" && `Stopped: the incident was ${status.stopReason ?? "handled"}.`}
        {status.status === "completed" && "Every level was notified."}
      </p>
      {steps.length > 0 && (
        <ol className="mt-2 space-y-1 text-sm text-slate-700">
          {steps.map((step) => (
            <li key={`${step.cycle}-${step.level}`}>
              <span className="font-medium">Level {step.level}</span>
              {step.cycle > 1 ? ` (round ${step.cycle})` : ""}, <LocalTime value={step.firedAt} />:{" "}
              {step.targets.map(targetName).join(", ") || "nobody"}
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
