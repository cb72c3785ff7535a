import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeaderCell,
  TableRow,
} from "@tremor/react";
import Link from "next/link";

import { formatDuration } from "@/components/format";
import { SeverityBadge, StatusBadge } from "@/components/incident-badges";
import { TimeWithAgo } from "@/components/time-with-ago";
import type { IncidentListItem } from "@/lib/incidents/queries";

type IncidentRow = Pick<
  IncidentListItem,
  "id" | "title" | "status" | "severity" | "openedAt" | "resolvedAt"
> & {
  service?: IncidentListItem["service"];
  assignee?: IncidentListItem["assignee"];
};

/**
 * Incidents as table rows. Row links do not prefetch, because a page that
 * refreshes itself would otherwise prefetch every row on each refresh.
 */
export function IncidentTable({
  incidents,
  now,
  showService = true,
}: {
  incidents: IncidentRow[];
  now: Date;
  showService?: boolean;
}) {
  return (
    <Table data-testid="incident-table">
      <TableHead>
        <TableRow>
          <TableHeaderCell>Status</TableHeaderCell>
          <TableHeaderCell>Severity</TableHeaderCell>
          <TableHeaderCell>Title</TableHeaderCell>
          {showService && <TableHeaderCell>Service</TableHeaderCell>}
          <TableHeaderCell>Opened</TableHeaderCell>
          <TableHeaderCell className="text-right">Duration</TableHeaderCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {incidents.map((incident) => {
          const end = incident.resolvedAt ?? now;
          const duration = formatDuration(
            end.getTime() - incident.openedAt.getTime(),
          );
          return (
            <TableRow key={incident.id} className="hover:bg-slate-50">
              <TableCell>
                <StatusBadge status={incident.status} />
              </TableCell>
              <TableCell>
                <SeverityBadge severity={incident.severity} />
              </TableCell>
              <TableCell className="min-w-40 max-w-md whitespace-normal [overflow-wrap:anywhere]">
                <Link
                  href={`/incidents/${incident.id}`}
                  prefetch={false}
                  className="font-medium text-slate-900 hover:text-indigo-600"
                >
                  {incident.title}
                </Link>
                <span className="ml-2 text-xs text-slate-400">
                  #{incident.id}
                </span>
                {incident.assignee && (
                  <span
                    className="block text-xs text-slate-500"
                    data-testid="incident-row-assignee"
                  >
                    assigned to {incident.assignee.name}
                  </span>
                )}
              </TableCell>
              {showService && incident.service && (
                <TableCell>
                  <Link
                    href={`/services/${incident.service.slug}`}
                    prefetch={false}
                    className="text-slate-600 hover:text-indigo-600"
                  >
                    {incident.service.name}
                  </Link>
                </TableCell>
              )}
              <TableCell>
                <TimeWithAgo value={incident.openedAt} now={now} />
              </TableCell>
              <TableCell className="text-right tabular-nums text-slate-700">
                {incident.resolvedAt ? (
                  duration
                ) : (
                  <span title="still open">{duration} so far</span>
                )}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}
