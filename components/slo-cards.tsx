import { Badge, Card } from "@tremor/react";
import Link from "next/link";

import { SloAdminActions } from "@/components/slo-form";
import type { SloFormValues } from "@/components/slo-form-values";
import { formatBudgetAmount, formatBurnRate, formatRatio } from "@/lib/slo/format";
import type { SloOverview } from "@/lib/slo/overview";
import type { BurnWindow, SloState } from "@/lib/slo/status";

// One card per SLO: attainment against the target, error budget remaining,
// burn rates of the fast and slow alerts, and the incidents its burns
// opened. Cards stack on a phone, so nothing scrolls sideways.

const STATE_BADGES: Record<SloState, { label: string; color: string }> = {
  fast_burn: { label: "Fast burn", color: "rose" },
  fast_burn_no_data: { label: "Fast burn, no data", color: "rose" },
  slow_burn: { label: "Slow burn", color: "amber" },
  breached: { label: "Target missed", color: "orange" },
  ok: { label: "On target", color: "emerald" },
  no_data: { label: "No data yet", color: "slate" },
};

function describeKind(overview: SloOverview): string {
  const { slo } = overview;
  if (slo.kind === "latency") {
    return `Latency: ${slo.latencyMetric} at or under ${slo.latencyThreshold}`;
  }
  return slo.availabilitySource === "incidents"
    ? "Availability from incidents"
    : "Availability from requests";
}

function BurnRates({
  label,
  threshold,
  long,
  short,
  burning,
}: {
  label: string;
  threshold: number;
  long: BurnWindow;
  short: BurnWindow;
  burning: boolean;
}) {
  return (
    <div data-testid={`slo-${label.toLowerCase()}-burn`}>
      <dt className="text-xs text-slate-500">
        {label} burn (alert above {threshold}x)
      </dt>
      <dd className={burning ? "font-medium text-rose-700" : "text-slate-900"}>
        {formatBurnRate(long.burnRate)} over {long.minutes} min, {formatBurnRate(short.burnRate)} over{" "}
        {short.minutes} min
      </dd>
    </div>
  );
}

// Tremor's ProgressBar needs a client component, so the bar is drawn here.
const BAR_COLORS = { spent: "bg-rose-500", low: "bg-amber-500", ok: "bg-emerald-500" } as const;

/** Draws the remaining share of the error budget as a bar. */
function BudgetBar({ fraction }: { fraction: number }) {
  let color: string = BAR_COLORS.ok;
  if (fraction <= 0) color = BAR_COLORS.spent;
  else if (fraction < 0.25) color = BAR_COLORS.low;
  const percent = Math.max(0, Math.min(100, fraction * 100));
  return (
    <div className="mt-1 h-2 w-full rounded-full bg-slate-200" aria-hidden>
      <div className={`h-2 rounded-full ${color}`} style={{ width: `${fraction <= 0 ? 100 : percent}%` }} />
    </div>
  );
}

/** Returns the values an admin's edit form starts from. */
export function formValuesOf(overview: SloOverview): SloFormValues {
  const { slo } = overview;
  return {
    service: slo.serviceSlug,
    name: slo.name,
    kind: slo.kind,
    availabilitySource: slo.availabilitySource ?? "requests",
    latencyMetric: slo.latencyMetric ?? "",
    latencyThreshold: slo.latencyThreshold === null ? "" : String(slo.latencyThreshold),
    targetPercent: String(Number((slo.target * 100).toFixed(6))),
    windowDays: String(slo.windowDays),
    fastBurnRate: String(slo.fastBurnRate),
    fastLongMinutes: String(slo.fastLongMinutes),
    fastShortMinutes: String(slo.fastShortMinutes),
    slowBurnRate: String(slo.slowBurnRate),
    slowLongMinutes: String(slo.slowLongMinutes),
    slowShortMinutes: String(slo.slowShortMinutes),
  };
}

