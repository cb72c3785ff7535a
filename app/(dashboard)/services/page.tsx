import { RiServerLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import { EmptyState } from "@/components/empty-state";
import { formatAgo } from "@/components/format";
import { PageHeader } from "@/components/page-header";
import { TeamLink } from "@/components/team-link";
import { requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { listServices } from "@/lib/services/queries";
import { teamsByService } from "@/lib/teams/store";

export const metadata: Metadata = { title: "Services" };

export default async function ServicesPage() {
  await requireUser();
  const [services, teams] = await Promise.all([listServices(), teamsByService(getPool())]);
  const now = new Date();

  return (
    <>
      <PageHeader
        title="Services"
        description="Every service that sends telemetry or deployments to Vigil."
      />
      {services.length === 0 ? (
        <EmptyState
          title="No services yet"
          icon={<RiServerLine className="size-6" aria-hidden />}
        >
          A service appears here with the first metrics or deployment sent for
          it through the ingest API.
        </EmptyState>
      ) : (
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3">
          {services.map((service) => (
            <Link
              key={service.id}
              href={`/services/${service.slug}`}
              prefetch={false}
              className="group min-w-0"
            >
              <Card className="h-full p-4 transition group-hover:ring-indigo-300">
                <div className="flex items-start justify-between gap-3">
                  <div className="min-w-0">
                    <h2 className="truncate text-sm font-semibold text-slate-900 group-hover:text-indigo-700">
                      {service.name}
                    </h2>
                    <p className="font-mono text-xs text-slate-400">
                      {service.slug}
                    </p>
                    {teams.has(service.id) && (
                      <p className="mt-1">
                        <span className="inline-flex items-center rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700" data-testid="service-team">
                          Team {teams.get(service.id)!.name}
                        </span>
                      </p>
                    )}
                  </div>
                  {service.openIncidentCount > 0 ? (
                    <span className="rounded-full bg-rose-50 px-2 py-0.5 text-xs font-medium text-rose-700">
                      {service.openIncidentCount} open
                    </span>
                  ) : (
                    <span className="rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700">
                      Healthy
                    </span>
                  )}
                </div>
                {service.description && (
                  <p className="mt-2 line-clamp-2 text-sm text-slate-600">
                    {service.description}
                  </p>
                )}
                <dl className="mt-4 grid grid-cols-3 gap-2 text-xs">
                  <div>
                    <dt className="text-slate-500">Series</dt>
                    <dd className="mt-0.5 font-medium tabular-nums text-slate-900">
                      {service.seriesCount}
                    </dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Last point</dt>
                    <dd className="mt-0.5 font-medium text-slate-900">
                      {service.lastPointAt
                        ? formatAgo(service.lastPointAt, now)
                        : "none"}
                    </dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Last deploy</dt>
                    <dd className="mt-0.5 truncate font-medium text-slate-900">
                      {service.lastDeployment
                        ? `${service.lastDeployment.version}, ${formatAgo(service.lastDeployment.deployedAt, now)}`
                        : "none"}
                    </dd>
                  </div>
                </dl>
              </Card>
            </Link>
          ))}
        </div>
      )}
    </>
  );
}
