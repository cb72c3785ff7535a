import { LocalTime } from "@/components/local-time";
import {
  EpochProgress,
  REASON_LABEL,
  TrainingJobBadge,
} from "@/components/model-badges";
import type { TrainingJob } from "@/lib/models/training-jobs";

/**
 * Lists training jobs as stacked cards, for phone widths where the
 * seven-column table would hide columns and wrap each row very tall.
 */
export function TrainingJobCards({
  jobs,
  className = "",
}: {
  jobs: TrainingJob[];
  className?: string;
}) {
  return (
    <ul
      className={`divide-y divide-slate-100 text-sm ${className}`}
      data-testid="training-job-cards"
    >
      {jobs.map((job) => (
        <li key={job.id} className="space-y-1 py-2">
          <div className="flex flex-wrap items-center gap-2">
            <span className="tabular-nums font-medium">#{job.id}</span>
            <TrainingJobBadge
              status={job.status}
              epochsDone={job.epochsDone}
              epochsTotal={job.epochsTotal}
            />
            <EpochProgress epochsDone={job.epochsDone} epochsTotal={job.epochsTotal} />
          </div>
          <p className="text-xs text-slate-500">
            {REASON_LABEL[job.reason]}, requested by {job.requestedByName},{" "}
            <LocalTime value={job.createdAt} />
          </p>
          {job.message && <p className="text-xs text-slate-600">{job.message}</p>}
        </li>
      ))}
    </ul>
  );
}