/** Renders one SLO; `admin`, with the services to choose from, adds the edit and delete controls. */
export function SloCard({
  overview,
  showService = true,
  admin,
}: {
  overview: SloOverview;
  showService?: boolean;
  admin?: { services: Array<{ slug: string; name: string }> };
}) {
  const { slo, status, burns } = overview;
  const badge = STATE_BADGES[status.state];
  const fraction = status.budgetRemainingFraction;
  return (
    <Card className="min-w-0 p-4" data-testid="slo-card">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h2 className="break-words text-base font-semibold text-slate-900">{slo.name}</h2>
          <p className="text-sm text-slate-500">
            {showService && (
              <>
                <Link href={`/services/${slo.serviceSlug}`} prefetch={false} className="text-blue-700 hover:underline">
                  {slo.serviceName}
                </Link>
                {" · "}
              </>
            )}
            {describeKind(overview)} · target {formatRatio(slo.target)} over {slo.windowDays} days
          </p>
        </div>
        <Badge color={badge.color} data-testid="slo-state">
          {badge.label}
        </Badge>
      </div>

      {status.state === "fast_burn_no_data" && (
        <p className="mt-2 text-sm text-rose-700" data-testid="slo-no-data">
          No data over the last {slo.fastShortMinutes} min. The fast burn that started{" "}
          {slo.burningSince?.toISOString().slice(0, 16).replace("T", " ")} UTC stays open until data shows a burn
          rate at or below {slo.fastBurnRate}x.
        </p>
      )}

      <dl className="mt-3 grid grid-cols-1 gap-3 text-sm sm:grid-cols-2">
        <div>
          <dt className="text-xs text-slate-500">Attainment over {slo.windowDays} days</dt>
          <dd
            className={
              status.attainment !== null && status.attainment < slo.target
                ? "text-lg font-semibold text-rose-700"
                : "text-lg font-semibold text-slate-900"
            }
            data-testid="slo-attainment"
          >
            {formatRatio(status.attainment)}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Error budget remaining</dt>
          <dd data-testid="slo-budget">
            {fraction === null ? (
              <span className="text-slate-500">no data</span>
            ) : (
              <>
                <span className="text-lg font-semibold text-slate-900">{formatRatio(fraction)}</span>{" "}
                <span className="text-xs text-slate-500">
                  ({formatBudgetAmount(status.budgetRemaining, status.unit)} of{" "}
                  {formatBudgetAmount(status.budget, status.unit)})
                </span>
                <BudgetBar fraction={fraction} />
              </>
            )}
          </dd>
        </div>
        <BurnRates label="Fast" {...status.fast} />
        <BurnRates label="Slow" {...status.slow} />
      </dl>

      {burns.length > 0 && (
        <div className="mt-3 text-sm" data-testid="slo-burns">
          <p className="text-xs text-slate-500">Incidents of fast burns</p>
          <ul className="mt-1 flex flex-wrap gap-x-3 gap-y-1">
            {burns.map((burn) =>
              burn.incidentId === null ? (
                <li key={burn.seq} className="text-slate-500">
                  burn {burn.seq} (incident deleted)
                </li>
              ) : (
                <li key={burn.seq}>
                  <Link href={`/incidents/${burn.incidentId}`} prefetch={false} className="text-blue-700 hover:underline">
                    #{burn.incidentId}
                  </Link>{" "}
                  <span className="text-xs text-slate-500">{burn.incidentStatus}</span>
                </li>
              ),
            )}
          </ul>
        </div>
      )}

      {admin && (
        <SloAdminActions id={slo.id} services={admin.services} initial={formValuesOf(overview)} />
      )}
    </Card>
  );
}

/** Renders the SLO cards in a grid. */
export function SloCards({
  overviews,
  showService = true,
  admin,
}: {
  overviews: SloOverview[];
  showService?: boolean;
  admin?: { services: Array<{ slug: string; name: string }> };
}) {
  return (
    <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
      {overviews.map((overview) => (
        <SloCard key={overview.slo.id} overview={overview} showService={showService} admin={admin} />
      ))}
    </div>
  );
}
