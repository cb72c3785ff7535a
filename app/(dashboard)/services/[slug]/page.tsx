import { RiArrowLeftSLine, RiLineChartLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";

import {
  buildHref,
  parseRangeSelection,
  type SearchParams,
} from "@/app/(dashboard)/_lib/search-params";
import { AutoRefresh } from "@/components/auto-refresh";
import { DeploymentTable } from "@/components/deployment-table";
import { EmptyState } from "@/components/empty-state";
import { formatLabels } from "@/components/format";
import { IncidentTable } from "@/components/incident-table";
import { ModelVersionInfo } from "@/components/model-version-info";
import { OncallServiceCard } from "@/components/oncall-service-card";
import { PageHeader } from "@/components/page-header";
import { KpiGrid } from "@/components/kpi-card";
import { RangeNotice, RangePicker } from "@/components/range-picker";
import { SeriesChart } from "@/components/series-chart";
import { TeamLink } from "@/components/team-link";
import { SloServiceSection } from "@/components/slo-service-section";
import { requireUser } from "@/lib/auth/session";
import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import { SERVICE_SLUG_PATTERN } from "@/lib/ingest/schemas";
import { findServiceTeam } from "@/lib/teams/store";
import {
  getChartOverlays,
  getSeriesChart,
  getServiceDetail,
} from "@/lib/services/queries";

const LIVE_REFRESH_MS = 15_000;

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<SearchParams>;
};

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  return { title: slug };
}

export default async function ServicePage({ params, searchParams }: Props) {
  await requireUser();
  const { slug } = await params;
  const selection = parseRangeSelection(await searchParams);
  // Only a valid slug reaches the database: a NUL byte in the path, for
  // one, would fail the query with a 500 instead of a 404.
  const decoded = safeDecode(slug);
  if (decoded === null || !SERVICE_SLUG_PATTERN.test(decoded)) notFound();
  const service = await getServiceDetail(decoded);
  if (!service) notFound();
  const team = await findServiceTeam(service.id);

  const now = new Date();
  const { from, to } = selection;
  const chartRange = { from: from.getTime(), to: to.getTime() };
  const [charts, overlays] = await Promise.all([
    Promise.all(
      service.series.map((series) => getSeriesChart(series.id, from, to)),
    ),
    getChartOverlays(service.id, from, to),
  ]);
  const chartOverlays = {
    ...overlays,
    now: now.getTime(),
    incidentListHref: buildHref("/incidents", { service: service.slug }),
  };

  return (
    <>
      <Link
        href="/services"
        prefetch={false}
        className="mb-3 inline-flex items-center text-sm text-slate-500 hover:text-slate-900"
      >
        <RiArrowLeftSLine className="size-4" aria-hidden />
        Services
      </Link>
      <PageHeader
        title={service.name}
        description={
          <>
            {team && (
              <>
                <TeamLink team={team} />{" "}
              </>
            )}
            {service.description ??
              `Telemetry of ${service.slug}, ${selection.description}`}
          </>
        }
        actions={
          <>
            {selection.key !== "custom" && (
              <AutoRefresh intervalMs={LIVE_REFRESH_MS} />
            )}
            <RangePicker
              path={`/services/${service.slug}`}
              selection={selection}
            />
          </>
        }
      />

      {selection.error && <RangeNotice message={selection.error} />}
      <KpiGrid
        range={{ from, to, serviceIds: [service.id] }}
        trendBuckets={selection.trendBuckets}
        service={service.slug}
      />
      <OncallServiceCard slug={service.slug} />
      <SloServiceSection serviceId={service.id} />
      <section aria-label="Series" className="space-y-4">
        {service.series.length === 0 && (
          <EmptyState
            title="No metric series yet"
            icon={<RiLineChartLine className="size-6" aria-hidden />}
          >
            Series appear when metrics for this service arrive through the
            ingest API.
          </EmptyState>
        )}
        {service.series.map((series, index) => {
          const labels = formatLabels(series.labels);
          const role =
            series.name === service.requestMetric
              ? "request counter"
              : series.name === service.errorMetric
                ? "error counter"
                : null;
          return (
            <Card key={series.id} className="p-4" data-testid="series-card">
              <div className="mb-3 flex flex-wrap items-start justify-between gap-3">
                <div className="min-w-0">
                  <h2 className="font-mono text-sm font-medium text-slate-900">
                    {series.name}
                    {role && (
                      <span className="ml-2 rounded bg-slate-100 px-1.5 py-0.5 font-sans text-xs font-normal text-slate-600">
                        {role}
                      </span>
                    )}
                  </h2>
                  {labels && (
                    <p className="font-mono text-xs text-slate-400">{`{${labels}}`}</p>
                  )}
                </div>
                <ModelVersionInfo model={series.modelVersions[0] ?? null} />
              </div>
              <SeriesChart
                seriesName={series.name}
                points={charts[index] ?? []}
                alarmThreshold={
                  series.alarmThreshold ?? DEFAULT_SETTINGS.alarmThreshold
                }
                range={chartRange}
                overlays={chartOverlays}
                height="h-48"
              />
            </Card>
          );
        })}
      </section>

      <div className="mt-6 space-y-4">
        <Card className="p-0">
          <div className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
            <h2 className="text-sm font-medium text-slate-900">
              Recent incidents
            </h2>
            <Link
              href={buildHref("/incidents", { service: service.slug })}
              prefetch={false}
              className="text-xs font-medium text-indigo-600 hover:text-indigo-800"
            >
              All incidents of this service
            </Link>
          </div>
          {service.incidents.length === 0 ? (
            <p className="px-4 py-6 text-sm text-slate-500">
              No incidents for this service.
            </p>
          ) : (
            <div className="px-2">
              <IncidentTable
                incidents={service.incidents}
                now={now}
                showService={false}
              />
            </div>
          )}
        </Card>
        <Card className="p-0">
          <h2 className="border-b border-slate-200 px-4 py-3 text-sm font-medium text-slate-900">
            Recent deployments
          </h2>
          <div className="px-2">
            <DeploymentTable deployments={service.deployments} now={now} />
          </div>
        </Card>
      </div>
    </>
  );
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
