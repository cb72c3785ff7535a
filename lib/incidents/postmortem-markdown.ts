import { formatDuration } from "@/components/format";
import { getPool } from "@/lib/db";
import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";
import { checkIncidentId } from "@/lib/incidents/errors";
import { getPostmortem, type PostmortemView } from "@/lib/incidents/postmortem";
import { computeIncidentTimings } from "@/lib/incidents/timings";

// The Markdown export of a postmortem: the incident's facts (times,
// duration, time to acknowledge), the written sections, follow-up items
// with owners, and an excerpt of the timeline. Written sections are the
// responders' own Markdown, so they are copied as they are. Values from
// elsewhere (titles, names, timeline messages) are flattened to one line and
// escaped where Markdown would read them as syntax.

/** Timeline entries the export lists, oldest first. */
export const TIMELINE_EXCERPT_MAX = 50;

/** Kinds left out of the excerpt: delivery records and the postmortem's own edits. */
const EXCLUDED_KINDS = new Set([
  "notification_sent",
  "notification_failed",
  "postmortem_updated",
]);

export type PostmortemExport = {
  incident: {
    id: number;
    title: string;
    status: IncidentStatus;
    severity: Severity;
    source: string;
    serviceName: string;
    serviceSlug: string;
    openedAt: Date;
    acknowledgedAt: Date | null;
    resolvedAt: Date | null;
    assigneeName: string | null;
  };
  postmortem: PostmortemView | null;
  events: {
    kind: string;
    actorType: string;
    actorName: string;
    message: string;
    createdAt: Date;
  }[];
};

/** Loads what the export needs, or null when the incident does not exist. */
export async function loadPostmortemExport(
  incidentId: number,
): Promise<PostmortemExport | null> {
  checkIncidentId(incidentId);
  const pool = getPool();
  const { rows } = await pool.query<{
    id: number;
    title: string;
    status: IncidentStatus;
    severity: Severity;
    source: string;
    service_name: string;
    service_slug: string;
    opened_at: Date;
    acknowledged_at: Date | null;
    resolved_at: Date | null;
    assignee_name: string | null;
  }>(
    `SELECT i.id, i.title, i.status, i.severity, i.source, s.name AS service_name,
            s.slug AS service_slug, i.opened_at, i.acknowledged_at, i.resolved_at,
            u.name AS assignee_name
       FROM incident i
       JOIN service s ON s.id = i.service_id
       LEFT JOIN user_account u ON u.id = i.assignee_id
      WHERE i.id = $1`,
    [incidentId],
  );
  const row = rows[0];
  if (!row) return null;
  const [postmortem, events] = await Promise.all([
    getPostmortem(incidentId),
    pool.query<{
      kind: string;
      actor_type: string;
      actor_name: string;
      message: string;
      created_at: Date;
    }>(
      `SELECT kind, actor_type, actor_name, message, created_at
         FROM incident_event WHERE incident_id = $1
        ORDER BY created_at, id`,
      [incidentId],
    ),
  ]);
  return {
    incident: {
      id: row.id,
      title: row.title,
      status: row.status,
      severity: row.severity,
      source: row.source,
      serviceName: row.service_name,
      serviceSlug: row.service_slug,
      openedAt: row.opened_at,
      acknowledgedAt: row.acknowledged_at,
      resolvedAt: row.resolved_at,
      assigneeName: row.assignee_name,
    },
    postmortem,
    events: events.rows.map((event) => ({
      kind: event.kind,
      actorType: event.actor_type,
      actorName: event.actor_name,
      message: event.message,
      createdAt: event.created_at,
    })),
  };
}

