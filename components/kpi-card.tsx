import { RiArrowRightSLine, RiInformationLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import Link from "next/link";

import { buildHref } from "@/app/(dashboard)/_lib/search-params";
import { formatDuration, formatPercent, formatRate } from "@/components/format";
import {
  KpiSparkChart,
  type KpiTrendPoint,
} from "@/components/kpi-spark-chart";
import { formatCount, type NounForms } from "@/components/plural";
import {
  getKpisWithPrevious,
  getKpiTrend,
  KPI_DEFINITIONS,
  type KpiName,
  type KpiRange,
  type KpiTrendBucket,
  type KpiValue,
} from "@/lib/kpi";

type KpiPresentation = {
  title: string;
  color: string;
  format: (value: number) => string;
  /** Noun for the observations in sampleSize, such as "resolved incident". */
  sampleNoun: NounForms;
  chart: "area" | "bar";
  /** Whether a higher value is better, which colours the change. */
  higherIsBetter: boolean;
};

const PRESENTATION: Record<KpiName, KpiPresentation> = {
  uptime: {
    title: "Uptime",
    color: "emerald",
    format: (ratio) => formatPercent(ratio, ratio >= 0.999 ? 3 : 2),
    sampleNoun: ["service-impacting incident", "service-impacting incidents"],
    chart: "area",
    higherIsBetter: true,
  },
  mtta: {
    title: "MTTA",
    color: "violet",
    format: (seconds) => formatDuration(seconds * 1000),
    sampleNoun: ["acknowledgement", "acknowledgements"],
    chart: "bar",
    higherIsBetter: false,
  },
  mttr: {
    title: "MTTR",
    color: "amber",
    format: (seconds) => formatDuration(seconds * 1000),
    sampleNoun: ["resolved incident", "resolved incidents"],
    chart: "bar",
    higherIsBetter: false,
  },
  incidentFrequency: {
    title: "Incidents per week",
    color: "rose",
    format: formatRate,
    sampleNoun: ["incident opened", "incidents opened"],
    chart: "bar",
    higherIsBetter: false,
  },
  deploymentFrequency: {
    title: "Deployments per day",
    color: "indigo",
    format: formatRate,
    sampleNoun: ["deployment", "deployments"],
    chart: "bar",
    higherIsBetter: true,
  },
  errorRate: {
    title: "Error rate",
    color: "orange",
    format: (ratio) => formatPercent(ratio, 3),
    sampleNoun: ["request", "requests"],
    chart: "area",
    higherIsBetter: false,
  },
  changeFailureRate: {
    title: "Change failure rate",
    color: "fuchsia",
    format: (ratio) => formatPercent(ratio, 1),
    sampleNoun: ["successful deployment", "successful deployments"],
    chart: "bar",
    higherIsBetter: false,
  },
  leadTime: {
    title: "Lead time for changes",
    color: "cyan",
    format: (seconds) => formatDuration(seconds * 1000),
    sampleNoun: ["deployment with a commit time", "deployments with a commit time"],
    chart: "bar",
    higherIsBetter: false,
  },
};

export const KPI_ORDER: KpiName[] = [
  "uptime",
  "mtta",
  "mttr",
  "incidentFrequency",
  "deploymentFrequency",
  "errorRate",
  "changeFailureRate",
  "leadTime",
];

export type KpiLink = { href: string; label: string };

/**
 * Builds the link behind each KPI: the incidents, deployments or series it
 * is computed from, over exactly [from, to) of the range.
 */
export function kpiLinks({
  range,
  service,
  team,
}: {
  range: { from: string; to: string };
  service?: string;
  team?: string;
}): Record<KpiName, KpiLink> {
  const filter = { ...range, service, team };
  const opened: KpiLink = {
    href: buildHref("/incidents", filter),
    label: "Incidents opened in this range",
  };
  const deployments: KpiLink = {
    href: buildHref("/deployments", filter),
    label: "Deployments in this range",
  };
  return {
    uptime: opened,
    mtta: opened,
    mttr: {
      href: buildHref("/incidents", { ...filter, by: "resolved" }),
      label: "Incidents resolved in this range",
    },
    incidentFrequency: opened,
    deploymentFrequency: deployments,
    errorRate: service
      ? {
          href: buildHref(`/services/${service}`, range),
          label: "Request and error series",
        }
      : { href: "/services", label: "Telemetry by service" },
    changeFailureRate: {
      href: buildHref("/deployments", { ...filter, outcome: "failed" }),
      label: "Deployments followed by an incident",
    },
    leadTime: deployments,
  };
}

/**
 * Renders a KPI card for every KPI of `range`, each with its previous
 * period and trend, linking to the lists behind the numbers.
 */
export async function KpiGrid({
  range,
  trendBuckets,
  service,
  team,
}: {
  range: KpiRange;
  trendBuckets: number;
  /** Slugs of the selected service or team, for the links. */
  service?: string;
  team?: string;
}) {
  const [{ current, previous }, trend] = await Promise.all([
    getKpisWithPrevious(range),
    getKpiTrend(range, trendBuckets),
  ]);
  const links = kpiLinks({
    range: { from: range.from.toISOString(), to: range.to.toISOString() },
    service,
    team,
  });
  return (
    <section
      aria-label="Key performance indicators"
      className="mb-6 grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4"
    >
      {KPI_ORDER.map((name) => (
        <KpiCard
          key={name}
          name={name}
          kpi={current[name]}
          trend={trend}
          previous={previous[name]}
          href={links[name].href}
          linkLabel={links[name].label}
        />
      ))}
    </section>
  );
}

type Change = { text: string; tone: "better" | "worse" | "same" };

/**
 * Describes the change from `previous` to `current`: the difference in the
 * KPI's own unit (percentage points for ratios) and whether it is better.
 */
export function describeChange(
  name: KpiName,
  current: number,
  previous: number,
): Change {
  const presentation = PRESENTATION[name];
  const difference = current - previous;
  // Ratios change by percentage points; other KPIs by their own unit.
  const shown =
    KPI_DEFINITIONS[name].unit === "ratio"
      ? `${formatPoints(Math.abs(difference))} pp`
      : presentation.format(Math.abs(difference));
  const zero =
    KPI_DEFINITIONS[name].unit === "ratio"
      ? `${formatPoints(0)} pp`
      : presentation.format(0);
  // Equal when the difference does not show at the card's precision.
  if (shown === zero) return { text: "no change", tone: "same" };
  const sign = difference > 0 ? "+" : "\u2212";
  const better = difference > 0 === presentation.higherIsBetter;
  return { text: `${sign}${shown}`, tone: better ? "better" : "worse" };
}

function formatPoints(ratio: number): string {
  return (ratio * 100).toLocaleString("en-US", { maximumFractionDigits: 3 });
}

const TONE_CLASSES: Record<Change["tone"], string> = {
  better: "bg-emerald-50 text-emerald-700",
  worse: "bg-rose-50 text-rose-700",
  same: "bg-slate-100 text-slate-600",
};

export function KpiCard({
  name,
  kpi,
  trend,
  previous,
  href,
  linkLabel,
}: {
  name: KpiName;
  kpi: KpiValue;
  trend: KpiTrendBucket[];
  /** The same KPI over the period of equal length before the range. */
  previous?: KpiValue;
  href: string;
  linkLabel: string;
}) {
  const presentation = PRESENTATION[name];
  const trendPoints: KpiTrendPoint[] = trend.map((bucket) => ({
    start: bucket.start.getTime(),
    value: bucket.kpis[name].value,
  }));

  return (
    <Card
      className="flex min-w-0 flex-col gap-3 p-4"
      decoration="top"
      decorationColor={presentation.color}
      data-testid={`kpi-${name}`}
    >
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-sm font-medium text-slate-600">
          {presentation.title}
        </h3>
        <span
          title={KPI_DEFINITIONS[name].definition}
          className="text-slate-400"
        >
          <RiInformationLine
            className="size-4"
            aria-label="How this is computed"
          />
        </span>
      </div>

      {kpi.value === null ? (
        <div>
          <p
            className="text-2xl font-semibold text-slate-400"
            data-testid="kpi-value"
          >
            No data
          </p>
          <p className="mt-1 text-xs text-slate-500">
            {kpi.reason ?? "nothing recorded in this range"}
          </p>
        </div>
      ) : (
        <div>
          <Link
            href={href}
            prefetch={false}
            className="text-2xl font-semibold tabular-nums text-slate-900 hover:text-indigo-700"
            data-testid="kpi-value"
          >
            {presentation.format(kpi.value)}
          </Link>
          <p className="mt-1 text-xs text-slate-500">
            {formatCount(kpi.sampleSize, presentation.sampleNoun)}
          </p>
        </div>
      )}

      {previous && (
        <PreviousPeriod name={name} current={kpi} previous={previous} />
      )}

      <KpiSparkChart
        data={trendPoints}
        color={presentation.color}
        variant={presentation.chart}
      />

      <Link
        href={href}
        prefetch={false}
        className="mt-auto inline-flex items-center text-xs font-medium text-indigo-600 hover:text-indigo-800"
      >
        {linkLabel}
        <RiArrowRightSLine className="size-4" aria-hidden />
      </Link>
    </Card>
  );
}

function PreviousPeriod({
  name,
  current,
  previous,
}: {
  name: KpiName;
  current: KpiValue;
  previous: KpiValue;
}) {
  const presentation = PRESENTATION[name];
  const change =
    current.value !== null && previous.value !== null
      ? describeChange(name, current.value, previous.value)
      : null;
  return (
    <p
      className="flex flex-wrap items-center gap-x-2 gap-y-1 text-xs text-slate-500"
      data-testid="kpi-previous"
    >
      <span>
        Previous period:{" "}
        <span className="tabular-nums text-slate-700">
          {previous.value === null
            ? "no data"
            : presentation.format(previous.value)}
        </span>
      </span>
      {change && (
        <span
          className={`rounded px-1.5 py-0.5 font-medium tabular-nums ${TONE_CLASSES[change.tone]}`}
          data-testid="kpi-change"
          data-tone={change.tone}
        >
          {change.text}
        </span>
      )}
    </p>
  );
}
