import {
  formatExpectedRange,
  formatMeasurement,
  unitForSeries,
  type SeriesUnit,
} from "@/components/chart-format";
import { formatScore, formatSignificant } from "@/components/format";
import { deviationOf } from "@/components/incident-points";
import { LocalTime } from "@/components/local-time";
import { TextWithTimes } from "@/components/text-with-times";
import type { LikelihoodPoint } from "@/lib/feedback/queries";
import type { ScoredPointView } from "@/lib/incidents/queries";

/** The detector's likelihoods for the incident and the threshold now in effect. */
export type IncidentLikelihood = {
  onset: LikelihoodPoint | null;
  /** Point with the highest likelihood during the incident. */
  peak: LikelihoodPoint | null;
  alarmThreshold: number;
};

function formatLikelihood(value: number): string {
  return value.toFixed(4);
}

function PointCards({
  point,
  unit,
  likelihood,
  testId,
}: {
  point: ScoredPointView;
  unit: SeriesUnit;
  likelihood: number | null;
  testId: string;
}) {
  return (
    <dl className="grid grid-cols-1 gap-3 sm:grid-cols-4" data-testid={testId}>
      <div className="rounded-md bg-rose-50 p-3">
        <dt className="text-xs text-rose-700">Observed</dt>
        <dd className="mt-1 text-lg font-semibold tabular-nums text-rose-700">
          {formatMeasurement(point.observed, unit)}
        </dd>
      </div>
      <div className="rounded-md bg-slate-50 p-3">
        <dt className="text-xs text-slate-500">Expected</dt>
        <dd className="mt-1 text-lg font-semibold tabular-nums text-slate-900">
          {point.expectedLow !== null && point.expectedHigh !== null
            ? formatExpectedRange(point.expectedLow, point.expectedHigh, unit)
            : "unknown"}
        </dd>
      </div>
      <div className="rounded-md bg-violet-50 p-3">
        <dt className="text-xs text-violet-700">Raw score</dt>
        <dd className="mt-1 text-lg font-semibold tabular-nums text-violet-700">
          {formatScore(point.score)}
        </dd>
      </div>
      <div className="rounded-md bg-amber-50 p-3">
        <dt className="text-xs text-amber-700">Likelihood</dt>
        <dd
          className="mt-1 text-lg font-semibold tabular-nums text-amber-700"
          data-testid="point-likelihood"
        >
          {likelihood === null ? "unknown" : formatLikelihood(likelihood)}
        </dd>
      </div>
    </dl>
  );
}

function describeDeviation(point: ScoredPointView, unit: SeriesUnit): string {
  const deviation = deviationOf(point);
  if (!deviation) return "inside the expected range";
  return `${formatMeasurement(deviation.distance, unit)} ${deviation.direction} the expected range`;
}

/**
 * Explains a detector incident with two points: the onset, whose likelihood
 * first reached the alarm threshold, and the point of the episode whose
 * value lay furthest outside its expected range. Also shows the highest
 * likelihood of the incident against the threshold now in effect.
 */
export function IncidentExplanation({
  summary,
  seriesName,
  onset,
  maxDeviation,
  likelihood = null,
  maxDeviationLikelihood = null,
}: {
  summary: string | null;
  seriesName: string | null;
  onset: ScoredPointView | null;
  maxDeviation: ScoredPointView | null;
  likelihood?: IncidentLikelihood | null;
  /** Likelihood at the maxDeviation point, when known. */
  maxDeviationLikelihood?: number | null;
}) {
  const series = seriesName ?? "the series";
  // Same units as the chart: "count", a plain number, when the name has no known suffix.
  const unit = unitForSeries(seriesName ?? "");
  const sameAsOnset =
    onset && maxDeviation && onset.ts.getTime() === maxDeviation.ts.getTime();

  return (
    <div className="space-y-4" data-testid="incident-explanation">
      {summary && (
        <p className="text-sm text-slate-700">
          <TextWithTimes text={summary} />
        </p>
      )}

      {onset ? (
        <section className="space-y-2">
          <h3 className="text-xs font-medium uppercase tracking-wide text-slate-500">
            Onset, <LocalTime value={onset.ts} />
          </h3>
          <PointCards
            point={onset}
            unit={unit}
            likelihood={likelihood?.onset?.likelihood ?? null}
            testId="onset-point"
          />
          <p className="text-xs text-slate-500">
            First point of {series} whose likelihood reached the alarm
            threshold, {describeDeviation(onset, unit)}.
            {sameAsOnset
              ? " It is also the largest deviation of the incident."
              : ""}
          </p>
        </section>
      ) : (
        <p className="text-sm text-slate-500">
          No anomaly score was recorded at the onset.
        </p>
      )}

      {maxDeviation && !sameAsOnset && (
        <section className="space-y-2">
          <h3 className="text-xs font-medium uppercase tracking-wide text-slate-500">
            Largest deviation, <LocalTime value={maxDeviation.ts} />
          </h3>
          <PointCards
            point={maxDeviation}
            unit={unit}
            likelihood={maxDeviationLikelihood}
            testId="max-deviation-point"
          />
          <p className="text-xs text-slate-500">
            Value of {series} furthest outside its expected range during this
            incident, {describeDeviation(maxDeviation, unit)}.
          </p>
        </section>
      )}

      {likelihood?.peak && (
        <p className="text-sm text-slate-700" data-testid="likelihood-summary">
          Highest likelihood {formatLikelihood(likelihood.peak.likelihood)} at{" "}
          <LocalTime value={likelihood.peak.ts} />
          {likelihood.peak.deviation !== null &&
            `, ${formatSignificant(likelihood.peak.deviation, 3)} standard deviations above the series' usual raw scores`}
          . The alarm threshold (a likelihood) of this series is now{" "}
          {formatLikelihood(likelihood.alarmThreshold)}, so a point this
          unusual would{" "}
          {likelihood.peak.likelihood >= likelihood.alarmThreshold
            ? "raise an alarm again"
            : "no longer raise an alarm"}
          .
        </p>
      )}

      <p className="text-xs text-slate-500">
        The raw score is the model&apos;s forecast error over the last few
        points divided by its error threshold, so it can stay high for a few points
        after a spike while the values are normal again. The likelihood
        compares the recent raw scores with the series&apos; own history: 0.5
        is usual, and it approaches 1 as they become rarer. A point is
        anomalous when its likelihood reaches the series&apos; alarm
        threshold.
      </p>
    </div>
  );
}
