import nodemailer from "nodemailer";

import { ApiError } from "@/lib/api/errors";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import type { KpiName } from "@/lib/kpi";
import type { EmailConfig } from "@/lib/notifications/channels";
import type { SendResult } from "@/lib/notifications/send";
import { publicUrl } from "@/lib/notifications/settings";
import { renderIncidentsCsv, renderReliabilityCsv } from "@/lib/reports/csv";
import {
  formatReportKpi,
  formatReportTime,
  REPORT_KPI_COLUMNS,
  REPORT_KPI_ORDER,
} from "@/lib/reports/format";
import { renderReliabilityPdf } from "@/lib/reports/pdf";
import { reportQueryString } from "@/lib/reports/presets";
import {
  buildReliabilityReport,
  reportFileName,
  type ReliabilityReport,
} from "@/lib/reports/report";
import type { ReportSchedule } from "@/lib/reports/schedule-store";
import type { ReportPeriod } from "@/lib/reports/schedule-time";
import { resolveReportSelection, type ReportSelection } from "@/lib/reports/selection";

// Builds the report of one schedule and period with the same functions as
// GET /api/v1/reports/* and mails it as attachments through email
// notification channels, over SMTP with nodemailer as
// lib/notifications/send.ts sends incident email.

export type MailAttachment = { filename: string; content: Buffer | string; contentType: string };

export type ReportMail = {
  subject: string;
  text: string;
  attachments: MailAttachment[];
  report: ReliabilityReport;
};

/**
 * A schedule whose selection can no longer be resolved, such as one naming
 * a deleted service or team. Retrying cannot help, so the run fails at once.
 */
export class ScheduleSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleSelectionError";
  }
}

/** An email channel with its SMTP password, as stored. */
export type MailChannel = {
  id: number;
  name: string;
  enabled: boolean;
  config: EmailConfig;
  password: string | null;
};

/**
 * Resolves the schedule's services and teams for a period through the
 * report selection, the same way as the report routes. Throws
 * ScheduleSelectionError when a stored service or team no longer exists.
 */
export async function resolveScheduleSelection(
  schedule: ReportSchedule,
  period: ReportPeriod,
): Promise<ReportSelection> {
  if (schedule.services.length < schedule.serviceIds.length) {
    const missing = schedule.serviceIds.filter((id) => !schedule.services.some((service) => service.id === id));
    throw new ScheduleSelectionError(`service ids ${missing.join(", ")} of the schedule no longer exist; edit the schedule`);
  }
  if (schedule.teams.length < schedule.teamIds.length) {
    const missing = schedule.teamIds.filter((id) => !schedule.teams.some((team) => team.id === id));
    throw new ScheduleSelectionError(`team ids ${missing.join(", ")} of the schedule no longer exist; edit the schedule`);
  }
  try {
    return await resolveReportSelection(
      {
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        services: schedule.services.map((service) => service.slug).join(","),
        teams: schedule.teams.map((team) => team.slug).join(","),
      },
      period.to,
    );
  } catch (error) {
    // A service or team deleted since the schedule was read.
    if (error instanceof ApiError) throw new ScheduleSelectionError(error.message);
    throw error;
  }
}

function selectionText(report: ReliabilityReport): string {
  if (report.allServices) return `All services (${report.services.length})`;
  const teams = (report.teams ?? []).map((team) => team.name);
  const services = report.services.map((service) => service.name).join(", ") || "no services";
  return teams.length > 0 ? `Teams ${teams.join(", ")}: ${services}` : services;
}

function kpiLines(report: ReliabilityReport): string[] {
  return REPORT_KPI_ORDER.map((name: KpiName) => {
    // The longest title is 22 characters with its colon, so 23 keeps a space.
    const title = `${REPORT_KPI_COLUMNS[name].title}:`.padEnd(23);
    return `  ${title}${formatReportKpi(name, report.overall.period[name])}`;
  });
}

