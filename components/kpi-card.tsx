import { RiArrowRightSLine, RiInformationLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import Link from "next/link";

import { formatDuration, formatPercent, formatRate } from "@/components/format";
import {
  KpiSparkChart,
  type KpiTrendPoint,
} from "@/components/kpi-spark-chart";
import { formatCount, type NounForms } from "@/components/plural";
import {
  KPI_DEFINITIONS,
  type KpiName,
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
};

const PRESENTATION: Record<KpiName, KpiPresentation> = {
  uptime: {
    title: "Uptime",
    color: "emerald",
    format: (ratio) => formatPercent(ratio, ratio >= 0.999 ? 3 : 2),
    sampleNoun: ["service-impacting incident", "service-impacting incidents"],
    chart: "area",
  },
  mtta: {
    title: "MTTA",
    color: "violet",
    format: (seconds) => formatDuration(seconds * 1000),
    sampleNoun: ["acknowledgement", "acknowledgements"],
    chart: "bar",
  },
  mttr: {
    title: "MTTR",
    color: "amber",
    format: (seconds) => formatDuration(seconds * 1000),
    sampleNoun: ["resolved incident", "resolved incidents"],
    chart: "bar",
  },
  incidentFrequency: {
    title: "Incidents per week",
    color: "rose",
    format: formatRate,
    sampleNoun: ["incident opened", "incidents opened"],
    chart: "bar",
  },
  deploymentFrequency: {
    title: "Deployments per day",
    color: "indigo",
    format: formatRate,
    sampleNoun: ["deployment", "deployments"],
    chart: "bar",
  },
  errorRate: {
    title: "Error rate",
    color: "orange",
    format: (ratio) => formatPercent(ratio, 3),
    sampleNoun: ["request", "requests"],
    chart: "area",
  },
};

export const KPI_ORDER: KpiName[] = [
  "uptime",
  "mtta",
  "mttr",
  "incidentFrequency",
  "deploymentFrequency",
  "errorRate",
];

export function KpiCard({
  name,
  kpi,
  trend,
  href,
  linkLabel,
}: {
  name: KpiName;
  kpi: KpiValue;
  trend: KpiTrendBucket[];
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
          <p
            className="text-2xl font-semibold tabular-nums text-slate-900"
            data-testid="kpi-value"
          >
            {presentation.format(kpi.value)}
          </p>
          <p className="mt-1 text-xs text-slate-500">
            {formatCount(kpi.sampleSize, presentation.sampleNoun)}
          </p>
        </div>
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
