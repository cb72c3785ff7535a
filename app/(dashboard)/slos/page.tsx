import { RiFocus3Line } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";

import { EmptyState } from "@/components/empty-state";
import { PageHeader } from "@/components/page-header";
import { SloCards } from "@/components/slo-cards";
import { SloForm } from "@/components/slo-form";
import { EMPTY_SLO_FORM } from "@/components/slo-form-values";
import { requireUser } from "@/lib/auth/session";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { listSloOverviews } from "@/lib/slo/overview";

export const metadata: Metadata = { title: "SLOs" };

// The SLO page: every SLO with its attainment, error budget and burn
// rates now, for every signed-in role. Admins also get the form that
// creates SLOs and the edit and delete controls; the API checks the role
// again on every write.

export default async function SlosPage() {
  const user = await requireUser();
  const isAdmin = user.role === "admin";
  const pool = getPool();
  const overviews = await listSloOverviews(pool, now());
  const { rows: services } = await pool.query<{ slug: string; name: string }>(
    "SELECT slug, name FROM service ORDER BY name, slug",
  );
  const admin = isAdmin ? { services } : undefined;

  return (
    <>
      <PageHeader
        title="SLOs"
        description="Service level objectives: attainment over each window, the error budget left, and burn rates. A fast burn over both its windows opens an incident."
      />
      {overviews.length === 0 ? (
        <EmptyState title="No SLOs yet" icon={<RiFocus3Line className="size-8" aria-hidden />}>
          {isAdmin
            ? "Create one below: pick a service, what counts as good, a target and a window."
            : "An admin defines SLOs per service; they appear here with their error budget and burn rates."}
        </EmptyState>
      ) : (
        <SloCards overviews={overviews} admin={admin} />
      )}
      {isAdmin && (
        <Card className="mt-6 p-4">
          <h2 className="mb-3 text-base font-semibold text-slate-900">New SLO</h2>
          {services.length === 0 ? (
            <p className="text-sm text-slate-500">
              Services appear once Vigil receives their first metrics or deployments.
            </p>
          ) : (
            <SloForm services={services} initial={{ ...EMPTY_SLO_FORM, service: services[0]!.slug }} />
          )}
        </Card>
      )}
    </>
  );
}
