import { Callout, Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import {
  firstParam,
  type SearchParams,
} from "@/app/(dashboard)/_lib/search-params";
import { EmptyState } from "@/components/empty-state";
import { PageHeader } from "@/components/page-header";
import { ReportDownloads, ReportForm } from "@/components/report-form";
import { ReportKpiTable } from "@/components/report-kpi-table";
import { ReportSloTable } from "@/components/report-slo-table";
import { ReportSchedules } from "@/components/report-schedules";
import { ApiError } from "@/lib/api/errors";
import { canExportReports } from "@/lib/auth/roles";
import { requireUser } from "@/lib/auth/session";
import { logger } from "@/lib/logger";
import { formatReportTime } from "@/lib/reports/format";
import { TooManyIncidentsError } from "@/lib/reports/incidents";
import {
  DEFAULT_REPORT_PRESET,
  REPORT_PRESET_KEYS,
  type ReportLinkParams,
} from "@/lib/reports/presets";
import { buildReliabilityReport } from "@/lib/reports/report";
import {
  loadReportServices,
  resolveReportSelection,
  type ReportQuery,
} from "@/lib/reports/selection";
import { getPool } from "@/lib/db";
import { listTeams } from "@/lib/teams/store";

export const metadata: Metadata = { title: "Reports" };

/** Reads the selection of the URL back into link parameters for the form. */
function linkParams(query: ReportQuery, services: string[], teams: string[] = []): ReportLinkParams {
  if (query.from && query.to) return { from: query.from, to: query.to, services, teams };
  const range = REPORT_PRESET_KEYS.find((key) => key === query.range) ?? DEFAULT_REPORT_PRESET;
  return { range, services, teams };
}

export default async function ReportsPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const user = await requireUser();
  const canExport = canExportReports(user.role);
  const params = await searchParams;
  const query: ReportQuery = {
    range: firstParam(params.range) ?? null,
    from: firstParam(params.from) ?? null,
    to: firstParam(params.to) ?? null,
    services: firstParam(params.services) ?? null,
    teams: firstParam(params.teams) ?? null,
  };
  const allServices = await loadReportServices([]);
  const allTeams = await listTeams(getPool());

  let error: string | null = null;
  let report = null;
  try {
    const selection = await resolveReportSelection(query, new Date());
    report = await buildReliabilityReport(selection);
  } catch (caught) {
    if (caught instanceof TooManyIncidentsError) {
      logger.warn({ userId: user.id, limit: caught.limit }, "report selection has too many incidents");
      error = `The selection has more than ${caught.limit} incidents; choose a shorter period or fewer services.`;
    } else if (caught instanceof ApiError) {
      logger.warn({ userId: user.id, field: caught.field, reason: caught.message }, "invalid report selection");
      error = caught.message;
    } else {
      throw caught;
    }
  }
  // The form keeps the services named in the URL apart from the teams,
  // whose services the report adds.
  const selectedTeams = report?.teams?.map((team) => team.slug) ?? [];
  const named = query.services?.split(",").map((slug) => slug.trim()) ?? [];
  const selected =
    report && !report.allServices
      ? report.services.map((service) => service.slug).filter((slug) => named.includes(slug))
      : [];
  const link = linkParams(query, selected, selectedTeams);

  return (
    <>
      <PageHeader
        title="Reports"
        description="Reliability reports for a period and a set of services: the overview's KPIs per service and per ISO week, trend charts and the major incidents."
      />
      <Card className="flex flex-col gap-5 p-4">
        <ReportForm
          services={allServices.map(({ slug, name }) => ({ slug, name }))}
          teams={allTeams.map(({ slug, name }) => ({ slug, name }))}
          selection={link}
        />
        {error && (
          <Callout title="Invalid selection" color="rose" role="alert">
            {error}
          </Callout>
        )}
        {report &&
          (canExport ? (
            <ReportDownloads selection={link} />
          ) : (
            <p className="text-sm text-slate-600" data-testid="export-forbidden">
              Exporting reports needs the responder, manager or admin role; your role is {user.role}.
            </p>
          ))}
      </Card>

      {allServices.length === 0 && (
        <div className="mt-6">
          <EmptyState title="No services to report on yet">
            A report covers the services that send metrics, deployments or
            alerts to Vigil. Its KPIs fill in once the first service does.
          </EmptyState>
        </div>
      )}
      {report && allServices.length > 0 && (
        <Card className="mt-6 min-w-0 p-0">
          <div className="border-b border-slate-200 px-4 py-3">
            <h2 className="text-sm font-medium text-slate-900">Key performance indicators</h2>
            <p className="mt-1 text-xs text-slate-500" data-testid="report-period">
              {formatReportTime(report.from)} to {formatReportTime(report.to)},{" "}
              {report.incidents.length} incidents opened,{" "}
              {report.incidents.filter((incident) => incident.major !== null).length} major.{" "}
              {report.teams && report.teams.length > 0 && (
                <span data-testid="report-teams">
                  Teams: {report.teams.map((team) => team.name).join(", ")} (
                  {report.services.length === 0
                    ? "no services"
                    : report.services.map((service) => service.name).join(", ")}
                  ).
                </span>
              )}
            </p>
          </div>
          <div className="px-2">
            <ReportKpiTable report={report} />
          </div>
        </Card>
      )}
      {report && allServices.length > 0 && (
        <Card className="mt-6 min-w-0 p-0">
          <div className="border-b border-slate-200 px-4 py-3">
            <h2 className="text-sm font-medium text-slate-900">SLO attainment</h2>
            <p className="mt-1 text-xs text-slate-500">
              Over the report&apos;s period, which can differ from each SLO&apos;s own window.
            </p>
          </div>
          {report.slos && report.slos.length > 0 ? (
            <div className="px-2">
              <ReportSloTable slos={report.slos} />
            </div>
          ) : (
            <p className="px-4 py-3 text-sm text-slate-500" data-testid="report-no-slos">
              No SLOs are defined for the selected services. Admins define them on the{" "}
              <Link href="/slos" prefetch={false} className="text-blue-600 hover:underline">
                SLOs
              </Link>{" "}
              page.
            </p>
          )}
        </Card>
      )}
      <ReportSchedules role={user.role} />
    </>
  );
}
