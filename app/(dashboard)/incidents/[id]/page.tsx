import { RiArrowLeftSLine } from "@remixicon/react";
import { Badge, Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";

import { AlertDetails, alertFromEventData } from "@/components/alert-details";
import { AutoRefresh } from "@/components/auto-refresh";
import {
  formatAgo,
  formatDuration,
  formatLabels,
  formatScore,
} from "@/components/format";
import { IncidentActions } from "@/components/incident-actions";
import { SeverityBadge, StatusBadge } from "@/components/incident-badges";
import { IncidentCorrelation } from "@/components/incident-correlation";
import { IncidentExplanation } from "@/components/incident-explanation";
import { IncidentFeedback } from "@/components/incident-feedback";
import { IncidentFields } from "@/components/incident-fields";
import { IncidentNoteForm } from "@/components/incident-note-form";
import { onsetFromEventData } from "@/components/incident-points";
import { IncidentPostmortem } from "@/components/incident-postmortem";
import { IncidentTimeline } from "@/components/incident-timeline";
import { LocalTime } from "@/components/local-time";
import { OncallIncidentEscalation } from "@/components/oncall-incident-escalation";
import { RunbookList } from "@/components/runbook-list";
import { RunbookSteps } from "@/components/runbook-steps";
import { SeriesChart } from "@/components/series-chart";
import { hasRole, requireUser } from "@/lib/auth/session";
import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import { MAX_INCIDENT_ID } from "@/lib/feedback/record";
import {
  getIncidentFeedbackView,
  getLikelihoodAt,
} from "@/lib/feedback/queries";
import { listAssignableUsers } from "@/lib/incidents/assign";
import { getPostmortem } from "@/lib/incidents/postmortem";
import { getIncidentDetail, getOnsetTelemetry } from "@/lib/incidents/queries";
import { computeIncidentTimings } from "@/lib/incidents/timings";
import { getChartOverlays } from "@/lib/services/queries";

type Props = { params: Promise<{ id: string }> };

const LIVE_REFRESH_MS = 15_000;

/** Gap between data time and detection above which the header shows both. */
const DETECTION_DELAY_SHOWN_MS = 5 * 60 * 1000;

const OPENED_DESCRIPTION =
  "Opened (data time): timestamp of the first anomalous point";
const DETECTED_DESCRIPTION =
  "Detected at: when the worker scored that point and opened the incident. " +
  "Timeline entries use this clock";

/** Parses the path id, or returns null when it is not an int4 id above 0. */
function parseId(raw: string): number | null {
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) return null;
  const id = Number(raw);
  return id <= MAX_INCIDENT_ID ? id : null;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  return { title: `Incident #${id}` };
}

