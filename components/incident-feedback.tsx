"use client";

import { RiCloseCircleLine, RiCheckboxCircleLine } from "@remixicon/react";
import { Badge, Button, Callout } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

import {
  giveFeedbackAction,
  type FeedbackActionResponse,
} from "@/app/(dashboard)/incidents/[id]/actions";
import { formatPercent } from "@/components/format";
import { LocalTime } from "@/components/local-time";
import {
  ALARM_THRESHOLD_DESCRIPTION,
  ALARM_THRESHOLD_LABEL,
} from "@/components/threshold-labels";

// The responder's verdict on a detector incident: the current verdict with
// who gave it and when, buttons to give or change it, the alarm threshold it
// produced and the precision of the series and of the model version.

export type Verdict = "real" | "false_alarm";

/** A verdict as the page passes it, with times as ISO strings. */
export type FeedbackEntryProps = {
  id: number;
  verdict: Verdict;
  comment: string | null;
  actorName: string;
  createdAt: string;
};

export type PrecisionProps = {
  real: number;
  falseAlarm: number;
  precision: number | null;
};

const VERDICT_LABEL: Record<Verdict, string> = {
  real: "Real anomaly",
  false_alarm: "False alarm",
};

/** The server's response, or a request that never got one. */
type FeedbackOutcome =
  | FeedbackActionResponse
  | { ok: false; error: { code: "request_failed"; message: string } };

function describePrecision(counts: PrecisionProps | null): string {
  if (!counts || counts.precision === null) return "no verdicts yet";
  const judged = counts.real + counts.falseAlarm;
  return `${formatPercent(counts.precision, 0)} (${counts.real} of ${judged} judged incidents real)`;
}

function VerdictBadge({ verdict }: { verdict: Verdict }) {
  return (
    <Badge
      color={verdict === "real" ? "rose" : "slate"}
      size="xs"
      data-testid="feedback-verdict"
    >
      {VERDICT_LABEL[verdict]}
    </Badge>
  );
}

export function IncidentFeedback({
  incidentId,
  canGiveFeedback,
  history,
  alarmThreshold,
  thresholdFromFeedback,
  seriesPrecision,
  modelPrecision,
  modelVersion,
}: {
  incidentId: number;
  canGiveFeedback: boolean;
  /** Every verdict, newest first. */
  history: FeedbackEntryProps[];
  alarmThreshold: number;
  thresholdFromFeedback: boolean;
  seriesPrecision: PrecisionProps | null;
  modelPrecision: PrecisionProps | null;
  /** Version number of the model that scored the onset, when known. */
  modelVersion: number | null;
}) {
  const router = useRouter();
  const [comment, setComment] = useState("");
  const [pending, setPending] = useState<Verdict | null>(null);
  const [outcome, setOutcome] = useState<FeedbackOutcome | null>(null);
  const current = history[0] ?? null;

  async function submit(verdict: Verdict) {
    setPending(verdict);
    try {
      const result = await giveFeedbackAction(
        incidentId,
        verdict,
        comment.trim() === "" ? null : comment,
      );
      setOutcome(result);
      if (result.ok) setComment("");
      router.refresh();
    } catch {
      setOutcome({
        ok: false,
        error: {
          code: "request_failed",
          message:
            "The server did not complete the request. Reload the page and try again.",
        },
      });
    } finally {
      setPending(null);
    }
  }

  return (
    <div className="space-y-4" data-testid="incident-feedback">
      <div>
        {current ? (
          <div className="space-y-1" data-testid="feedback-current">
            <VerdictBadge verdict={current.verdict} />
            <p className="text-xs text-slate-500">
              by {current.actorName}, <LocalTime value={current.createdAt} />
            </p>
            {current.comment && (
              <p className="text-sm text-slate-700">{current.comment}</p>
            )}
          </div>
        ) : (
          <p className="text-sm text-slate-500" data-testid="feedback-current">
            No verdict yet.
          </p>
        )}
      </div>

      {canGiveFeedback ? (
        <div className="space-y-2">
          <label className="block text-xs text-slate-500">
            Comment (optional)
            <textarea
              className="mt-1 block w-full rounded-md border-slate-300 text-sm"
              rows={2}
              maxLength={2000}
              value={comment}
              onChange={(event) => setComment(event.target.value)}
            />
          </label>
          {/* Toggle buttons: only the current verdict is filled and pressed. */}
          <div className="flex flex-wrap gap-2" role="group" aria-label="Verdict">
            <Button
              size="xs"
              color="rose"
              variant={current?.verdict === "real" ? "primary" : "secondary"}
              aria-pressed={current?.verdict === "real"}
              icon={RiCheckboxCircleLine}
              loading={pending === "real"}
              disabled={pending !== null}
              onClick={() => void submit("real")}
            >
              Real anomaly
            </Button>
            <Button
              size="xs"
              color="slate"
              variant={current?.verdict === "false_alarm" ? "primary" : "secondary"}
              aria-pressed={current?.verdict === "false_alarm"}
              icon={RiCloseCircleLine}
              loading={pending === "false_alarm"}
              disabled={pending !== null}
              onClick={() => void submit("false_alarm")}
            >
              False alarm
            </Button>
          </div>
        </div>
      ) : (
        <p className="text-xs text-slate-500" data-testid="feedback-read-only">
          Giving feedback needs the responder role.
        </p>
      )}

      {outcome && (
        <Callout
          title={
            outcome.ok
              ? outcome.outcome === "recorded"
                ? `Marked as ${VERDICT_LABEL[outcome.verdict].toLowerCase()}`
                : "Verdict unchanged"
              : "Not recorded"
          }
          color={outcome.ok ? "emerald" : "rose"}
          role="status"
          data-testid="feedback-result"
        >
          {outcome.ok
            ? outcome.outcome === "unchanged"
              ? "The newest verdict already says this, so nothing was recorded."
              : undefined
            : outcome.error.message}
        </Callout>
      )}

      <dl className="space-y-1 text-xs text-slate-500">
        <div>
          <dt className="inline" title={ALARM_THRESHOLD_DESCRIPTION}>
            {ALARM_THRESHOLD_LABEL} of the series:{" "}
          </dt>
          <dd className="inline tabular-nums text-slate-900" data-testid="alarm-threshold">
            {alarmThreshold.toFixed(4)}
            {thresholdFromFeedback ? " (set by feedback)" : " (default)"}
          </dd>
        </div>
        <div>
          <dt className="inline">Precision of this series: </dt>
          <dd className="inline text-slate-900" data-testid="series-precision">
            {describePrecision(seriesPrecision)}
          </dd>
        </div>
        {modelVersion !== null && (
          <div>
            <dt className="inline">Precision of model v{modelVersion}: </dt>
            <dd className="inline text-slate-900" data-testid="model-precision">
              {describePrecision(modelPrecision)}
            </dd>
          </div>
        )}
      </dl>

      {history.length > 1 && (
        <details className="text-xs text-slate-500">
          <summary className="cursor-pointer">
            Earlier verdicts ({history.length - 1})
          </summary>
          <ol className="mt-2 space-y-1">
            {history.slice(1).map((entry) => (
              <li key={entry.id}>
                {VERDICT_LABEL[entry.verdict]} by {entry.actorName},{" "}
                <LocalTime value={entry.createdAt} />
                {entry.comment ? `: ${entry.comment}` : ""}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}
