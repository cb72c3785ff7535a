import { Badge, Card } from "@tremor/react";

import { AutoRefresh } from "@/components/auto-refresh";
import { LocalTime } from "@/components/local-time";
import { RunStepButton } from "@/components/runbook-step-actions";
import { getPool } from "@/lib/db";
import { findAllowedEntry, listAllowedHosts } from "@/lib/runbooks/allowlist";
import {
  listIncidentRunbookSteps,
  listStepRuns,
  type IncidentRunbookSteps,
  type StepRun,
  type StepRunStatus,
} from "@/lib/runbooks/step-runs";

// The executable steps of an incident's suggested runbooks, with a Run
// button per step for responders, and every run of a step on the incident
// with its status and the response the destination sent.

/** Refresh interval while a run is queued or running. */
const OPEN_RUN_REFRESH_MS = 2000;

const STATUS_COLORS: Record<StepRunStatus, string> = {
  queued: "slate",
  running: "blue",
  succeeded: "emerald",
  failed: "rose",
  refused: "amber",
  suppressed: "gray",
};

function RunEntry({ run }: { run: StepRun }) {
  const retrying = run.status === "running" && run.nextAttemptAt !== null;
  return (
    <li className="py-3 first:pt-0 last:pb-0" data-testid="runbook-step-run" data-status={run.status}>
      <div className="flex flex-wrap items-center gap-2">
        <Badge color={STATUS_COLORS[run.status]} size="xs">
          {retrying ? "retrying" : run.status}
        </Badge>
        <span className="text-sm font-medium text-slate-900">{run.stepTitle}</span>
        <span className="text-xs text-slate-500">
          {run.runbookTitle}
          {run.automatic ? ", automatic" : `, run by ${run.actorName}`}
        </span>
      </div>
      <p className="mt-1 text-xs text-slate-500">
        <LocalTime value={run.createdAt} />
        {run.attempts > 0 && ` · ${run.attempts === 1 ? "1 attempt" : `${run.attempts} attempts`}`}
        {run.responseStatus !== null && ` · HTTP ${run.responseStatus}`}
        {run.durationMs !== null && ` · ${run.durationMs} ms`}
      </p>
      {run.error && <p className="mt-1 text-xs text-rose-700">{run.error}</p>}
      {run.responseBody && (
        <pre
          className="mt-2 max-h-40 overflow-auto whitespace-pre-wrap break-all rounded-md border border-slate-200 bg-slate-50 p-2 text-xs text-slate-700"
          aria-label={`Response of ${run.stepTitle}`}
        >
          {run.responseBody}
        </pre>
      )}
    </li>
  );
}

/**
 * Renders the "Runbook steps" card of the incident page: the steps of the
 * incident's suggested runbooks and their runs. `canRun` shows the Run
 * buttons (responders and admins), and the API checks the role again.
 */
export async function RunbookSteps({
  incidentId,
  canRun,
  resolved,
}: {
  incidentId: number;
  canRun: boolean;
  resolved: boolean;
}) {
  const db = getPool();
  const runbooks = await listIncidentRunbookSteps(db, incidentId);
  const runs = await listStepRuns(db, incidentId);
  const allowedHosts = await listAllowedHosts(db);
  const open = runs.some((run) => run.status === "queued" || run.status === "running");

  return (
    <Card className="p-4">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-sm font-medium text-slate-900">Runbook steps</h2>
        {open && <AutoRefresh intervalMs={OPEN_RUN_REFRESH_MS} />}
      </div>
      {runbooks.length === 0 && runs.length === 0 ? (
        <p className="text-sm text-slate-500">No suggested runbook has executable steps.</p>
      ) : (
        <StepsAndRuns
          incidentId={incidentId}
          canRun={canRun}
          resolved={resolved}
          runbooks={runbooks}
          runs={runs}
          isListed={(url) => isUrlListed(allowedHosts, url)}
        />
      )}
    </Card>
  );
}

/** Checks a step URL's host and port against the allowlist, without resolving it. */
function isUrlListed(allowedHosts: Parameters<typeof findAllowedEntry>[0], url: string): boolean {
  try {
    return findAllowedEntry(allowedHosts, new URL(url)) !== undefined;
  } catch {
    return false;
  }
}

function StepsAndRuns({
  incidentId,
  canRun,
  resolved,
  runbooks,
  runs,
  isListed,
}: {
  incidentId: number;
  canRun: boolean;
  resolved: boolean;
  runbooks: IncidentRunbookSteps[];
  runs: StepRun[];
  isListed: (url: string) => boolean;
}) {
  return (
    <div className="space-y-4" data-testid="incident-runbook-steps">
      {runbooks.map((runbook) => (
        <section key={runbook.runbookId}>
          <h3 className="flex items-center gap-2 text-sm font-medium text-slate-900">
            {runbook.title}
            {runbook.automatic && (
              <Badge color="indigo" size="xs" title="Its steps run by themselves on matching incidents">
                automatic
              </Badge>
            )}
          </h3>
          {runbook.stepsError && (
            <p className="text-xs text-rose-700">The steps of this runbook are invalid: {runbook.stepsError}</p>
          )}
          <ul className="mt-2 divide-y divide-slate-100">
            {runbook.steps.map((step) => (
              <li key={step.id} className="flex flex-wrap items-start justify-between gap-3 py-2">
                <div className="min-w-0">
                  <p className="text-sm text-slate-800">{step.title}</p>
                  <p className="break-all font-mono text-xs text-slate-500">
                    {step.method} {step.url}
                  </p>
                  <p className="text-xs text-slate-400">
                    timeout {step.timeoutSeconds} s, {step.retries === 1 ? "1 retry" : `${step.retries} retries`}
                  </p>
                  {!isListed(step.url) && (
                    <p className="text-xs text-amber-700" data-testid="step-host-not-listed">
                      Its host is not on the runbook allowlist, so a run will be refused.
                    </p>
                  )}
                </div>
                {canRun && !resolved && (
                  <RunStepButton
                    incidentId={incidentId}
                    runbookId={runbook.runbookId}
                    stepId={step.id}
                    stepTitle={step.title}
                  />
                )}
              </li>
            ))}
          </ul>
        </section>
      ))}
      {runs.length > 0 && (
        <section>
          <h3 className="mb-2 text-sm font-medium text-slate-900">Runs</h3>
          <ul className="divide-y divide-slate-100" data-testid="runbook-step-runs">
            {runs.map((run) => (
              <RunEntry key={run.id} run={run} />
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
