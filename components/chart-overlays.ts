import { formatFullDateTime } from "@/components/format";
import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";
import type { ChartDeployment, ChartIncident } from "@/lib/services/queries";

// Deployment markers and incident spans of a series chart. Deployments that
// fall within one slot of the range share a marker, and incident spans that
// overlap or nearly touch merge, so that a 90-day range with thousands of
// deployments still draws a readable chart.

/** Range of the x-axis, in epoch milliseconds. */
export type TimeRange = { from: number; to: number };

/** Number of equal slots in the range. Deployments closer than one slot share a marker. */
export const DEPLOYMENT_MARKER_SLOTS = 120;
/** Number of equal slots in the range. Spans with a gap under one slot merge. */
export const INCIDENT_SPAN_SLOTS = 300;

export type DeploymentMarker = {
  /** Time of the first deployment of the marker, in epoch milliseconds. */
  at: number;
  deployments: ChartDeployment[];
  title: string;
};

export type IncidentSpan = {
  /** Start and end clipped to the range, in epoch milliseconds. */
  start: number;
  end: number;
  /** Highest severity among the span's incidents. */
  severity: Severity;
  incidents: ChartIncident[];
  title: string;
};

const SEVERITY_RANK: Record<Severity, number> = {
  sev1: 1,
  sev2: 2,
  sev3: 3,
  sev4: 4,
};

/** Fill colours of incident spans: Tailwind's red-500, orange-500, amber-400 and slate-400. */
export const SEVERITY_FILL: Record<Severity, string> = {
  sev1: "#ef4444",
  sev2: "#f97316",
  sev3: "#fbbf24",
  sev4: "#94a3b8",
};

const STATUS_TEXT: Record<IncidentStatus, string> = {
  triggered: "triggered",
  acknowledged: "acknowledged",
  resolved: "resolved",
};

/** Maximum entries a marker or span title lists before "and N more". */
const TITLE_ENTRIES = 5;

function describeDeployment(deployment: ChartDeployment): string {
  const status = deployment.status === "success" ? "" : `, ${deployment.status}`;
  return `${deployment.version} (${deployment.environment}${status}) at ${formatFullDateTime(deployment.deployedAt)}`;
}

function describeIncident(incident: ChartIncident): string {
  const end =
    incident.resolvedAt === null
      ? "still open"
      : `to ${formatFullDateTime(incident.resolvedAt)}`;
  return (
    `#${incident.id} ${incident.severity.toUpperCase()} ${incident.title}, ` +
    `${STATUS_TEXT[incident.status]}, from ${formatFullDateTime(incident.openedAt)} ${end}`
  );
}

function listTitle(heading: string, lines: string[]): string {
  const listed = lines.slice(0, TITLE_ENTRIES);
  const more = lines.length - listed.length;
  return [heading, ...listed, ...(more > 0 ? [`and ${more} more`] : [])].join(
    "\n",
  );
}

/**
 * Groups the deployments inside the range into markers. A deployment joins
 * the current marker when it is less than one slot after the marker's first
 * deployment.
 */
export function groupDeployments(
  deployments: readonly ChartDeployment[],
  range: TimeRange,
  slots: number = DEPLOYMENT_MARKER_SLOTS,
): DeploymentMarker[] {
  const slotMs = (range.to - range.from) / slots;
  const inside = deployments
    .filter((d) => d.deployedAt >= range.from && d.deployedAt <= range.to)
    .sort((a, b) => a.deployedAt - b.deployedAt || a.id - b.id);

  const groups: ChartDeployment[][] = [];
  for (const deployment of inside) {
    const current = groups.at(-1);
    if (current && deployment.deployedAt - current[0]!.deployedAt < slotMs) {
      current.push(deployment);
    } else {
      groups.push([deployment]);
    }
  }

  return groups.map((group) => ({
    at: group[0]!.deployedAt,
    deployments: group,
    title:
      group.length === 1
        ? `Deployment ${describeDeployment(group[0]!)}`
        : listTitle(
            `${group.length} deployments`,
            group.map(describeDeployment),
          ),
  }));
}

/**
 * Clips each incident to the range, from its opening to its resolution or
 * to `now` while it is open, and merges spans that overlap or lie less than
 * one slot apart. A merged span takes the highest severity of its incidents.
 */
export function mergeIncidentSpans(
  incidents: readonly ChartIncident[],
  range: TimeRange,
  now: number,
  slots: number = INCIDENT_SPAN_SLOTS,
): IncidentSpan[] {
  const slotMs = (range.to - range.from) / slots;
  const clipped = incidents
    .map((incident) => ({
      incident,
      start: Math.max(incident.openedAt, range.from),
      end: Math.min(incident.resolvedAt ?? now, range.to),
    }))
    .filter((entry) => entry.end >= entry.start)
    .sort((a, b) => a.start - b.start || a.incident.id - b.incident.id);

  const spans: Omit<IncidentSpan, "title">[] = [];
  for (const entry of clipped) {
    const current = spans.at(-1);
    if (current && entry.start - current.end < slotMs) {
      current.end = Math.max(current.end, entry.end);
      current.incidents.push(entry.incident);
      if (SEVERITY_RANK[entry.incident.severity] < SEVERITY_RANK[current.severity]) {
        current.severity = entry.incident.severity;
      }
    } else {
      spans.push({
        start: entry.start,
        end: entry.end,
        severity: entry.incident.severity,
        incidents: [entry.incident],
      });
    }
  }

  return spans.map((span) => ({
    ...span,
    title:
      span.incidents.length === 1
        ? `Incident ${describeIncident(span.incidents[0]!)}`
        : listTitle(
            `${span.incidents.length} incidents, highest ${span.severity.toUpperCase()}`,
            span.incidents.map(describeIncident),
          ),
  }));
}
