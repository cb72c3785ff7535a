import { Badge } from "@tremor/react";

import { LocalTime } from "@/components/local-time";
import { describeGap, type SuspectDeployment } from "@/lib/incidents/suspects";

// Deployments of the incident's service shortly before its onset, newest
// first (lib/incidents/suspects.ts).

const STATUS_COLORS: Record<string, string> = {
  success: "emerald",
  failed: "rose",
  failure: "rose",
  error: "rose",
};

/** Lists the suspect deployments with their gap before the onset. */
export function IncidentSuspects({
  suspects,
  serviceName,
  lookbackMinutes,
}: {
  suspects: SuspectDeployment[];
  serviceName: string;
  lookbackMinutes: number;
}) {
  if (suspects.length === 0) {
    return (
      <p className="text-sm text-slate-500" data-testid="incident-suspects">
        No deployment of {serviceName} in the {lookbackMinutes} minutes before
        the onset.
      </p>
    );
  }
  return (
    <ol className="space-y-3" data-testid="incident-suspects">
      {suspects.map((suspect) => (
        <li key={suspect.deploymentId} className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            <span className="font-mono text-sm text-slate-900">
              {suspect.version}
            </span>
            <Badge size="xs" color={STATUS_COLORS[suspect.status] ?? "slate"}>
              {suspect.status}
            </Badge>
            <span className="text-xs text-slate-500">
              {suspect.environment}
            </span>
          </div>
          <p className="text-sm font-medium text-amber-700">
            {describeGap(suspect.gapMinutes)}
          </p>
          <p className="text-xs text-slate-500">
            <LocalTime value={suspect.deployedAt} />
            {suspect.commitSha && (
              <span className="ml-2 font-mono" title={suspect.commitSha}>
                {suspect.commitSha.slice(0, 7)}
              </span>
            )}
          </p>
          {suspect.description && (
            <p className="break-words text-xs text-slate-500">
              {suspect.description}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
