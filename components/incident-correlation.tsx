import { Card } from "@tremor/react";

import { IncidentCorrelatedSeries } from "@/components/incident-correlated-series";
import { IncidentGroupedAlerts } from "@/components/incident-grouped-alerts";
import { IncidentSuspects } from "@/components/incident-suspects";
import { getConfig } from "@/lib/config";
import { loadIncidentCorrelation } from "@/lib/incidents/correlation";

// The incident page's grouping and change correlation cards: the series or
// alerts grouped into the incident, and the suspect deployments. A server
// component that loads its own data, so the page needs one element for it.

/** Renders the correlated series, grouped alerts and suspects cards. */
export async function IncidentCorrelation({
  incidentId,
  serviceName,
}: {
  incidentId: number;
  serviceName: string;
}) {
  const { correlatedSeries, groupedAlerts, suspectDeployments } =
    await loadIncidentCorrelation(incidentId);
  const lookbackMinutes = getConfig().VIGIL_SUSPECT_LOOKBACK_MINUTES;
  return (
    <>
      <Card className="p-4">
        <h2 className="mb-1 text-sm font-medium text-slate-900">
          Suspect deployments
        </h2>
        {suspectDeployments.length > 0 && (
          <p className="mb-3 text-xs text-slate-500">
            Deployments of {serviceName} in the {lookbackMinutes} minutes
            before the onset, newest first.
          </p>
        )}
        <IncidentSuspects
          suspects={suspectDeployments}
          serviceName={serviceName}
          lookbackMinutes={lookbackMinutes}
        />
      </Card>
      {correlatedSeries.length > 1 && (
        <Card className="p-4">
          <h2 className="mb-3 text-sm font-medium text-slate-900">
            Correlated series ({correlatedSeries.length})
          </h2>
          <IncidentCorrelatedSeries series={correlatedSeries} />
        </Card>
      )}
      {groupedAlerts.length > 1 && (
        <Card className="p-4">
          <h2 className="mb-3 text-sm font-medium text-slate-900">
            Grouped alerts ({groupedAlerts.length})
          </h2>
          <IncidentGroupedAlerts alerts={groupedAlerts} />
        </Card>
      )}
    </>
  );
}
