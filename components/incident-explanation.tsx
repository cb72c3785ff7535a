import { formatNumber } from "@/components/format";
import { LocalTime } from "@/components/local-time";
import type { OnsetPeak } from "@/lib/incidents/queries";

/** Observed value against the model's expected range at the most anomalous point. */
export function IncidentExplanation({
  summary,
  seriesName,
  peak,
}: {
  summary: string | null;
  seriesName: string | null;
  peak: OnsetPeak | null;
}) {
  const direction =
    peak && peak.expectedHigh !== null && peak.observed > peak.expectedHigh
      ? "above"
      : peak && peak.expectedLow !== null && peak.observed < peak.expectedLow
        ? "below"
        : null;

  return (
    <div className="space-y-4" data-testid="incident-explanation">
      {summary && <p className="text-sm text-slate-700">{summary}</p>}
      {peak ? (
        <>
          <dl className="grid grid-cols-3 gap-3">
            <div className="rounded-md bg-rose-50 p-3">
              <dt className="text-xs text-rose-700">Observed</dt>
              <dd className="mt-1 text-lg font-semibold tabular-nums text-rose-700">
                {formatNumber(peak.observed)}
              </dd>
            </div>
            <div className="rounded-md bg-slate-50 p-3">
              <dt className="text-xs text-slate-500">Expected</dt>
              <dd className="mt-1 text-lg font-semibold tabular-nums text-slate-900">
                {peak.expectedLow !== null && peak.expectedHigh !== null
                  ? `${formatNumber(peak.expectedLow)} to ${formatNumber(peak.expectedHigh)}`
                  : "unknown"}
              </dd>
            </div>
            <div className="rounded-md bg-violet-50 p-3">
              <dt className="text-xs text-violet-700">Anomaly score</dt>
              <dd className="mt-1 text-lg font-semibold tabular-nums text-violet-700">
                {peak.score.toFixed(2)}
              </dd>
            </div>
          </dl>
          <p className="text-xs text-slate-500">
            Highest-scoring point of {seriesName ?? "the series"} since the
            onset, at <LocalTime value={peak.ts} />
            {direction ? `: ${direction} the expected range` : ""}. A score
            above 1 means the model&apos;s error at that point exceeded its
            threshold.
          </p>
        </>
      ) : (
        <p className="text-sm text-slate-500">
          No anomaly scores were recorded for this series after the onset.
        </p>
      )}
    </div>
  );
}
