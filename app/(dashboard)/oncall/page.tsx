import { Badge, Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import {
  AddOverrideForm,
  AddRotationForm,
  ConfirmButton,
  CreateScheduleForm,
  CreateSilenceForm,
  CreateWindowForm,
  PagingChannelForm,
  RemoveRotationButton,
  type LayerBody,
} from "@/components/oncall-forms";
import { CreatePolicyForm } from "@/components/oncall-policy-form";
import { ZonedTime } from "@/components/oncall-zoned-time";
import { PageHeader } from "@/components/page-header";
import { hasRole, requireUser } from "@/lib/auth/session";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { listActiveEscalations } from "@/lib/oncall/escalation";
import { listPolicies, loadPagingSetting, type StoredTarget } from "@/lib/oncall/policies";
import { listUsers } from "@/lib/oncall/schedules";
import { onCallOverview, type ScheduleView } from "@/lib/oncall/views";
import { listSilences, listWindows } from "@/lib/oncall/windows";

import { listPastWindows, overrideReasons, PAST_WINDOWS_SHOWN, type PastWindow } from "./past";

export const metadata: Metadata = { title: "On call" };

function describeTarget(target: StoredTarget): string {
  if (target.type === "schedule") return `on call in ${target.name}`;
  if (target.type === "user") return target.name;
  return `${target.channelType} channel ${target.name}`;
}

function turnText(layer: ScheduleView["layers"][number]): string {
  const unit = layer.rotationLength === 1 ? layer.rotationUnit.replace(/s$/, "") : layer.rotationUnit;
  return `${layer.rotationLength} ${unit} turns from ${layer.startDate} at ${layer.handoffTime}${layer.endDate ? `, until ${layer.endDate}` : ""}`;
}

function layerBodies(schedule: ScheduleView): LayerBody[] {
  return schedule.layers.map((layer) => ({
    name: layer.name,
    rotationUnit: layer.rotationUnit,
    rotationLength: layer.rotationLength,
    handoffTime: layer.handoffTime,
    startDate: layer.startDate,
    endDate: layer.endDate,
    members: layer.members.map((member) => member.userId),
  }));
}

/** Describes when a level after `position` is notified, or null for a last level that nothing follows. */
function nextStepText(position: number, levelCount: number, delayMinutes: number, repeatCount: number): string | null {
  if (position < levelCount) return `level ${position + 1} after ${delayMinutes} min`;
  if (repeatCount > 0) return `repeats from level 1 after ${delayMinutes} min`;
  return null;
}

function pastWindowText(window: PastWindow): string {
  const scope = window.serviceName ?? "every service";
  const matchers = window.matchers.map((matcher) => `${matcher.name}${matcher.operator}${matcher.value}`).join(", ");
  return matchers ? `${scope} (${matchers})` : scope;
}

function ScheduleCard({
  schedule,
  isAdmin,
  users,
  reasons,
}: {
  schedule: ScheduleView;
  isAdmin: boolean;
  users: Array<{ id: number; name: string }>;
  /** Override reasons by override id. */
  reasons: Map<number, string>;
}) {
  const zone = schedule.timeZone;
  return (
    <Card className="p-4" data-testid="schedule-card">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h3 className="text-base font-semibold text-slate-900">{schedule.name}</h3>
          <p className="text-xs text-slate-500">
            Time zone {schedule.timeZone}; times on this card are in it
            {schedule.description ? ` · ${schedule.description}` : ""}
          </p>
        </div>
        {isAdmin && (
          <ConfirmButton
            method="DELETE"
            url={`/api/v1/schedules/${schedule.id}`}
            label="Delete schedule"
            question={`Delete schedule ${schedule.name} with its rotations and overrides?`}
            done={`Schedule ${schedule.name} deleted.`}
          />
        )}
      </div>

      <dl className="mt-3 grid gap-3 text-sm sm:grid-cols-2">
        <div>
          <dt className="text-xs uppercase text-slate-500">On call now</dt>
          <dd className="font-medium text-slate-900" data-testid="on-call-now">
            {schedule.onCall ? schedule.onCall.name : "Nobody"}
            {schedule.onCall?.source === "override" && (
              <Badge color="amber" className="ml-2">
                override
              </Badge>
            )}
            {schedule.onCall?.endsAt && (
              <span className="ml-2 text-xs font-normal text-slate-500">
                until <ZonedTime value={schedule.onCall.endsAt} timeZone={zone} />
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt className="text-xs uppercase text-slate-500">Next handoff</dt>
          <dd className="text-slate-700" data-testid="next-handoff">
            {schedule.nextHandoff ? (
              <>
                <ZonedTime value={schedule.nextHandoff.at} timeZone={zone} /> to {schedule.nextHandoff.next?.name ?? "nobody"}
              </>
            ) : (
              "None scheduled"
            )}
          </dd>
        </div>
      </dl>

      <h4 className="mt-4 text-xs font-medium uppercase text-slate-500">Rotations (the last listed wins)</h4>
      <ul className="mt-1 space-y-1 text-sm text-slate-700" data-testid="rotation-list">
        {schedule.layers.map((layer, index) => (
          <li key={layer.id} className="flex flex-wrap items-center justify-between gap-2">
            <span>
              <span className="font-medium">{layer.name}</span>: {layer.members.map((member) => member.name).join(" → ")}
              <span className="ml-1 text-xs text-slate-500">({turnText(layer)})</span>
            </span>
            {isAdmin && schedule.layers.length > 1 && (
              <RemoveRotationButton scheduleId={schedule.id} layers={layerBodies(schedule)} index={index} />
            )}
          </li>
        ))}
      </ul>
      {isAdmin && (
        <details className="mt-2">
          <summary className="cursor-pointer text-xs text-indigo-600">Add a rotation on top</summary>
          <div className="mt-2">
            <AddRotationForm
              scheduleId={schedule.id}
              scheduleName={schedule.name}
              layers={layerBodies(schedule)}
              users={users}
            />
          </div>
        </details>
      )}

      <h4 className="mt-4 text-xs font-medium uppercase text-slate-500">Overrides</h4>
      {schedule.overrides.length === 0 ? (
        <p className="mt-1 text-sm text-slate-500">None.</p>
      ) : (
        <ul className="mt-1 divide-y divide-slate-100 text-sm" data-testid="override-list">
          {schedule.overrides.map((override) => (
            <li key={override.id} className="flex flex-wrap items-center justify-between gap-2 py-1">
              <span>
                {override.name} covers <ZonedTime value={override.startsAt} timeZone={zone} /> to{" "}
                <ZonedTime value={override.endsAt} timeZone={zone} />
                {reasons.has(override.id) && (
                  <span className="ml-1 text-slate-600">({reasons.get(override.id)})</span>
                )}
              </span>
              {isAdmin && (
                <ConfirmButton
                  method="DELETE"
                  url={`/api/v1/schedules/${schedule.id}/overrides/${override.id}`}
                  label="Delete"
                  question={`Delete the override of ${override.name}?`}
                  done="Override deleted."
                />
              )}
            </li>
          ))}
        </ul>
      )}
      {isAdmin && (
        <div className="mt-3">
          <AddOverrideForm scheduleId={schedule.id} scheduleName={schedule.name} users={users} />
        </div>
      )}
    </Card>
  );
}

export default async function OnCallPage() {
  const user = await requireUser();
  const isAdmin = hasRole(user.role, "admin");
  const db = getPool();
  const at = now();
  const overview = await onCallOverview(db, at);
  const policies = await listPolicies(db);
  const escalations = await listActiveEscalations(db);
  const windows = await listWindows(db, at);
  const silences = await listSilences(db, at);
  const users = await listUsers(db);
  const paging = await loadPagingSetting(db);
  const reasons = await overrideReasons(db, at);
  const pastWindows = await listPastWindows(db, at);
  const { rows: channels } = await db.query<{ id: number; name: string; type: string }>(
    "SELECT id, name, type::text FROM notification_channel ORDER BY name, id",
  );
  const services = overview.services.map((service) => ({ slug: service.slug, name: service.name }));
  const activeWindows = new Map(
    windows.filter((window) => window.state === "active").map((window) => [window.serviceSlug, window]),
  );

  return (
    <>
      <PageHeader
        title="On call"
        description="Who is on call now, the rotations and overrides that decide it, the escalation policy of each service, and the maintenance windows and silences that hold notifications back."
      />
      <div className="space-y-8">
        <section aria-labelledby="services-heading">
          <h2 id="services-heading" className="mb-3 text-base font-semibold text-slate-900">
            Services
          </h2>
          {overview.services.length === 0 ? (
            <EmptyState title="No services yet">
              Each service that sends metrics, deployments or alerts gets a
              row here with its escalation policy and who is paged first.
            </EmptyState>
          ) : (
          <Card className="overflow-x-auto p-0">
            <table className="min-w-full text-left text-sm" data-testid="service-on-call">
              <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
                <tr>
                  <th className="px-4 py-2 font-medium">Service</th>
                  <th className="px-4 py-2 font-medium">Escalation policy</th>
                  <th className="px-4 py-2 font-medium">Paged first now</th>
                  <th className="px-4 py-2 font-medium">Maintenance</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {overview.services.map((service) => (
                  <tr key={service.slug}>
                    <td className="px-4 py-2">
                      <Link href={`/services/${service.slug}`} prefetch={false} className="text-indigo-600 hover:underline">
                        {service.name}
                      </Link>
                    </td>
                    <td className="px-4 py-2 text-slate-700">{service.policy?.name ?? "none"}</td>
                    <td className="px-4 py-2 text-slate-900">
                      {service.onCall.length === 0
                        ? "nobody"
                        : service.onCall.map((person) => (person.via ? `${person.name} (${person.via})` : person.name)).join(", ")}
                    </td>
                    <td className="px-4 py-2 text-slate-700">
                      {activeWindows.has(service.slug) ? (
                        <>
                          <Badge color="amber" className="mr-1">
                            in maintenance
                          </Badge>
                          until <LocalTime value={activeWindows.get(service.slug)!.endsAt} />
                        </>
                      ) : (
                        <span className="text-slate-400">none</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          )}
        </section>

        {escalations.length > 0 && (
          <section aria-labelledby="escalations-heading">
            <h2 id="escalations-heading" className="mb-3 text-base font-semibold text-slate-900">
              Escalating now
            </h2>
            <Card className="p-0">
              <ul className="divide-y divide-slate-100 text-sm" data-testid="active-escalations">
                {escalations.map((escalation) => (
                  <li key={escalation.incidentId} className="flex flex-wrap items-baseline justify-between gap-2 px-4 py-2">
                    <Link href={`/incidents/${escalation.incidentId}`} prefetch={false} className="text-indigo-600 hover:underline">
                      #{escalation.incidentId} {escalation.title}
                    </Link>
                    <span className="text-slate-600">
                      {escalation.serviceName}, level {escalation.nextLevel} of {escalation.policyName}{" "}
                      <LocalTime value={escalation.nextAt} />
                    </span>
                  </li>
                ))}
              </ul>
            </Card>
          </section>
        )}

        <section aria-labelledby="schedules-heading" className="space-y-3">
          <h2 id="schedules-heading" className="text-base font-semibold text-slate-900">
            Schedules
          </h2>
          {overview.schedules.length === 0 && (
            <EmptyState title="No schedules yet">
              A schedule rotates people through on-call turns. An escalation
              policy can then page whoever is on call.
              {isAdmin ? " Create one below." : " An admin can create one."}
            </EmptyState>
          )}
          {overview.schedules.map((schedule) => (
            <ScheduleCard key={schedule.id} schedule={schedule} isAdmin={isAdmin} users={users} reasons={reasons} />
          ))}
          {isAdmin && (
            <Card className="p-4">
              <h3 className="mb-3 text-sm font-semibold text-slate-900">New schedule</h3>
              <CreateScheduleForm users={users} />
            </Card>
          )}
        </section>

        <section aria-labelledby="policies-heading" className="space-y-3">
          <h2 id="policies-heading" className="text-base font-semibold text-slate-900">
            Escalation policies
          </h2>
          <p className="text-sm text-slate-500">
            Level 1 is notified when an incident opens. Each next level is notified when the incident is still
            unacknowledged after the previous level&apos;s delay. People (users and whoever is on call in a schedule) are
            paged by email, through the policy&apos;s own email channel or else the paging channel.{" "}
            {paging.pagingChannelName
              ? `The paging channel is ${paging.pagingChannelName}.`
              : "No paging channel is set, so a policy that targets people must name an email channel."}
          </p>
          {policies.length === 0 && <p className="text-sm text-slate-500">No escalation policies yet.</p>}
          {policies.map((policy) => (
            <Card key={policy.id} className="p-4" data-testid="policy-card">
              <div className="flex flex-wrap items-start justify-between gap-3">
                <div>
                  <h3 className="text-sm font-semibold text-slate-900">
                    {policy.name} <span className="font-normal text-slate-500">for {policy.serviceName}</span>
                  </h3>
                  <p className="text-xs text-slate-500">
                    {policy.repeatCount > 0 ? `Repeats ${policy.repeatCount} times` : "No repeat"}
                    {policy.pageChannelName ? ` · pages through ${policy.pageChannelName}` : ""}
                  </p>
                </div>
                {isAdmin && (
                  <ConfirmButton
                    method="DELETE"
                    url={`/api/v1/escalation-policies/${policy.id}`}
                    label="Delete policy"
                    question={`Delete escalation policy ${policy.name}? Escalations in progress stop.`}
                    done={`Policy ${policy.name} deleted.`}
                  />
                )}
              </div>
              <ol className="mt-2 space-y-1 text-sm text-slate-700">
                {policy.levels.map((level) => (
                  <li key={level.position}>
                    <span className="font-medium">Level {level.position}</span>:{" "}
                    {level.targets.map(describeTarget).join(", ")}
                    {nextStepText(level.position, policy.levels.length, level.delayMinutes, policy.repeatCount) && (
                      <span className="ml-1 text-xs text-slate-500">
                        ({nextStepText(level.position, policy.levels.length, level.delayMinutes, policy.repeatCount)})
                      </span>
                    )}
                  </li>
                ))}
              </ol>
            </Card>
          ))}
          {isAdmin && (
            <Card className="p-4">
              <h3 className="mb-3 text-sm font-semibold text-slate-900">New escalation policy</h3>
              <CreatePolicyForm
                services={services}
                schedules={overview.schedules.map((schedule) => ({ id: schedule.id, name: schedule.name }))}
                users={users}
                channels={channels}
                pagingChannelName={paging.pagingChannelName}
              />
            </Card>
          )}
          {isAdmin && (
            <Card className="p-4">
              <h3 className="text-sm font-semibold text-slate-900">Paging channel</h3>
              <p className="mb-3 text-xs text-slate-500">
                The email channel that sends pages to people when their policy names no channel of its own. It
                applies to every policy.
              </p>
              <PagingChannelForm
                channels={channels.filter((channel) => channel.type === "email")}
                current={paging.pagingChannelId}
              />
            </Card>
          )}
        </section>

        <section aria-labelledby="maintenance-heading" className="space-y-3">
          <h2 id="maintenance-heading" className="text-base font-semibold text-slate-900">
            Maintenance windows and silences
          </h2>
          <p className="text-sm text-slate-500">
            While one is active, notifications of the service are not sent, escalation waits until it ends, and
            automatic runbooks do not run. The incident timeline records each suppression.
          </p>
          <Card className="p-4">
            <h3 className="mb-2 text-sm font-semibold text-slate-900">Maintenance windows</h3>
            {windows.length === 0 ? (
              <p className="text-sm text-slate-500">None planned or active.</p>
            ) : (
              <ul className="divide-y divide-slate-100 text-sm" data-testid="window-list">
                {windows.map((window) => (
                  <li key={window.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                    <span>
                      <Badge color={window.state === "active" ? "amber" : "slate"} className="mr-2">
                        {window.state}
                      </Badge>
                      <span className="font-medium">{window.serviceName}</span>: {window.reason}, <LocalTime value={window.startsAt} /> to{" "}
                      <LocalTime value={window.endsAt} />
                      <span className="ml-1 text-xs text-slate-500">by {window.createdByName}</span>
                    </span>
                    {isAdmin && (
                      <ConfirmButton
                        method="POST"
                        url={`/api/v1/maintenance-windows/${window.id}/end`}
                        label={window.state === "active" ? "End now" : "Cancel"}
                        question={`End the maintenance window "${window.reason}" now?`}
                        done="Maintenance window ended."
                      />
                    )}
                  </li>
                ))}
              </ul>
            )}
            {isAdmin && (
              <div className="mt-3">
                <CreateWindowForm services={services} />
              </div>
            )}
          </Card>
          <Card className="p-4">
            <h3 className="mb-2 text-sm font-semibold text-slate-900">Silences</h3>
            {silences.length === 0 ? (
              <p className="text-sm text-slate-500">None active.</p>
            ) : (
              <ul className="divide-y divide-slate-100 text-sm" data-testid="silence-list">
                {silences.map((silence) => (
                  <li key={silence.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                    <span>
                      <Badge color={silence.state === "active" ? "amber" : "slate"} className="mr-2">
                        {silence.state}
                      </Badge>
                      <span className="font-medium">{silence.serviceName ?? "every service"}</span>
                      {silence.matchers.length > 0 && (
                        <span className="ml-1 font-mono text-xs">
                          {silence.matchers.map((matcher) => `${matcher.name}${matcher.operator}${matcher.value}`).join(", ")}
                        </span>
                      )}
                      : {silence.reason}, until <LocalTime value={silence.endsAt} />
                    </span>
                    {isAdmin && (
                      <ConfirmButton
                        method="POST"
                        url={`/api/v1/silences/${silence.id}/end`}
                        label="End now"
                        question={`End the silence "${silence.reason}" now?`}
                        done="Silence ended."
                      />
                    )}
                  </li>
                ))}
              </ul>
            )}
            {isAdmin && (
              <div className="mt-3">
                <CreateSilenceForm services={services} />
              </div>
            )}
          </Card>
          <Card className="p-4">
            <h3 className="mb-2 text-sm font-semibold text-slate-900">Past windows</h3>
            <p className="mb-2 text-xs text-slate-500">
              The last {PAST_WINDOWS_SHOWN} maintenance windows and silences that ended, the most recent first.
            </p>
            {pastWindows.length === 0 ? (
              <p className="text-sm text-slate-500">None yet.</p>
            ) : (
              <ul className="divide-y divide-slate-100 text-sm" data-testid="past-window-list">
                {pastWindows.map((window) => (
                  <li key={`${window.kind}:${window.id}`} className="py-2">
                    <Badge color="slate" className="mr-2">
                      {window.kind === "maintenance" ? "maintenance" : "silence"}
                    </Badge>
                    <span className="font-medium">{pastWindowText(window)}</span>: {window.reason},{" "}
                    <LocalTime value={window.startsAt} /> to <LocalTime value={window.endedAt} />
                    {window.endedEarly && <span className="ml-1 text-xs text-slate-500">(ended early)</span>}
                    <span className="ml-1 text-xs text-slate-500">by {window.createdByName}</span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </section>
      </div>
    </>
  );
}
