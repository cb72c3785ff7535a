// The content of a notification. The worker builds it when it sends, from the
// incident as it is then, so a retried "opened" notification of an incident
// resolved meanwhile shows status "resolved".

export type NotificationEvent = "opened" | "reopened" | "resolved" | "test" | "escalation";

export type IncidentSnapshot = {
  id: number;
  title: string;
  status: string;
  severity: string;
  source: string;
  summary: string | null;
  serviceSlug: string;
  serviceName: string;
  openedAt: Date;
  resolvedAt: Date | null;
};

/** Escalation level and person that an "escalation" page is for. */
export type PageTarget = {
  level: number;
  /** Name of the person paged; null for a page to a channel. */
  recipientName: string | null;
};

export type NotificationContent = {
  event: NotificationEvent;
  incident: IncidentSnapshot;
  /** Link to the incident page, from VIGIL_PUBLIC_URL. */
  url: string;
  /** Set for event "escalation" only. */
  page?: PageTarget;
};

/** Returns the incident page URL under the public base URL. */
export function incidentUrl(publicUrl: string, incidentId: number): string {
  return new URL(`incidents/${incidentId}`, publicUrl.replace(/\/*$/, "/")).toString();
}

/**
 * Returns the sample incident of a test notification. Its id is 0, because
 * no incident exists for it, and its link points at the incident list.
 */
export function testContent(publicUrl: string, channelName: string): NotificationContent {
  const now = new Date();
  return {
    event: "test",
    incident: {
      id: 0,
      title: `Test notification from Vigil to channel ${channelName}`,
      status: "triggered",
      severity: "sev4",
      source: "manual",
      summary: "An admin sent this test notification from the notification settings.",
      serviceSlug: "vigil",
      serviceName: "Vigil",
      openedAt: now,
      resolvedAt: null,
    },
    url: new URL("incidents", publicUrl.replace(/\/*$/, "/")).toString(),
  };
}

function headline(content: NotificationContent): string {
  const { incident } = content;
  let label = "Test notification";
  if (content.event === "opened") label = "Incident opened";
  else if (content.event === "reopened") label = "Incident reopened";
  else if (content.event === "resolved") label = "Incident resolved";
  else if (content.event === "escalation") {
    const level = content.page?.level ?? 0;
    const person = content.page?.recipientName;
    label = person ? `Escalation level ${level}, paging ${person}` : `Escalation level ${level}`;
  }
  return `[${incident.severity.toUpperCase()}] ${label}: ${incident.title}`;
}

/** Builds the body of a generic JSON webhook. */
export function webhookBody(content: NotificationContent): Record<string, unknown> {
  const { incident } = content;
  return {
    event: `incident.${content.event}`,
    incident: {
      id: incident.id,
      title: incident.title,
      status: incident.status,
      severity: incident.severity,
      source: incident.source,
      summary: incident.summary,
      service: { slug: incident.serviceSlug, name: incident.serviceName },
      openedAt: incident.openedAt.toISOString(),
      resolvedAt: incident.resolvedAt?.toISOString() ?? null,
      url: content.url,
    },
    ...(content.page ? { escalation: content.page } : {}),
    sentAt: new Date().toISOString(),
  };
}

const SEVERITY_COLORS: Record<string, string> = {
  sev1: "#d32f2f",
  sev2: "#f57c00",
  sev3: "#fbc02d",
  sev4: "#1976d2",
};

/**
 * Builds a Slack incoming-webhook body. It uses `text` and legacy
 * `attachments`, not Block Kit, because Slack-compatible receivers accept
 * those fields too: Mattermost renders both ("Use message attachments",
 * developers.mattermost.com/integrate/reference/message-attachments).
 */
export function slackBody(content: NotificationContent): Record<string, unknown> {
  const { incident } = content;
  const color =
    content.event === "resolved" ? "#2e7d32" : (SEVERITY_COLORS[incident.severity] ?? "#757575");
  return {
    text: `${headline(content)} <${content.url}|open in Vigil>`,
    attachments: [
      {
        fallback: `${headline(content)} ${content.url}`,
        color,
        title: incident.title,
        title_link: content.url,
        text: incident.summary ?? "",
        fields: [
          { title: "Service", value: incident.serviceName, short: true },
          { title: "Severity", value: incident.severity, short: true },
          { title: "Status", value: incident.status, short: true },
          { title: "Source", value: incident.source, short: true },
        ],
        ts: Math.floor(incident.openedAt.getTime() / 1000),
      },
    ],
  };
}

/** Builds the subject and plain-text body of a notification email. */
export function emailMessage(content: NotificationContent): { subject: string; text: string } {
  const { incident } = content;
  const lines = [
    headline(content),
    "",
    `Service:  ${incident.serviceName} (${incident.serviceSlug})`,
    `Severity: ${incident.severity}`,
    `Status:   ${incident.status}`,
    `Source:   ${incident.source}`,
    `Opened:   ${incident.openedAt.toISOString()}`,
    ...(incident.resolvedAt ? [`Resolved: ${incident.resolvedAt.toISOString()}`] : []),
    "",
    incident.summary ?? "(no summary)",
    "",
    `Open the incident: ${content.url}`,
  ];
  return { subject: headline(content), text: `${lines.join("\n")}\n` };
}