/** Builds the subject, text and attachments of a schedule's mail for a period. */
export async function buildReportMail(
  schedule: ReportSchedule,
  period: ReportPeriod,
  generatedAt: Date,
): Promise<ReportMail> {
  const selection = await resolveScheduleSelection(schedule, period);
  const report = await buildReliabilityReport(selection, generatedAt);
  const baseUrl = publicUrl(getConfig());

  const attachments: MailAttachment[] = [];
  if (schedule.formats.includes("pdf")) {
    attachments.push({
      filename: reportFileName("reliability", report, "pdf"),
      content: await renderReliabilityPdf(report),
      contentType: "application/pdf",
    });
  }
  if (schedule.formats.includes("csv")) {
    attachments.push(
      {
        filename: reportFileName("reliability", report, "csv"),
        content: renderReliabilityCsv(report),
        contentType: "text/csv; charset=utf-8",
      },
      {
        filename: reportFileName("incidents", report, "csv"),
        content: renderIncidentsCsv(report, baseUrl),
        contentType: "text/csv; charset=utf-8",
      },
    );
  }

  const day = (date: Date) => date.toISOString().slice(0, 10);
  const link = `${baseUrl.replace(/\/+$/, "")}/reports?${reportQueryString({
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    services: report.allServices ? [] : report.services.map((service) => service.slug),
  })}`;
  const major = report.incidents.filter((incident) => incident.major !== null).length;
  const lines = [
    `Reliability report "${schedule.name}"`,
    "",
    `Period:    ${formatReportTime(period.from)} to ${formatReportTime(period.to)}`,
    `Services:  ${selectionText(report)}`,
    `Incidents: ${report.incidents.length} opened, ${major} major`,
    "",
    "Key performance indicators for the whole selection:",
    ...kpiLines(report),
    "",
    `Attached: ${attachments.map((attachment) => attachment.filename).join(", ")}`,
    `Open the report in Vigil: ${link}`,
    "",
    `This schedule runs ${schedule.cadence}; managers and admins change it on the Reports page.`,
  ];
  return {
    subject: `Vigil reliability report "${schedule.name}", ${day(period.from)} to ${day(period.to)}`,
    text: `${lines.join("\n")}\n`,
    attachments,
    report,
  };
}

/** Loads the schedule's email channels with their SMTP passwords, ordered by name. */
export async function loadMailChannels(scheduleId: number): Promise<MailChannel[]> {
  const { rows } = await getPool().query<{
    id: number;
    name: string;
    enabled: boolean;
    type: string;
    config: EmailConfig;
    secret_config: { password?: string | null };
  }>(
    `SELECT c.id, c.name, c.enabled, c.type, c.config, c.secret_config
       FROM report_schedule_channel rc JOIN notification_channel c ON c.id = rc.channel_id
      WHERE rc.schedule_id = $1
      ORDER BY c.name, c.id`,
    [scheduleId],
  );
  // The API accepts only email channels, and a channel's type never changes.
  return rows
    .filter((row) => row.type === "email")
    .map((row) => ({
      id: row.id,
      name: row.name,
      enabled: row.enabled,
      config: row.config,
      password: row.secret_config.password ?? null,
    }));
}

/**
 * Sends the mail through one email channel. The timeout applies to the
 * connection, the server greeting and each socket read, as in
 * lib/notifications/send.ts. A failure is returned, not thrown.
 */
export async function sendReportMail(
  channel: MailChannel,
  mail: ReportMail,
  timeoutMs: number,
): Promise<SendResult> {
  if (!channel.enabled) {
    return {
      succeeded: false,
      httpStatus: null,
      smtpResponse: null,
      error: `channel ${JSON.stringify(channel.name)} is disabled; an admin enables it under Settings, Notifications`,
    };
  }
  const { config } = channel;
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    auth: config.username !== null ? { user: config.username, pass: channel.password ?? "" } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    const info = await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: mail.subject,
      text: mail.text,
      attachments: mail.attachments,
    });
    return { succeeded: true, httpStatus: null, smtpResponse: info.response, error: null };
  } catch (error) {
    const smtpError = error as { response?: string; code?: string; message?: string };
    return {
      succeeded: false,
      httpStatus: null,
      smtpResponse: smtpError.response ?? null,
      error: `SMTP ${smtpError.code ?? "error"}: ${smtpError.message ?? String(error)}`,
    };
  } finally {
    transport.close();
  }
}
