"use client";

import {
  Area,
  CartesianGrid,
  ComposedChart,
  Line,
  LineChart,
  ReferenceArea,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipProps,
} from "recharts";

import {
  formatAxisValue,
  formatMeasurement,
  unitForSeries,
  type SeriesUnit,
} from "@/components/chart-format";
import {
  DeploymentMarkerShape,
  IncidentSpanShape,
} from "@/components/chart-overlay-shapes";
import {
  groupDeployments,
  mergeIncidentSpans,
  SEVERITY_FILL,
  type TimeRange,
} from "@/components/chart-overlays";
import { toChartRows, type ChartRow } from "@/components/chart-rows";
import { formatTimeTick, timeTicks } from "@/components/chart-time-axis";
import { formatFullDateTime, formatScore } from "@/components/format";
import {
  ALARM_THRESHOLD_DESCRIPTION,
  ALARM_THRESHOLD_LABEL,
  ERROR_THRESHOLD_LABEL,
} from "@/components/threshold-labels";
import type {
  ChartDeployment,
  ChartIncident,
  SeriesChartPoint,
} from "@/lib/services/queries";

/** Y-axis width in pixels, enough for ticks such as "900 MB" on one line. */
const Y_AXIS_WIDTH = 72;
const MARGIN = { top: 10, right: 12, bottom: 0, left: 0 };

// Tailwind colours: indigo-500, slate-300, rose-600, violet-500, slate-200.
const VALUE_STROKE = "#6366f1";
const BAND_FILL = "#cbd5e1";
const ANOMALY_FILL = "#e11d48";
const LIKELIHOOD_STROKE = "#8b5cf6";
const GRID_STROKE = "#e2e8f0";
const TICK_STYLE = { fontSize: 12, fill: "#64748b" };

/** Time range the x-axis spans, in epoch milliseconds. */
export type ChartRange = TimeRange;

/**
 * Deployments and incidents of the series' service, drawn over the values.
 * NOTE: a page passes the same overlays to each of its charts, so React
 * serializes them once per chart. At the load limits that is a few hundred
 * kB per chart.
 */
export type ChartOverlayData = {
  deployments: ChartDeployment[];
  incidents: ChartIncident[];
  /** End of the spans of open incidents, in epoch milliseconds. */
  now: number;
  /** Link of a span that merges several incidents. */
  incidentListHref: string;
  /** True when the range held more deployments or incidents than were loaded. */
  truncated?: boolean;
};

function makePointTooltip(unit: SeriesUnit) {
  return function PointTooltip({ active, payload }: TooltipProps<number, string>) {
    const row = payload?.[0]?.payload as ChartRow | undefined;
    const point = row?.bucket;
    if (!active || !row || !point || row.value === null) return null;
    return (
      <div className="rounded-md border border-slate-200 bg-white px-3 py-2 text-xs shadow-md">
        <p className="font-medium text-slate-900">{formatFullDateTime(row.ts)}</p>
        <p className="mt-1 text-slate-700">
          Value{" "}
          <span className="font-medium tabular-nums">
            {formatMeasurement(row.value, unit)}
          </span>
        </p>
        {point.pointCount > 1 && (
          <p className="text-slate-400">
            Bucket from {formatFullDateTime(point.ts)}: {point.pointCount} points,{" "}
            {formatMeasurement(point.minValue, unit)} to{" "}
            {formatMeasurement(point.maxValue, unit)}
          </p>
        )}
        {point.expectedLow !== null && point.expectedHigh !== null && (
          <p className="text-slate-500">
            Expected {formatMeasurement(point.expectedLow, unit)} to{" "}
            {formatMeasurement(point.expectedHigh, unit)}
          </p>
        )}
        {point.likelihood !== null && (
          <p className={point.isAnomaly ? "font-medium text-rose-600" : "text-slate-500"}>
            Likelihood {formatLikelihood(point.likelihood)}
            {point.isAnomaly ? ", alarm" : ""}
          </p>
        )}
        {point.score !== null && (
          <p className="text-slate-500">
            Forecast error {formatScore(point.score)} × the{" "}
            {ERROR_THRESHOLD_LABEL.toLowerCase()}
          </p>
        )}
      </div>
    );
  };
}