/** Flattens text to one line and escapes characters that Markdown reads as inline syntax. */
export function escapeInline(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/([\\`*_[\]<>|#])/g, "\\$1");
}

/** Formats a time as "2026-12-04 23:10:05 UTC". */
function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function section(title: string, body: string | undefined): string[] {
  const text = body?.trim();
  return [`## ${title}`, "", text ? text : "_Not written yet._", ""];
}

/** Names who set a status from the newest timeline event of that kind. */
function lastActor(data: PostmortemExport, kind: string): string | null {
  return data.events.findLast((event) => event.kind === kind)?.actorName ?? null;
}

function factsTable(data: PostmortemExport, now: Date): string[] {
  const { incident } = data;
  const timings = computeIncidentTimings(incident, data.events);
  const end = incident.resolvedAt ?? now;
  const duration = formatDuration(end.getTime() - incident.openedAt.getTime());
  const acknowledgedBy = lastActor(data, "acknowledged");
  const resolvedBy = lastActor(data, "resolved");
  const acknowledgedCycles = timings.cycles.filter(
    (cycle) => cycle.timeToAcknowledgeMs !== null,
  ).length;

  let timeToAcknowledge = "not acknowledged";
  if (timings.timeToAcknowledgeMs !== null) {
    timeToAcknowledge = formatDuration(timings.timeToAcknowledgeMs);
    if (timings.cycles.length > 1) {
      timeToAcknowledge += ` (mean over ${acknowledgedCycles} of ${timings.cycles.length} triggers)`;
    }
  }
  const rows: [string, string][] = [
    ["Service", `${escapeInline(incident.serviceName)} (\`${incident.serviceSlug}\`)`],
    ["Severity", incident.severity.toUpperCase()],
    ["Status", incident.status],
    ["Source", incident.source],
    ["Opened", formatUtc(incident.openedAt)],
    [
      "Acknowledged",
      incident.acknowledgedAt
        ? `${formatUtc(incident.acknowledgedAt)}${acknowledgedBy ? ` by ${escapeInline(acknowledgedBy)}` : ""}`
        : "not acknowledged",
    ],
    [
      "Resolved",
      incident.resolvedAt
        ? `${formatUtc(incident.resolvedAt)}${resolvedBy ? ` by ${escapeInline(resolvedBy)}` : ""}`
        : "not resolved",
    ],
    ["Duration", incident.resolvedAt ? duration : `${duration} so far, still open`],
    ["Time to acknowledge (MTTA)", timeToAcknowledge],
    ["Reopened", timings.reopenCount === 1 ? "once" : `${timings.reopenCount} times`],
    ["Assignee", incident.assigneeName ? escapeInline(incident.assigneeName) : "nobody"],
  ];
  return [
    "| | |",
    "| --- | --- |",
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    "",
  ];
}

function timelineExcerpt(data: PostmortemExport): string[] {
  const entries = data.events.filter((event) => !EXCLUDED_KINDS.has(event.kind));
  if (entries.length === 0) return ["## Timeline", "", "_No events._", ""];
  const shown = entries.slice(0, TIMELINE_EXCERPT_MAX);
  const lines = shown.map((event) => {
    const actor =
      event.actorType === "user"
        ? escapeInline(event.actorName)
        : `${escapeInline(event.actorName)} (${event.actorType})`;
    return `- ${formatUtc(event.createdAt)}, **${actor}**: ${escapeInline(event.message)}`;
  });
  if (entries.length > shown.length) {
    lines.push(
      `- _${entries.length - shown.length} later events are on the incident page._`,
    );
  }
  return ["## Timeline", "", ...lines, ""];
}

function followUpList(postmortem: PostmortemView | null): string[] {
  const items = postmortem?.followUps ?? [];
  if (items.length === 0) return ["## Follow-up items", "", "_None._", ""];
  const lines = items.map((item) => {
    const details = [
      `owner: ${item.owner ? escapeInline(item.owner.name) : "nobody"}`,
      ...(item.dueDate ? [`due ${item.dueDate}`] : []),
    ];
    return `- [${item.done ? "x" : " "}] ${escapeInline(item.description)} (${details.join(", ")})`;
  });
  return ["## Follow-up items", "", ...lines, ""];
}

/** Renders the postmortem of an incident as a Markdown document. */
export function renderPostmortemMarkdown(
  data: PostmortemExport,
  now: Date = new Date(),
): string {
  const { incident, postmortem } = data;
  const lines = [
    `# Postmortem: ${escapeInline(incident.title)} (incident #${incident.id})`,
    "",
    ...factsTable(data, now),
    ...section("Summary", postmortem?.summary),
    ...section("Impact", postmortem?.impact),
    ...section("Root cause", postmortem?.rootCause),
    ...followUpList(postmortem),
    ...timelineExcerpt(data),
  ];
  if (postmortem) {
    lines.push(
      `_Postmortem version ${postmortem.version}, last saved by ${escapeInline(postmortem.updatedBy.name)} at ${formatUtc(postmortem.updatedAt)}. Exported at ${formatUtc(now)}._`,
      "",
    );
  } else {
    lines.push(`_No postmortem written yet. Exported at ${formatUtc(now)}._`, "");
  }
  return lines.join("\n");
}

/** File name for the download, such as "incident-42-postmortem.md". */
export function postmortemFileName(incidentId: number): string {
  return `incident-${incidentId}-postmortem.md`;
}
