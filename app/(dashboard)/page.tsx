import { RiAlarmWarningLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import {
  buildHref,
  firstParam,
  parseRange,
  RANGE_KEYS,
  RANGE_PRESETS,
  rangeBounds,
  type SearchParams,
} from "@/app/(dashboard)/_lib/search-params";
import { AutoRefresh } from "@/components/auto-refresh";
import { EmptyState } from "@/components/empty-state";
import { IncidentTable } from "@/components/incident-table";
import { KPI_ORDER, KpiCard } from "@/components/kpi-card";
import { PageHeader } from "@/components/page-header";
import { SegmentedLinks } from "@/components/segmented-links";
import { ServiceFilter } from "@/components/service-filter";
import { requireUser } from "@/lib/auth/session";
import { countOpenIncidents, listIncidents } from "@/lib/incidents/queries";
import { getKpis, getKpiTrend, type KpiName } from "@/lib/kpi";
import { listServices } from "@/lib/services/queries";

export const metadata: Metadata = { title: "Overview" };

const LATEST_INCIDENTS = 8;
const LIVE_REFRESH_MS = 15_000;

export default async function OverviewPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  await requireUser();
  const params = await searchParams;
  const rangeKey = parseRange(params);
  const services = await listServices();
  const service = services.find(
    (item) => item.slug === firstParam(params.service),
  );
  const serviceIds = service ? [service.id] : undefined;

  const now = new Date();
  const range = { ...rangeBounds(rangeKey, now), serviceIds };
  const [kpis, trend, open, latest] = await Promise.all([
    getKpis(range),
    getKpiTrend(range, RANGE_PRESETS[rangeKey].trendBuckets),
    countOpenIncidents(serviceIds),
    listIncidents({ serviceId: service?.id, limit: LATEST_INCIDENTS }),
  ]);

  const filter = { range: rangeKey, service: service?.slug };
  const servicePage = service ? `/services/${service.slug}` : "/services";
  const links: Record<KpiName, { href: string; label: string }> = {
    uptime: {
      href: buildHref("/incidents", filter),
      label: "Incidents in this range",
    },
    mtta: {
      href: buildHref("/incidents", filter),
      label: "Incidents in this range",
    },
    mttr: {
      href: buildHref("/incidents", { ...filter, status: "resolved" }),
      label: "Resolved incidents",
    },
    incidentFrequency: {
      href: buildHref("/incidents", filter),
      label: "Incidents in this range",
    },
    deploymentFrequency: {
      href: buildHref(servicePage, { range: rangeKey }),
      label: service ? "Deployments of this service" : "Deployments by service",
    },
    errorRate: {
      href: buildHref(servicePage, { range: rangeKey }),
      label: service ? "Request and error series" : "Telemetry by service",
    },
  };

  return (
    <>
      <PageHeader
        title="Overview"
        description={`${service ? service.name : "All services"}, ${RANGE_PRESETS[rangeKey].description}`}
        actions={
          <>
            <AutoRefresh intervalMs={LIVE_REFRESH_MS} />
            <ServiceFilter services={services} selected={service?.slug} />
            <SegmentedLinks
              label="Time range"
              options={RANGE_KEYS.map((key) => ({
                key,
                label: RANGE_PRESETS[key].label,
                href: buildHref("/", { range: key, service: service?.slug }),
                active: key === rangeKey,
              }))}
            />
          </>
        }
      />

      <section
        aria-label="Key performance indicators"
        className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-6"
      >
        {KPI_ORDER.map((name) => (
          <KpiCard
            key={name}
            name={name}
            kpi={kpis[name]}
            trend={trend}
            href={links[name].href}
            linkLabel={links[name].label}
          />
        ))}
      </section>

      <section className="mt-6 grid grid-cols-1 gap-4 lg:grid-cols-4">
        <Card
          className="h-fit min-w-0 p-4 lg:col-span-1"
          data-testid="open-incidents"
        >
          <h2 className="text-sm font-medium text-slate-600">Open incidents</h2>
          <p className="mt-2 text-3xl font-semibold tabular-nums text-slate-900">
            {open.total}
          </p>
          <dl className="mt-4 space-y-2 text-sm">
            <div className="flex justify-between">
              <dt className="text-slate-500">Triggered</dt>
              <dd className="font-medium tabular-nums text-rose-600">
                {open.triggered}
              </dd>
            </div>
            <div className="flex justify-between">
              <dt className="text-slate-500">Acknowledged</dt>
              <dd className="font-medium tabular-nums text-amber-600">
                {open.acknowledged}
              </dd>
            </div>
          </dl>
          {services.length > 0 && (
            <>
              <h3 className="mt-5 border-t border-slate-100 pt-4 text-xs font-medium uppercase tracking-wide text-slate-500">
                By service
              </h3>
              <ul className="mt-2 space-y-1.5 text-sm">
                {(service ? [service] : services).map((item) => (
                  <li
                    key={item.id}
                    className="flex items-center justify-between gap-2"
                  >
                    <Link
                      href={buildHref("/incidents", {
                        status: "open",
                        service: item.slug,
                      })}
                      prefetch={false}
                      className="truncate text-slate-700 hover:text-indigo-600"
                    >
                      {item.name}
                    </Link>
                    {item.openIncidentCount > 0 ? (
                      <span className="rounded-full bg-rose-50 px-2 text-xs font-medium tabular-nums text-rose-700">
                        {item.openIncidentCount} open
                      </span>
                    ) : (
                      <span className="text-xs text-emerald-600">healthy</span>
                    )}
                  </li>
                ))}
              </ul>
            </>
          )}
        </Card>

        <Card className="min-w-0 p-0 lg:col-span-3">
          <div className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
            <h2 className="text-sm font-medium text-slate-900">
              Latest incidents
            </h2>
            <Link
              href={buildHref("/incidents", { service: service?.slug })}
              prefetch={false}
              className="text-xs font-medium text-indigo-600 hover:text-indigo-800"
            >
              All incidents
            </Link>
          </div>
          {latest.length === 0 ? (
            <div className="p-4">
              <EmptyState
                title="No incidents yet"
                icon={<RiAlarmWarningLine className="size-6" aria-hidden />}
              >
                Incidents appear here when the detector finds anomalous
                telemetry or an alert opens one.
              </EmptyState>
            </div>
          ) : (
            <div className="px-2">
              <IncidentTable incidents={latest} now={now} />
            </div>
          )}
        </Card>
      </section>
    </>
  );
}
