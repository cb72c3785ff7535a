import { Badge } from "@tremor/react";

import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";

const STATUS_STYLE: Record<IncidentStatus, { color: string; label: string }> = {
  triggered: { color: "rose", label: "Triggered" },
  acknowledged: { color: "amber", label: "Acknowledged" },
  resolved: { color: "emerald", label: "Resolved" },
};

const SEVERITY_STYLE: Record<Severity, { color: string; label: string }> = {
  sev1: { color: "red", label: "SEV1" },
  sev2: { color: "orange", label: "SEV2" },
  sev3: { color: "yellow", label: "SEV3" },
  sev4: { color: "slate", label: "SEV4" },
};

export function StatusBadge({ status }: { status: IncidentStatus }) {
  const style = STATUS_STYLE[status];
  return (
    <Badge color={style.color} size="xs" data-testid="incident-status">
      {style.label}
    </Badge>
  );
}

export function SeverityBadge({
  severity,
  title,
}: {
  severity: Severity;
  title?: string;
}) {
  const style = SEVERITY_STYLE[severity];
  return (
    <Badge
      color={style.color}
      size="xs"
      title={title}
      data-testid="incident-severity"
    >
      {style.label}
    </Badge>
  );
}
