import type {
  ModelReason,
  ModelStatus,
  TrainingJobStatus,
} from "@/lib/generated/prisma/enums";

// Small labels of the Models page: version status, training reason and
// training job state with its epoch progress.

const STATUS_TONE: Record<ModelStatus, string> = {
  active: "bg-emerald-50 text-emerald-700",
  training: "bg-sky-50 text-sky-700",
  retired: "bg-slate-100 text-slate-600",
  failed: "bg-rose-50 text-rose-700",
  rejected: "bg-amber-50 text-amber-800",
};

const STATUS_LABEL: Record<ModelStatus, string> = {
  active: "active",
  training: "training",
  retired: "retired",
  failed: "failed",
  rejected: "rejected (flagged)",
};

export const REASON_LABEL: Record<ModelReason, string> = {
  initial: "first model",
  schedule: "scheduled",
  drift: "drift",
  request: "on request",
  rollback: "rollback",
};

const JOB_TONE: Record<TrainingJobStatus, string> = {
  queued: "bg-slate-100 text-slate-700",
  running: "bg-sky-50 text-sky-700",
  succeeded: "bg-emerald-50 text-emerald-700",
  failed: "bg-rose-50 text-rose-700",
};

export function ModelStatusBadge({ status }: { status: ModelStatus }) {
  return (
    <span
      className={`whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_TONE[status]}`}
      data-testid="model-status"
    >
      {STATUS_LABEL[status]}
    </span>
  );
}

export function TrainingJobBadge({
  status,
  epochsDone,
  epochsTotal,
}: {
  status: TrainingJobStatus;
  epochsDone: number;
  epochsTotal: number | null;
}) {
  const progress =
    status === "running" && epochsTotal
      ? ` ${epochsDone}/${epochsTotal} epochs`
      : "";
  return (
    <span
      className={`whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ${JOB_TONE[status]}`}
      data-testid="training-job-status"
    >
      {status}
      {progress}
    </span>
  );
}

/** Progress bar of a running training, in epochs. */
export function EpochProgress({
  epochsDone,
  epochsTotal,
}: {
  epochsDone: number;
  epochsTotal: number | null;
}) {
  if (!epochsTotal) return <span className="text-xs text-slate-400">not started</span>;
  const percent = Math.min(100, Math.round((epochsDone / epochsTotal) * 100));
  return (
    <div className="flex items-center gap-2" data-testid="training-progress">
      <div
        className="h-1.5 w-24 overflow-hidden rounded bg-slate-200"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={epochsTotal}
        aria-valuenow={epochsDone}
        aria-label="Training progress in epochs"
      >
        <div className="h-full bg-sky-500" style={{ width: `${percent}%` }} />
      </div>
      <span className="text-xs tabular-nums text-slate-600">
        {epochsDone}/{epochsTotal}
      </span>
    </div>
  );
}

/** Formats a PSI value, or a dash when there was nothing to compare. */
export function formatPsi(value: number | null): string {
  return value === null ? "–" : value.toFixed(3);
}
