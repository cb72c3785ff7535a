import {
  Badge,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeaderCell,
  TableRow,
} from "@tremor/react";

import { TimeWithAgo } from "@/components/time-with-ago";
import type { ServiceDetail } from "@/lib/services/queries";

const STATUS_COLORS: Record<string, string> = {
  success: "emerald",
  failed: "rose",
};

export function DeploymentTable({
  deployments,
  now,
}: {
  deployments: ServiceDetail["deployments"];
  now: Date;
}) {
  if (deployments.length === 0) {
    return (
      <p className="px-2 py-6 text-sm text-slate-500">
        No deployments recorded.
      </p>
    );
  }
  return (
    <Table data-testid="deployment-table">
      <TableHead>
        <TableRow>
          <TableHeaderCell>Version</TableHeaderCell>
          <TableHeaderCell>Environment</TableHeaderCell>
          <TableHeaderCell>Status</TableHeaderCell>
          <TableHeaderCell>Deployed</TableHeaderCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {deployments.map((deployment) => (
          <TableRow key={deployment.id}>
            <TableCell className="whitespace-normal">
              <span className="font-mono text-sm text-slate-900">
                {deployment.version}
              </span>
              {deployment.commitSha && (
                <span className="ml-2 font-mono text-xs text-slate-400">
                  {deployment.commitSha.slice(0, 7)}
                </span>
              )}
              {deployment.description && (
                <p className="text-xs text-slate-500">
                  {deployment.description}
                </p>
              )}
            </TableCell>
            <TableCell className="text-slate-600">
              {deployment.environment}
            </TableCell>
            <TableCell>
              <Badge
                size="xs"
                color={STATUS_COLORS[deployment.status] ?? "slate"}
              >
                {deployment.status}
              </Badge>
            </TableCell>
            <TableCell>
              <TimeWithAgo value={deployment.deployedAt} now={now} />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
