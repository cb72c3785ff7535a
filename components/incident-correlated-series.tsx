import { Badge } from "@tremor/react";
import Link from "next/link";

import { formatLabels, formatScore } from "@/components/format";
import { LocalTime } from "@/components/local-time";
import type { CorrelatedSeries } from "@/lib/incidents/correlation";

/** Lists the series of a detector incident with their onsets and recovery. */
export function IncidentCorrelatedSeries({
  series,
}: {
  series: CorrelatedSeries[];
}) {
  return (
    <ul
      className="divide-y divide-slate-100"
      data-testid="incident-correlated-series"
    >
      {series.map((entry) => {
        const labels = formatLabels(entry.labels);
        return (
          <li key={entry.seriesId} className="min-w-0 py-2 first:pt-0 last:pb-0">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <Link
                href={`/models/${entry.seriesId}`}
                className="break-all font-mono text-sm text-indigo-600 hover:text-indigo-800"
              >
                {entry.metricName}
              </Link>
              {entry.recoveredAt ? (
                <Badge size="xs" color="emerald">
                  back to normal
                </Badge>
              ) : (
                <Badge size="xs" color="rose">
                  anomalous
                </Badge>
              )}
            </div>
            {labels && (
              <p className="break-all text-xs text-slate-400">{`{${labels}}`}</p>
            )}
            <p className="text-xs text-slate-500">
              onset <LocalTime value={entry.onsetAt} />
              {" · "}peak error {formatScore(entry.peakScore)}×
              {entry.recoveredAt && (
                <>
                  {" · "}normal since <LocalTime value={entry.recoveredAt} />
                </>
              )}
            </p>
          </li>
        );
      })}
    </ul>
  );
}
