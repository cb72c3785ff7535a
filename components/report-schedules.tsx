import { Card } from "@tremor/react";

import { ReportScheduleList, type ScheduleRow } from "@/components/report-schedule-list";
import { canScheduleReports } from "@/lib/auth/roles";
import { getPool } from "@/lib/db";
import type { Role } from "@/lib/generated/prisma/enums";
import { scheduleJson } from "@/lib/reports/schedule-api";
import { listSchedules } from "@/lib/reports/schedule-store";
import { describeTiming } from "@/lib/reports/schedule-time";

// The "Scheduled reports" section of the /reports page, a server component.
// Only managers and admins see it; the data is not loaded for other roles.

async function loadOptions() {
  const pool = getPool();
  const [services, teams, channels] = await Promise.all([
    pool.query<{ slug: string; name: string }>("SELECT slug, name FROM service ORDER BY name, slug"),
    pool.query<{ slug: string; name: string }>("SELECT slug, name FROM team ORDER BY name, slug"),
    pool.query<{ id: number; name: string; enabled: boolean }>(
      "SELECT id, name, enabled FROM notification_channel WHERE type = 'email' ORDER BY name, id",
    ),
  ]);
  return { services: services.rows, teams: teams.rows, channels: channels.rows };
}

export async function ReportSchedules({ role }: { role: Role }) {
  if (!canScheduleReports(role)) return null;
  const [schedules, options] = await Promise.all([listSchedules(getPool()), loadOptions()]);
  const rows: ScheduleRow[] = schedules.map((schedule) => ({
    ...scheduleJson(schedule),
    timing: describeTiming(schedule),
  })) as ScheduleRow[];

  return (
    <Card className="mt-6 min-w-0 p-4" data-testid="report-schedules">
      <h2 className="text-sm font-medium text-slate-900">Scheduled reports</h2>
      <p className="mb-4 mt-1 text-xs text-slate-500">
        Mail the reliability report of the last full week (Monday to Monday) or calendar month, in the
        schedule&apos;s time zone, through email notification channels.
      </p>
      <ReportScheduleList schedules={rows} {...options} />
    </Card>
  );
}