export default async function IncidentPage({ params }: Props) {
  const user = await requireUser();
  const id = parseId((await params).id);
  const incident = id ? await getIncidentDetail(id) : null;
  if (!incident) notFound();
  const canAct = hasRole(user.role, "responder");
  const [assignableUsers, postmortem] = await Promise.all([
    listAssignableUsers(),
    getPostmortem(incident.id),
  ]);
  const timings = computeIncidentTimings(incident, incident.events);

  const now = new Date();
  const telemetry = incident.series
    ? await getOnsetTelemetry(
        incident.series.id,
        incident.openedAt,
        incident.resolvedAt,
        now,
      )
    : null;
  const chartOverlays = telemetry
    ? {
        ...(await getChartOverlays(
          incident.service.id,
          telemetry.from,
          telemetry.to,
        )),
        now: now.getTime(),
        incidentListHref: `/incidents?service=${encodeURIComponent(incident.service.slug)}`,
      }
    : undefined;
  // Verdicts, likelihoods and precision exist only for detector incidents.
  const feedback =
    incident.source === "detector" && incident.series
      ? await getIncidentFeedbackView({
          id: incident.id,
          seriesId: incident.series.id,
          openedAt: incident.openedAt,
          resolvedAt: incident.resolvedAt,
        })
      : null;
  const maxDeviationLikelihood =
    feedback && incident.series && telemetry?.maxDeviation
      ? await getLikelihoodAt(incident.series.id, telemetry.maxDeviation.ts)
      : null;
  const openedEvent = incident.events.find((event) => event.kind === "opened");
  const alert =
    incident.source === "alert" ? alertFromEventData(openedEvent?.data) : null;
  const onset = telemetry?.onset ?? onsetFromEventData(openedEvent?.data);
  const detectedAt = openedEvent?.createdAt ?? null;
  const showDetectedAt =
    detectedAt !== null &&
    Math.abs(detectedAt.getTime() - incident.openedAt.getTime()) >
      DETECTION_DELAY_SHOWN_MS;
  const end = incident.resolvedAt ?? now;
  // The detector raises the severity with the peak score of an open
  // incident without adding a timeline event, so the header explains it.
  const severityDescription =
    incident.source === "detector"
      ? "Current severity. The detector raises it while the incident is open, as the peak forecast error (over the model's threshold) rises."
      : "Current severity";
  const labels = incident.series ? formatLabels(incident.series.labels) : "";
  // The worker, or a user deleted since, leaves no user on the incident row;
  // the timeline event still names the actor.
  const actorOf = (kind: string) =>
    incident.events.findLast((event) => event.kind === kind)?.actorName ??
    "unknown";
  const acknowledgedBy =
    incident.acknowledgedBy?.name ?? actorOf("acknowledged");
  const resolvedBy = incident.resolvedBy?.name ?? actorOf("resolved");

  return (
    <>
      <Link
        href="/incidents"
        className="mb-3 inline-flex items-center text-sm text-slate-500 hover:text-slate-900"
      >
        <RiArrowLeftSLine className="size-4" aria-hidden />
        Incidents
      </Link>

      <div className="mb-6 flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <div className="mb-2 flex flex-wrap items-center gap-2">
            <StatusBadge status={incident.status} />
            <SeverityBadge
              severity={incident.severity}
              title={severityDescription}
            />
            {incident.peakScore !== null && (
              <span
                className="text-xs tabular-nums text-slate-500"
                title={severityDescription}
              >
                peak error {formatScore(incident.peakScore)}× error threshold
              </span>
            )}
            <Badge color="slate" size="xs">
              {incident.source}
            </Badge>
            <span className="text-sm text-slate-400">#{incident.id}</span>
            {incident.status !== "resolved" && (
              <AutoRefresh intervalMs={LIVE_REFRESH_MS} />
            )}
          </div>
          <h1 className="text-xl font-semibold tracking-tight text-slate-900">
            {incident.title}
          </h1>
          <p className="mt-1 text-sm text-slate-500">
            <Link
              href={`/services/${incident.service.slug}`}
              className="font-medium text-indigo-600 hover:text-indigo-800"
            >
              {incident.service.name}
            </Link>
            {incident.series && (
              <>
                {" · "}
                <span className="font-mono text-xs">
                  {incident.series.name}
                </span>
                {labels && (
                  <span className="text-xs text-slate-400">
                    {" "}
                    {`{${labels}}`}
                  </span>
                )}
              </>
            )}
          </p>
        </div>
        <IncidentActions
          incidentId={incident.id}
          status={incident.status}
          canAct={canAct}
        />
      </div>

      <Card className="mb-4 p-0">
        <dl className="grid grid-cols-2 divide-slate-200 md:grid-cols-4 md:divide-x">
          <div className="p-4">
            <dt
              className="text-xs font-medium uppercase tracking-wide text-slate-500"
              title={OPENED_DESCRIPTION}
            >
              Opened
            </dt>
            <dd className="mt-1 text-sm text-slate-900">
              <LocalTime
                value={incident.openedAt}
                description={OPENED_DESCRIPTION}
              />
              <span className="block text-xs text-slate-400">
                {formatAgo(incident.openedAt, now)}
              </span>
              {showDetectedAt && detectedAt && (
                <span
                  className="block text-xs text-slate-500"
                  data-testid="detected-at"
                  title={DETECTED_DESCRIPTION}
                >
                  detected{" "}
                  <LocalTime
                    value={detectedAt}
                    description={DETECTED_DESCRIPTION}
                  />
                </span>
              )}
            </dd>
          </div>
          <div className="p-4" data-testid="acknowledged-info">
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">
              Acknowledged
            </dt>
            <dd className="mt-1 text-sm text-slate-900">
              {incident.acknowledgedAt ? (
                <>
                  <LocalTime value={incident.acknowledgedAt} />
                  <span className="block text-xs text-slate-500">
                    by {acknowledgedBy}
                  </span>
                </>
              ) : timings.timeToAcknowledgeMs !== null ? (
                <span className="text-slate-400">Not since reopened</span>
              ) : (
                <span className="text-slate-400">Not yet</span>
              )}
            </dd>
          </div>
          <div className="p-4" data-testid="resolved-info">
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">
              Resolved
            </dt>
            <dd className="mt-1 text-sm text-slate-900">
              {incident.resolvedAt ? (
                <>
                  <LocalTime value={incident.resolvedAt} />
                  <span className="block text-xs text-slate-500">
                    by {resolvedBy}
                  </span>
                </>
              ) : (
                <span className="text-slate-400">Not yet</span>
              )}
            </dd>
          </div>
          <div className="p-4">
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">
              {incident.resolvedAt ? "Time to resolve" : "Open for"}
            </dt>
            <dd className="mt-1 text-sm tabular-nums text-slate-900">
              {formatDuration(end.getTime() - incident.openedAt.getTime())}
            </dd>
          </div>
        </dl>
      </Card>

      <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
        <div className="min-w-0 space-y-4 lg:col-span-2">
          {alert && (
            <Card className="p-4">
              <h2 className="mb-3 text-sm font-medium text-slate-900">
                Alert
              </h2>
              <AlertDetails alert={alert} />
            </Card>
          )}

          {!alert && (
            <>
              <Card className="p-4">
                <h2 className="text-sm font-medium text-slate-900">
                  Telemetry around the onset
                </h2>
                <p className="mb-3 text-xs text-slate-500">
                  {telemetry ? (
                    <>
                      <LocalTime value={telemetry.from} /> to{" "}
                      <LocalTime value={telemetry.to} />; red dots mark
                      anomalous points and the grey band is the expected
                      range. Dashed lines mark deployments of{" "}
                      {incident.service.name} and shaded spans its incidents,
                      this one included.
                    </>
                  ) : (
                    "This incident is not tied to a metric series."
                  )}
                </p>
                {telemetry && incident.series && (
                  <SeriesChart
                    seriesName={incident.series.name}
                    points={telemetry.points}
                    alarmThreshold={
                      feedback?.alarmThreshold ??
                      DEFAULT_SETTINGS.alarmThreshold
                    }
                    range={{
                      from: telemetry.from.getTime(),
                      to: telemetry.to.getTime(),
                    }}
                    overlays={chartOverlays}
                  />
                )}
              </Card>

              <Card className="p-4">
                <h2 className="mb-3 text-sm font-medium text-slate-900">
                  Why this incident opened
                </h2>
                <IncidentExplanation
                  summary={incident.summary}
                  seriesName={incident.series?.name ?? null}
                  onset={onset}
                  maxDeviation={telemetry?.maxDeviation ?? null}
                  likelihood={
                    feedback && {
                      onset: feedback.onset,
                      peak: feedback.peak,
                      alarmThreshold: feedback.alarmThreshold,
                    }
                  }
                  maxDeviationLikelihood={maxDeviationLikelihood}
                />
              </Card>
            </>
          )}

          <IncidentCorrelation incidentId={incident.id} serviceName={incident.service.name} />

          <Card className="p-4">
            <h2 className="mb-3 text-sm font-medium text-slate-900">
              Suggested runbooks
            </h2>
            <RunbookList suggestions={incident.runbooks} />
          </Card>
          <RunbookSteps incidentId={incident.id} canRun={hasRole(user.role, "responder")} resolved={incident.status === "resolved"} />

          <Card className="p-4">
            <IncidentPostmortem
              key={postmortem?.version ?? 0}
              incidentId={incident.id}
              canEdit={canAct}
              users={assignableUsers}
              postmortem={
                postmortem && {
                  version: postmortem.version,
                  summary: postmortem.summary,
                  impact: postmortem.impact,
                  rootCause: postmortem.rootCause,
                  updatedBy: postmortem.updatedBy.name,
                  updatedAt: postmortem.updatedAt.toISOString(),
                  followUps: postmortem.followUps,
                }
              }
            />
          </Card>
        </div>

        <div className="min-w-0 space-y-4">
          <Card className="h-fit min-w-0 p-4">
            <IncidentFields
              key={`${incident.severity}-${incident.assignee?.id ?? "none"}`}
              incidentId={incident.id}
              severity={incident.severity}
              assignee={incident.assignee}
              users={assignableUsers}
              canEdit={canAct}
            />
            {timings.timeToAcknowledgeMs !== null && (
              <p className="mt-3 text-xs text-slate-500" data-testid="time-to-acknowledge">
                Time to acknowledge:{" "}
                {formatDuration(timings.timeToAcknowledgeMs)}
                {timings.reopenCount > 0 &&
                  ` (mean of ${timings.cycles.filter((cycle) => cycle.acknowledgedAt).length} acknowledgements, reopened ${timings.reopenCount}×)`}
              </p>
            )}
          </Card>
          <OncallIncidentEscalation incidentId={incident.id} />
          {feedback && (
            <Card className="h-fit min-w-0 p-4">
              <h2 className="mb-3 text-sm font-medium text-slate-900">
                Feedback
              </h2>
              <IncidentFeedback
                incidentId={incident.id}
                canGiveFeedback={hasRole(user.role, "responder")}
                history={feedback.history.map((entry) => ({
                  ...entry,
                  createdAt: entry.createdAt.toISOString(),
                }))}
                alarmThreshold={feedback.alarmThreshold}
                thresholdFromFeedback={feedback.thresholdFromFeedback}
                seriesPrecision={feedback.seriesPrecision}
                modelPrecision={feedback.modelPrecision}
                modelVersion={feedback.onsetModelVersion?.version ?? null}
              />
            </Card>
          )}
          <Card className="h-fit min-w-0 p-4">
            <h2 className="mb-4 text-sm font-medium text-slate-900">
              Timeline
            </h2>
            {canAct && <IncidentNoteForm incidentId={incident.id} />}
            <IncidentTimeline events={incident.events} now={now} />
          </Card>
        </div>
      </div>
    </>
  );
}
