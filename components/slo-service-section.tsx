import Link from "next/link";

import { EmptyState } from "@/components/empty-state";
import { SloCards } from "@/components/slo-cards";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { listSloOverviews } from "@/lib/slo/overview";

/** Renders the SLO section of a service page: its SLOs with their status now. */
export async function SloServiceSection({ serviceId }: { serviceId: number }) {
  const overviews = await listSloOverviews(getPool(), now(), [serviceId]);
  return (
    <section className="mt-6" aria-labelledby="service-slos" data-testid="service-slos">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="service-slos" className="text-base font-semibold text-slate-900">
          SLOs
        </h2>
        <Link href="/slos" prefetch={false} className="text-sm text-blue-700 hover:underline">
          All SLOs
        </Link>
      </div>
      {overviews.length === 0 ? (
        <EmptyState title="No SLOs for this service">
          An admin can define one on the SLOs page, from its request and error metrics, its
          incidents or a latency series.
        </EmptyState>
      ) : (
        <SloCards overviews={overviews} showService={false} />
      )}
    </section>
  );
}
