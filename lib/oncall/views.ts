import type { Queryable } from "@/lib/incidents/events";
import { listPolicies, type StoredPolicy } from "@/lib/oncall/policies";
import { upcomingHandoffs, whoIsOnCall, type Handoff, type OnCallShift } from "@/lib/oncall/rotation";
import { listSchedules, type StoredSchedule } from "@/lib/oncall/schedules";
import type { StoredSilence, StoredWindow } from "@/lib/oncall/windows";

// JSON shapes of the on-call API and the data of the /oncall page.

/** Handoffs listed per schedule. */
const HANDOFFS_SHOWN = 3;

function shiftView(shift: OnCallShift | null) {
  if (!shift) return null;
  return {
    userId: shift.userId,
    name: shift.name,
    email: shift.email,
    source: shift.source,
    layerId: shift.layerId,
    layerName: shift.layerName,
    overrideId: shift.overrideId,
    startsAt: shift.startsAt.toISOString(),
    endsAt: shift.endsAt?.toISOString() ?? null,
  };
}

function handoffView(handoff: Handoff) {
  return { at: handoff.at.toISOString(), next: shiftView(handoff.next) };
}

export type ScheduleView = ReturnType<typeof scheduleView>;

/** Returns a schedule with who is on call at `at` and the next handoffs. */
export function scheduleView(schedule: StoredSchedule, at: Date) {
  const handoffs = upcomingHandoffs(schedule, at, HANDOFFS_SHOWN);
  return {
    id: schedule.id,
    name: schedule.name,
    description: schedule.description,
    timeZone: schedule.timeZone,
    layers: schedule.layers.map((layer) => ({
      id: layer.id,
      name: layer.name,
      position: layer.position,
      rotationUnit: layer.rotationUnit,
      rotationLength: layer.rotationLength,
      handoffTime: layer.handoffTime,
      startDate: layer.startDate,
      endDate: layer.endDate,
      members: layer.members,
    })),
    overrides: schedule.overrides.map((override) => ({
      id: override.id,
      userId: override.userId,
      name: override.name,
      startsAt: override.startsAt.toISOString(),
      endsAt: override.endsAt.toISOString(),
    })),
    onCall: shiftView(whoIsOnCall(schedule, at)),
    nextHandoff: handoffs[0] ? handoffView(handoffs[0]) : null,
    upcomingHandoffs: handoffs.map(handoffView),
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
  };
}

export type PolicyView = ReturnType<typeof policyView>;

export function policyView(policy: StoredPolicy) {
  return {
    ...policy,
    createdAt: policy.createdAt.toISOString(),
    updatedAt: policy.updatedAt.toISOString(),
  };
}

export type ServiceOnCall = {
  slug: string;
  name: string;
  policy: { id: number; name: string } | null;
  /** People that level 1 of the service's policy pages at `at`. */
  onCall: Array<{ userId: number; name: string; via: string | null }>;
};

/**
 * Returns who is on call at `at` in every schedule and for every service:
 * the people level 1 of its policy would page.
 */
export async function onCallOverview(db: Queryable, at: Date) {
  const schedules = await listSchedules(db, at);
  const policies = await listPolicies(db);
  const { rows: services } = await db.query<{ id: number; slug: string; name: string }>(
    "SELECT id, slug, name FROM service ORDER BY name, id",
  );
  const byId = new Map(schedules.map((schedule) => [schedule.id, schedule]));
  const serviceViews: ServiceOnCall[] = services.map((service) => {
    const policy = policies.find((candidate) => candidate.serviceId === service.id) ?? null;
    return {
      slug: service.slug,
      name: service.name,
      policy: policy ? { id: policy.id, name: policy.name } : null,
      onCall: policy ? firstLevelPeople(policy, byId, at) : [],
    };
  });
  return {
    at: at.toISOString(),
    schedules: schedules.map((schedule) => scheduleView(schedule, at)),
    services: serviceViews,
  };
}

function firstLevelPeople(
  policy: StoredPolicy,
  schedules: Map<number, StoredSchedule>,
  at: Date,
): ServiceOnCall["onCall"] {
  const people: ServiceOnCall["onCall"] = [];
  for (const target of policy.levels[0]?.targets ?? []) {
    if (target.type === "user") {
      people.push({ userId: target.userId, name: target.name, via: null });
    } else if (target.type === "schedule") {
      const schedule = schedules.get(target.scheduleId);
      const shift = schedule ? whoIsOnCall(schedule, at) : null;
      if (shift) people.push({ userId: shift.userId, name: shift.name, via: target.name });
    }
  }
  return people;
}

/** Returns who level 1 of one service's policy pages at `at`. */
export async function serviceOnCall(db: Queryable, serviceSlug: string, at: Date): Promise<ServiceOnCall | null> {
  const overview = await onCallOverview(db, at);
  return overview.services.find((service) => service.slug === serviceSlug) ?? null;
}

export function windowView(window: StoredWindow) {
  return {
    ...window,
    startsAt: window.startsAt.toISOString(),
    endsAt: window.endsAt.toISOString(),
    endedAt: window.endedAt?.toISOString() ?? null,
    createdAt: window.createdAt.toISOString(),
  };
}

export function silenceView(silence: StoredSilence) {
  return {
    ...silence,
    startsAt: silence.startsAt.toISOString(),
    endsAt: silence.endsAt.toISOString(),
    endedAt: silence.endedAt?.toISOString() ?? null,
    createdAt: silence.createdAt.toISOString(),
  };
}
