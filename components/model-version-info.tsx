import { formatDuration, formatThreshold } from "@/components/format";
import { LocalTime } from "@/components/local-time";
import { formatCount } from "@/components/plural";
import type { ServiceDetail } from "@/lib/services/queries";

type ModelVersion = ServiceDetail["series"][number]["modelVersions"][number];

const STATUS_TONE: Record<ModelVersion["status"], string> = {
  active: "bg-emerald-50 text-emerald-700",
  training: "bg-sky-50 text-sky-700",
  retired: "bg-slate-100 text-slate-600",
  failed: "bg-rose-50 text-rose-700",
  rejected: "bg-amber-50 text-amber-700",
};

/** The newest model version of a series: version, status, when and how it was trained. */
export function ModelVersionInfo({ model }: { model: ModelVersion | null }) {
  if (!model) {
    return (
      <p className="text-xs text-slate-500" data-testid="model-version">
        No model yet: one is trained once the series has enough history.
      </p>
    );
  }
  return (
    <dl
      className="grid grid-cols-2 gap-x-4 gap-y-1 text-xs sm:grid-cols-4"
      data-testid="model-version"
    >
      <div>
        <dt className="text-slate-500">Model</dt>
        <dd className="font-medium text-slate-900">
          v{model.version}{" "}
          <span
            className={`rounded px-1 py-0.5 font-normal ${STATUS_TONE[model.status]}`}
          >
            {model.status === "rejected"
              ? "rejected candidate, not serving"
              : model.status}
          </span>
        </dd>
      </div>
      <div>
        <dt className="text-slate-500">Trained</dt>
        <dd
          className="font-medium text-slate-900"
          title={`${formatCount(model.pointCount, ["point", "points"])}, ${formatDuration(model.trainingMs)}`}
        >
          <LocalTime value={model.createdAt} />
        </dd>
      </div>
      <div>
        <dt className="text-slate-500">Backend</dt>
        <dd className="font-medium text-slate-900">
          {model.kind}, {model.backend}
        </dd>
      </div>
      <div>
        <dt
          className="text-slate-500"
          title="RMS forecast error, in robust standard deviations of the training data, at which the anomaly score reaches 1"
        >
          Error threshold
        </dt>
        <dd className="font-medium tabular-nums text-slate-900">
          {formatThreshold(model.threshold)}
        </dd>
      </div>
    </dl>
  );
}
