"use client";

import { Badge, Button } from "@tremor/react";
import { useState } from "react";

import { FeedbackLine, useApiRequest } from "@/components/api-request";
import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { formatCount } from "@/components/plural";
import {
  NEW_SCHEDULE,
  ReportScheduleForm,
  type ChannelOption,
  type ScheduleDraft,
  type ScheduleOption,
} from "@/components/report-schedule-form";

// The "Scheduled reports" list of the /reports page: each schedule with its
// timing, selection, next and newest run, and the edit, "Send now" and
// delete actions, followed by the form for a new schedule.

/** A schedule as GET /api/v1/report-schedules returns it, with the timing described. */
export type ScheduleRow = {
  id: number;
  name: string;
  timing: string;
  cadence: "weekly" | "monthly";
  dayOfWeek: number | null;
  dayOfMonth: number | "last" | null;
  timeOfDay: string;
  timeZone: string;
  allServices: boolean;
  services: ScheduleOption[];
  teams: ScheduleOption[];
  formats: ("pdf" | "csv")[];
  channels: ChannelOption[];
  enabled: boolean;
  nextRunAt: string | null;
  lastRun: { status: string; periodStart: string; periodEnd: string; error: string | null; sentAt: string | null } | null;
};

const STATUS_COLORS: Record<string, "emerald" | "amber" | "rose" | "slate"> = {
  sent: "emerald",
  pending: "slate",
  retrying: "amber",
  failed: "rose",
};

function draftOf(row: ScheduleRow): ScheduleDraft {
  return {
    id: row.id,
    name: row.name,
    cadence: row.cadence,
    dayOfWeek: row.dayOfWeek ?? 1,
    dayOfMonth: row.dayOfMonth ?? 1,
    timeOfDay: row.timeOfDay,
    timeZone: row.timeZone,
    services: row.services.map((service) => service.slug),
    teams: row.teams.map((team) => team.slug),
    formats: row.formats,
    channels: row.channels.map((channel) => channel.id),
    enabled: row.enabled,
  };
}

function selectionText(row: ScheduleRow): string {
  if (row.allServices) return "All services";
  const parts = [
    ...row.teams.map((team) => `team ${team.name}`),
    ...row.services.map((service) => service.name),
  ];
  return parts.join(", ");
}

function ScheduleActions({ row, onEdit }: { row: ScheduleRow; onEdit: () => void }) {
  const { pending, feedback, send } = useApiRequest();
  return (
    <div className="flex flex-col items-start gap-1 sm:items-end">
      <div className="flex flex-wrap gap-2">
        <Button size="xs" variant="secondary" onClick={onEdit}>
          Edit
        </Button>
        <Button
          size="xs"
          variant="secondary"
          loading={pending}
          onClick={() =>
            void send("POST", `/api/v1/report-schedules/${row.id}/send`, {}, {
              ok: (body) =>
                `Sent the report of ${String(body?.period?.from ?? "").slice(0, 10)} to ${String(body?.period?.to ?? "").slice(0, 10)} through ${formatCount(body?.sent?.length ?? 0, ["channel", "channels"])}.`,
              failed: "Sending the report failed.",
            })
          }
        >
          Send now
        </Button>
        <Button
          size="xs"
          variant="light"
          color="rose"
          disabled={pending}
          onClick={() => {
            if (!window.confirm(`Delete the schedule "${row.name}" and its run history?`)) return;
            void send("DELETE", `/api/v1/report-schedules/${row.id}`, {}, {
              ok: () => `Deleted "${row.name}".`,
              failed: "Deleting the schedule failed.",
            });
          }}
        >
          Delete
        </Button>
      </div>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

export function ReportScheduleList({
  schedules,
  services,
  teams,
  channels,
}: {
  schedules: ScheduleRow[];
  services: ScheduleOption[];
  teams: ScheduleOption[];
  channels: ChannelOption[];
}) {
  const [editing, setEditing] = useState<number | null>(null);
  const options = { services, teams, channels };

  return (
    <div className="flex flex-col gap-6">
      {schedules.length === 0 ? (
        <EmptyState title="No scheduled reports yet">
          Create one below to mail the reliability report every week or month.
        </EmptyState>
      ) : (
        <ul className="divide-y divide-slate-200" data-testid="report-schedule-list">
          {schedules.map((row) => (
            <li key={row.id} className="min-w-0 py-3" data-testid={`report-schedule-${row.id}`}>
              {editing === row.id ? (
                <ReportScheduleForm initial={draftOf(row)} {...options} onDone={() => setEditing(null)} />
              ) : (
                <div className="flex flex-col gap-2 sm:flex-row sm:items-start sm:justify-between">
                  <div className="min-w-0 space-y-1 text-sm">
                    <p className="flex flex-wrap items-center gap-2 font-medium text-slate-900">
                      <span className="break-all">{row.name}</span>
                      {!row.enabled && <Badge color="slate">Disabled</Badge>}
                      {row.lastRun && (
                        <Badge color={STATUS_COLORS[row.lastRun.status] ?? "slate"}>{row.lastRun.status}</Badge>
                      )}
                    </p>
                    <p className="text-slate-600">
                      {row.timing}, {row.formats.map((format) => format.toUpperCase()).join(" and ")} to{" "}
                      {row.channels.map((channel) => channel.name).join(", ") || "no channel"}
                    </p>
                    <p className="break-words text-slate-600">{selectionText(row)}</p>
                    <p className="text-xs text-slate-500">
                      Next run: {row.nextRunAt ? <LocalTime value={row.nextRunAt} /> : "none (disabled)"}
                      {row.lastRun && (
                        <>
                          {" "}
                          · Last period: {row.lastRun.periodStart.slice(0, 10)} to {row.lastRun.periodEnd.slice(0, 10)}
                          {row.lastRun.sentAt && (
                            <>
                              , sent <LocalTime value={row.lastRun.sentAt} />
                            </>
                          )}
                        </>
                      )}
                    </p>
                    {row.lastRun?.error && (
                      <p className="break-words text-xs text-rose-700" role="alert">
                        {row.lastRun.error}
                      </p>
                    )}
                  </div>
                  <ScheduleActions row={row} onEdit={() => setEditing(row.id)} />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="border-t border-slate-200 pt-4">
        <h3 className="mb-3 text-sm font-medium text-slate-900">New schedule</h3>
        <ReportScheduleForm initial={NEW_SCHEDULE} {...options} onDone={() => undefined} />
      </div>
    </div>
  );
}
