import { formatScore, formatSignificant } from "@/components/format";
import { deviationOf } from "@/components/incident-points";
import { LocalTime } from "@/components/local-time";
import { TextWithTimes } from "@/components/text-with-times";
import type { ScoredPointView } from "@/lib/incidents/queries";

function PointCards({
  point,
  testId,
}: {
  point: ScoredPointView;
  testId: string;
}) {
  return (
    <dl className="grid grid-cols-1 gap-3 sm:grid-cols-3" data-testid={testId}>
      <div className="rounded-md bg-rose-50 p-3">
        <dt className="text-xs text-rose-700">Observed</dt>
        <dd className="mt-1 text-lg font-semibold tabular-nums text-rose-700">
          {formatSignificant(point.observed)}
        </dd>
      </div>
      <div className="rounded-md bg-slate-50 p-3">
        <dt className="text-xs text-slate-500">Expected</dt>
        <dd className="mt-1 text-lg font-semibold tabular-nums text-slate-900">
          {point.expectedLow !== null && point.expectedHigh !== null
            ? `${formatSignificant(point.expectedLow)} to ${formatSignificant(point.expectedHigh)}`
            : "unknown"}
        </dd>
      </div>
      <div className="rounded-md bg-violet-50 p-3">
        <dt className="text-xs text-violet-700">Anomaly score</dt>
        <dd className="mt-1 text-lg font-semibold tabular-nums text-violet-700">
          {formatScore(point.score)}
        </dd>
      </div>
    </dl>
  );
}

function describeDeviation(point: ScoredPointView): string {
  const deviation = deviationOf(point);
  if (!deviation) return "inside the expected range";
  return `${formatSignificant(deviation.distance)} ${deviation.direction} the expected range`;
}

/**
 * Explains a detector incident with two points: the onset, whose score first
 * crossed the threshold, and the point of the episode whose value lay
 * furthest outside its expected range.
 */
export function IncidentExplanation({
  summary,
  seriesName,
  onset,
  maxDeviation,
}: {
  summary: string | null;
  seriesName: string | null;
  onset: ScoredPointView | null;
  maxDeviation: ScoredPointView | null;
}) {
  const series = seriesName ?? "the series";
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
          <PointCards point={onset} testId="onset-point" />
          <p className="text-xs text-slate-500">
            First point of {series} whose anomaly score crossed the threshold of
            1, {describeDeviation(onset)}.
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
          <PointCards point={maxDeviation} testId="max-deviation-point" />
          <p className="text-xs text-slate-500">
            Value of {series} furthest outside its expected range during this
            incident, {describeDeviation(maxDeviation)}.
          </p>
        </section>
      )}

      <p className="text-xs text-slate-500">
        The score is the model&apos;s error over the last few points divided by
        its threshold, so it can stay above 1 for a few points after a spike
        while the values are normal again.
      </p>
    </div>
  );
}