function LegendItem({ swatch, label, title }: { swatch: string; label: string; title?: string }) {
  return (
    <span className="inline-flex items-center gap-1.5" title={title}>
      <span className={swatch} aria-hidden />
      {label}
    </span>
  );
}

/**
 * Value of a series with the model's expected range as a shaded band, the
 * anomalous points in red, the service's deployments as dashed markers and
 * its incidents as spans coloured by severity. Underneath, the anomaly
 * likelihood against the series' alarm threshold. The x-axis spans `range`,
 * or the points when no range is given.
 */
export function SeriesChart({
  seriesName,
  points,
  alarmThreshold,
  range,
  overlays,
  height = "h-56",
  showScore = true,
}: {
  seriesName: string;
  points: SeriesChartPoint[];
  /** Likelihood at or above which the detector raises an alarm. */
  alarmThreshold: number;
  range?: ChartRange;
  overlays?: ChartOverlayData;
  height?: string;
  showScore?: boolean;
}) {
  if (points.length === 0) {
    return (
      <div
        className="flex h-40 flex-col items-center justify-center rounded-md bg-slate-50 px-4 text-center text-sm text-slate-500"
        data-testid="series-chart-empty"
      >
        <p className="font-medium text-slate-700">No points in this time range</p>
        <p className="mt-1 text-xs">
          Choose a longer range, or check that the service still sends this
          metric to the ingest API.
        </p>
      </div>
    );
  }

  const unit = unitForSeries(seriesName);
  const rows = toChartRows(points);
  const domain: ChartRange = range ?? {
    from: points[0]!.ts,
    to: Math.max(points.at(-1)!.maxTs, points.at(-1)!.minTs, points.at(-1)!.ts),
  };
  const span = domain.to - domain.from;
  const ticks = timeTicks(domain.from, domain.to);
  const markers = overlays ? groupDeployments(overlays.deployments, domain) : [];
  const spans = overlays
    ? mergeIncidentSpans(overlays.incidents, domain, overlays.now)
    : [];
  const hasBand = points.some((point) => point.expectedHigh !== null);
  const hasScores = points.some((point) => point.likelihood !== null);
  const hasAnomalies = points.some((point) => point.isAnomaly);
  const xAxis = (hide: boolean) => (
    <XAxis
      dataKey="ts"
      type="number"
      domain={[domain.from, domain.to]}
      ticks={ticks}
      tickFormatter={(value: number) => formatTimeTick(value, span)}
      tick={hide ? false : TICK_STYLE}
      height={hide ? 4 : 28}
      axisLine={false}
      tickLine={false}
      allowDataOverflow
    />
  );

  return (
    <div data-testid="series-chart">
      <div className={height} data-testid="series-chart-values">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={rows} margin={MARGIN}>
            <CartesianGrid vertical={false} stroke={GRID_STROKE} />
            {xAxis(false)}
            <YAxis
              width={Y_AXIS_WIDTH}
              tick={TICK_STYLE}
              tickFormatter={(value: number) => formatAxisValue(value, unit)}
              domain={["auto", "auto"]}
              axisLine={false}
              tickLine={false}
            />
            {spans.map((item) => (
              <ReferenceArea
                key={`span-${item.start}-${item.incidents[0]!.id}`}
                x1={item.start}
                x2={item.end}
                ifOverflow="visible"
                shape={(props: object) => (
                  <IncidentSpanShape
                    {...props}
                    span={item}
                    href={
                      item.incidents.length === 1
                        ? `/incidents/${item.incidents[0]!.id}`
                        : overlays!.incidentListHref
                    }
                  />
                )}
              />
            ))}
            {hasBand && (
              <Area
                dataKey="band"
                className="series-band"
                stroke="none"
                fill={BAND_FILL}
                fillOpacity={0.6}
                connectNulls={false}
                isAnimationActive={false}
                activeDot={false}
              />
            )}
            <Line
              dataKey="value"
              stroke={VALUE_STROKE}
              strokeWidth={1.5}
              dot={false}
              connectNulls={false}
              isAnimationActive={false}
            />
            {hasAnomalies && (
              <Line
                dataKey="anomaly"
                className="series-anomalies"
                stroke="none"
                dot={{ r: 3, fill: ANOMALY_FILL, stroke: ANOMALY_FILL }}
                activeDot={false}
                isAnimationActive={false}
              />
            )}
            {markers.map((marker) => (
              <ReferenceLine
                key={`deployment-${marker.at}-${marker.deployments[0]!.id}`}
                x={marker.at}
                ifOverflow="visible"
                shape={(props: object) => (
                  <DeploymentMarkerShape {...props} marker={marker} />
                )}
              />
            ))}
            <Tooltip
              content={makePointTooltip(unit)}
              isAnimationActive={false}
              cursor={{ stroke: "#94a3b8", strokeWidth: 1 }}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>

      <p className="mt-2 flex flex-wrap justify-end gap-x-4 gap-y-1 text-xs text-slate-500">
        <LegendItem swatch="h-0.5 w-3 bg-indigo-500" label="Value (min and max per bucket)" />
        {hasBand && (
          <LegendItem
            swatch="h-2.5 w-3 rounded-sm bg-slate-300"
            label="Expected range"
            title="Forecast of the model plus and minus its error threshold, in the series' units"
          />
        )}
        {hasAnomalies && <LegendItem swatch="size-2 rounded-full bg-rose-600" label="Anomalous" />}
        {markers.length > 0 && (
          <LegendItem swatch="h-3 w-0 border-l-2 border-dashed border-sky-600" label="Deployment" />
        )}
        {spans.length > 0 && (
          <span className="inline-flex items-center gap-1.5">
            {(["sev1", "sev2", "sev3", "sev4"] as const).map((severity) => (
              <span
                key={severity}
                className="h-2.5 w-1.5 rounded-sm"
                style={{ backgroundColor: SEVERITY_FILL[severity] }}
                aria-hidden
              />
            ))}
            Incident (SEV1 to SEV4)
          </span>
        )}
      </p>
      {overlays?.truncated && (
        <p className="mt-1 text-right text-xs text-amber-700">
          This range has more deployments or incidents than the chart loads:
          it shows the newest.
        </p>
      )}

      {showScore && hasScores && (
        <>
          <p className="mt-3 flex justify-end gap-4 text-xs text-slate-500">
            <LegendItem swatch="size-2 rounded-full bg-violet-500" label="Anomaly likelihood" />
            <LegendItem
              swatch="size-2 rounded-full bg-rose-500"
              label={`${ALARM_THRESHOLD_LABEL} ${formatLikelihood(alarmThreshold)}`}
              title={ALARM_THRESHOLD_DESCRIPTION}
            />
          </p>
          <div className="h-24" data-testid="series-chart-likelihood">
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={rows} margin={MARGIN}>
                <CartesianGrid vertical={false} stroke={GRID_STROKE} />
                {xAxis(true)}
                <YAxis
                  width={Y_AXIS_WIDTH}
                  tick={TICK_STYLE}
                  domain={[0, 1]}
                  ticks={[0, 0.5, 1]}
                  tickFormatter={formatLikelihood}
                  axisLine={false}
                  tickLine={false}
                />
                <ReferenceLine
                  y={alarmThreshold}
                  stroke="#f43f5e"
                  strokeDasharray="4 3"
                  ifOverflow="extendDomain"
                />
                <Line
                  dataKey="likelihood"
                  stroke={LIKELIHOOD_STROKE}
                  strokeWidth={1.5}
                  dot={false}
                  connectNulls={false}
                  isAnimationActive={false}
                />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </>
      )}
      {showScore && !hasScores && (
        <p className="mt-2 text-xs text-slate-500">
          No anomaly scores yet: the worker scores points once a model is
          trained for this series.
        </p>
      )}
    </div>
  );
}

/** Formats a likelihood with enough digits to tell 0.99 from 0.999. */
function formatLikelihood(value: number): string {
  if (value === 0 || value === 1) return String(value);
  return value >= 0.99 ? value.toFixed(4) : value.toFixed(2);
}
