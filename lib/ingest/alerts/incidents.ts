import { invalidField } from "@/lib/api/errors";
import { now } from "@/lib/clock";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import type { ApiToken } from "@/lib/generated/prisma/client";
import type { Severity } from "@/lib/generated/prisma/enums";
import {
  alertTitle,
  severityFromLabels,
  type ParsedAlert,
  type ParsedAlertDelivery,
} from "@/lib/ingest/alerts/parse";
import {
  addIncidentAlert,
  alertGroupKey,
  findAlertFiring,
  findAlertGroupIncident,
  findOpenAlertMember,
  findOpenIncidentSharingAlerts,
  findResolvedAlertIncident,
  findStormIncidents,
  markAlertFiring,
  markAlertResolved,
  type AlertIncidentRow,
  type AlertMemberRow,
} from "@/lib/ingest/alerts/grouping";
import {
  suggestAlertRunbooks,
  type EventActor,
} from "@/lib/ingest/alerts/runbooks";
import { chooseServiceSlug } from "@/lib/ingest/service-choice";
import { resolveServiceForWrite } from "@/lib/ingest/services";
import { withTransaction } from "@/lib/ingest/transaction";
import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import { raiseSeverity } from "@/lib/incidents/severity";
import { scheduleHeldResolve } from "@/lib/ingest/alerts/held-resolve";
import {
  groupingWindowMinutes,
  lockServiceGrouping,
} from "@/lib/incidents/grouping";
import { recordSuspectDeployments } from "@/lib/incidents/suspects";
import type { Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { startEscalation, stopEscalation } from "@/lib/oncall/escalation";

// Turns the alerts of one Alertmanager or Grafana delivery into incidents,
// all in one transaction.
//
// An alert's identity is its fingerprint plus its startsAt. The alert that
// opens an incident gives it its dedup_key, and incident_alert lists every
// alert of the incident. A firing alert joins the open incident that lists
// its fingerprint when there is one. Otherwise it joins the open incident of
// its group (equal values of the VIGIL_ALERT_GROUP_LABELS, alertname by
// default) when it starts within VIGIL_GROUPING_WINDOW_MINUTES of that
// incident's onset, so a storm of alerts opens one incident. Once the
// service has VIGIL_ALERT_STORM_INCIDENTS open alert incidents opened within
// the window, an alert of any other group joins the newest of them, which
// is then titled "Alert storm: ...". Otherwise it opens a new incident. A
// resolved alert marks its row resolved, and the incident resolves when all
// its alerts have, with resolved_at set to the last endsAt.
//
// Flapping: once resolved, the same fingerprint with a new startsAt reopens
// the incident when it starts less than VIGIL_ALERT_FLAP_WINDOW_MINUTES
// after resolved_at, and opens a new incident otherwise. The channels are
// sent the first reopen. A cycle that a flap reopen started and that lasted
// less than the flap window ends in a resolve that the channels are not
// sent. So they still show the incident firing, and the next reopen is not
// sent to them either. That reopen schedules the escalation for the end of
// the flap window, so the on-call is paged when the alert keeps firing.
//
// Retries are safe: a transaction-scoped advisory lock per service
// serialises deliveries for one service, the lookups find every firing
// already recorded, and the unique dedup_key and the partial unique index
// incident_open_alert_fingerprint_key back them up. Services are locked in
// slug order and alerts handled in (service, fingerprint) order, so that two
// deliveries take locks in the same order.

export type AlertOutcome =
  | { outcome: "opened"; incidentId: number }
  | { outcome: "reopened"; incidentId: number }
  | { outcome: "joined"; incidentId: number }
  | { outcome: "resolved"; incidentId: number }
  | { outcome: "ignored"; incidentId: number | null; reason: string };

export type AlertResult = AlertOutcome & {
  index: number;
  status: ParsedAlert["status"];
  fingerprint: string;
  service: string;
};

export type AlertDeliveryResult = {
  /** One entry per alert, in body order. */
  alerts: AlertResult[];
  opened: number;
  reopened: number;
  joined: number;
  resolved: number;
  ignored: number;
  truncatedAlerts: number;
};

type IncidentRow = AlertIncidentRow;

const INCIDENT_COLUMNS = "id, status, dedup_key, opened_at, resolved_at";

const MINUTE_MS = 60_000;

/** Prefix of the title of an incident that alerts of other groups joined. */
export const ALERT_STORM_TITLE_PREFIX = "Alert storm: ";

/** Alerts of one delivery that joined or ended in an incident that stays open. */
type GroupChanges = {
  joined: ParsedAlert[];
  /** Alerts of other groups that joined because of the storm cap. */
  stormJoined: ParsedAlert[];
  resolved: ParsedAlert[];
  /** Grouping window of the incident's service, in minutes. */
  windowMinutes: number;
};

type AlertContext = {
  db: Queryable;
  delivery: ParsedAlertDelivery;
  actor: EventActor;
  log: Logger;
  groupLabels: readonly string[];
  /** Grouping window in minutes by service id. */
  windows: Map<number, number>;
  /** VIGIL_ALERT_STORM_INCIDENTS; 0 turns the storm cap off. */
  stormIncidents: number;
  /** VIGIL_ALERT_FLAP_WINDOW_MINUTES; 0 turns reopening off. */
  flapWindowMinutes: number;
  /**
   * Keys (listedKey) of the fingerprints that an incident of their service
   * lists, read once under the service locks and kept up to date, so that a
   * new alert skips the lookups that cannot find it.
   */
  listed: Set<string>;
  /** By incident id; written as one event per incident at the end. */
  changes: Map<number, GroupChanges>;
};

function listedKey(serviceId: number, fingerprint: string): string {
  return `${serviceId} ${fingerprint}`;
}

/** Reads which of the delivery's fingerprints an incident of their service lists. */
async function readListedFingerprints(
  db: Queryable,
  serviceIds: readonly number[],
  fingerprints: readonly string[],
): Promise<Set<string>> {
  const { rows } = await db.query<{ service_id: number; fingerprint: string }>(
    `SELECT DISTINCT i.service_id, a.fingerprint
       FROM incident_alert a JOIN incident i ON i.id = a.incident_id
      WHERE i.service_id = ANY($1::int[]) AND a.fingerprint = ANY($2::text[])`,
    [serviceIds, fingerprints],
  );
  return new Set(rows.map((row) => listedKey(row.service_id, row.fingerprint)));
}

/** Returns the dedup_key of an alert incident: service, fingerprint, startsAt. */
export function alertDedupKey(
  serviceId: number,
  fingerprint: string,
  startsAt: number,
): string {
  return `alert:${serviceId}:${fingerprint}:${new Date(startsAt).toISOString()}`;
}

/**
 * Picks each alert's service slug: `forced` (?service= or the token's bound
 * service) wins, then the `service` label, then `job`. Throws a 400 naming
 * alerts[i].labels when an alert has none of them.
 */
export function chooseAlertServices(
  alerts: readonly ParsedAlert[],
  forced: string | null,
): string[] {
  return alerts.map((alert) => {
    const slug = chooseServiceSlug(forced, [
      alert.labels.service,
      alert.labels.job,
    ]);
    if (slug === null) {
      throw invalidField(
        `${alert.field}.labels`,
        `${alert.field}.labels has no service or job label to choose the ` +
          "Vigil service from; add ?service=<slug> to the webhook URL, use " +
          "an API token bound to a service, or add a service label",
      );
    }
    return slug;
  });
}

async function findIncidentByDedupKey(
  db: Queryable,
  dedupKey: string,
): Promise<IncidentRow | undefined> {
  const { rows } = await db.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incident WHERE dedup_key = $1 FOR UPDATE`,
    [dedupKey],
  );
  return rows[0];
}

/** Returns whether the incident already has an event of this kind with this data. */
async function hasEvent(
  db: Queryable,
  incidentId: number,
  kind: string,
  data: Record<string, unknown>,
): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM incident_event
      WHERE incident_id = $1 AND kind = $2 AND data @> $3::jsonb
      LIMIT 1`,
    [incidentId, kind, JSON.stringify(data)],
  );
  return rows.length > 0;
}

function describeAlert(alert: ParsedAlert): Record<string, unknown> {
  return {
    fingerprint: alert.fingerprint,
    fingerprintComputed: alert.fingerprintComputed,
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: alert.endsAt === null ? null : new Date(alert.endsAt).toISOString(),
    labels: alert.labels,
    annotations: alert.annotations,
    generatorURL: alert.generatorURL,
    ...(alert.values === null ? {} : { values: alert.values }),
    ...(alert.valueString === null ? {} : { valueString: alert.valueString }),
  };
}

function alertName(alert: ParsedAlert): string {
  return alert.labels.alertname ?? `with fingerprint ${alert.fingerprint}`;
}

/** Compares by UTF-16 code units, independent of the locale. */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Warning and info alerts do not count as downtime in the uptime KPI. */
function isServiceImpacting(severity: Severity): boolean {
  return severity === "sev1" || severity === "sev2";
}

function changesOf(
  context: AlertContext,
  incidentId: number,
  serviceId: number,
): GroupChanges {
  let changes = context.changes.get(incidentId);
  if (changes === undefined) {
    changes = {
      joined: [],
      stormJoined: [],
      resolved: [],
      windowMinutes: context.windows.get(serviceId)!,
    };
    context.changes.set(incidentId, changes);
  }
  return changes;
}

async function joinOpenIncident(
  context: AlertContext,
  alert: ParsedAlert,
  open: IncidentRow,
  member: AlertMemberRow,
): Promise<AlertOutcome> {
  const startsAt = new Date(alert.startsAt);
  if (
    member.starts_at.getTime() === alert.startsAt ||
    member.last_starts_at.getTime() === alert.startsAt
  ) {
    // A repeated notification or a retried delivery of the same alert.
    return { outcome: "joined", incidentId: open.id };
  }
  // The alert ended and fired again without Vigil seeing it resolved, for
  // example because send_resolved is off. The open incident records the
  // new firing once.
  await markAlertFiring(context.db, open.id, alert.fingerprint, startsAt);
  const seen = await hasEvent(context.db, open.id, "alert_fired_again", {
    fingerprint: alert.fingerprint,
    startsAt: startsAt.toISOString(),
  });
  if (!seen) {
    await addIncidentEvent(context.db, {
      incidentId: open.id,
      kind: "alert_fired_again",
      ...context.actor,
      message: `Alert ${alertName(alert)} fired again, starting ${startsAt.toISOString()}`,
      data: { source: context.delivery.source, ...describeAlert(alert) },
    });
  }
  return { outcome: "joined", incidentId: open.id };
}

/**
 * Adds an alert to an open incident within the window: one of the same
 * group, or with `storm` the newest incident of the service once it has
 * reached the storm cap.
 */
async function joinGroup(
  context: AlertContext,
  alert: ParsedAlert,
  group: IncidentRow,
  groupKey: string | null,
  serviceId: number,
  storm = false,
): Promise<AlertOutcome> {
  const severity = severityFromLabels(alert.labels);
  await addIncidentAlert(context.db, group.id, alert, groupKey);
  context.listed.add(listedKey(serviceId, alert.fingerprint));
  if (storm) {
    await context.db.query(
      `UPDATE incident SET title = $2 || title
        WHERE id = $1 AND left(title, length($2)) <> $2`,
      [group.id, ALERT_STORM_TITLE_PREFIX],
    );
  }
  // A more severe alert of the group raises the incident's severity, and an
  // alert that started earlier moves its onset back to the start of the
  // storm.
  await raiseSeverity(
    context.db,
    group.id,
    severity,
    context.actor,
    `alert ${alertName(alert)} joined with severity ${severity.toUpperCase()}`,
  );
  await context.db.query(
    `UPDATE incident
        SET service_impacting = service_impacting OR $2,
            opened_at = LEAST(opened_at, $3)
      WHERE id = $1`,
    [group.id, isServiceImpacting(severity), new Date(alert.startsAt)],
  );
  const changes = changesOf(context, group.id, serviceId);
  (storm ? changes.stormJoined : changes.joined).push(alert);
  return { outcome: "joined", incidentId: group.id };
}

async function openIncident(
  context: AlertContext,
  alert: ParsedAlert,
  service: { id: number; slug: string },
  dedupKey: string,
  groupKey: string | null,
): Promise<number | undefined> {
  const severity = severityFromLabels(alert.labels);
  const summary =
    alert.annotations.description?.trim() ||
    alert.annotations.summary?.trim() ||
    null;
  // No conflict target, so that a conflict on either dedup_key or the
  // open-fingerprint index skips the insert.
  const { rows } = await context.db.query<{ id: number }>(
    `INSERT INTO incident
       (service_id, title, status, severity, source, service_impacting,
        dedup_key, summary, opened_at, alert_fingerprint)
     VALUES ($1, $2, 'triggered', $3, 'alert', $4, $5, $6, $7, $8)
     ON CONFLICT DO NOTHING
     RETURNING id`,
    [
      service.id,
      alertTitle(alert),
      severity,
      isServiceImpacting(severity),
      dedupKey,
      summary,
      new Date(alert.startsAt),
      alert.fingerprint,
    ],
  );
  const incidentId = rows[0]?.id;
  if (incidentId === undefined) return undefined;

  await addIncidentAlert(context.db, incidentId, alert, groupKey);
  context.listed.add(listedKey(service.id, alert.fingerprint));
  const startsAt = new Date(alert.startsAt).toISOString();
  await addIncidentEvent(context.db, {
    incidentId,
    kind: "opened",
    ...context.actor,
    message: `Opened: ${context.delivery.source} alert ${alertName(alert)} firing since ${startsAt}`,
    data: {
      dedupKey,
      source: context.delivery.source,
      receiver: context.delivery.receiver,
      groupKey: context.delivery.groupKey,
      ...describeAlert(alert),
    },
  });
  const suspects = await recordSuspectDeployments(
    context.db,
    incidentId,
    context.actor,
  );
  await enqueueIncidentNotifications(context.db, incidentId, "opened");
  // Runbooks match an alert by its alertname (their alertNames rule); a
  // metricPattern rule applies to detector incidents only.
  const runbooks = await suggestAlertRunbooks(
    context.db,
    incidentId,
    {
      serviceSlug: service.slug,
      metricName: alert.labels.alertname ?? "",
      labels: alert.labels,
    },
    context.actor,
  );
  context.log.info(
    {
      incidentId,
      fingerprint: alert.fingerprint,
      startsAt,
      runbooks: runbooks.map((match) => match.slug),
      suspectDeploymentIds: suspects.map((suspect) => suspect.deploymentId),
    },
    "alert incident opened",
  );
  return incidentId;
}

/**
 * Returns the newest open incident of the service to join once it has
 * VIGIL_ALERT_STORM_INCIDENTS open alert incidents opened within the
 * window of the alert's start, or undefined below that cap.
 */
async function findStormTarget(
  context: AlertContext,
  alert: ParsedAlert,
  serviceId: number,
): Promise<IncidentRow | undefined> {
  const windowMinutes = context.windows.get(serviceId)!;
  const cap = context.stormIncidents;
  if (cap === 0 || windowMinutes === 0) return undefined;
  const open = await findStormIncidents(
    context.db,
    serviceId,
    new Date(alert.startsAt),
    windowMinutes,
    cap,
  );
  return open.length >= cap ? open[0] : undefined;
}

type ReopenedRow = {
  acknowledged_at: Date | null;
  acknowledged_by_id: number | null;
  resolved_at: Date;
  resolved_by_id: number | null;
};

/**
 * Returns whether the channels were sent the incident's latest resolve,
 * which a flapping cycle's resolve is not (see the header).
 */
async function channelsSawResolve(
  db: Queryable,
  incidentId: number,
): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean | null }>(
    `SELECT (data->>'notificationHeld')::boolean AS held
       FROM incident_event
      WHERE incident_id = $1 AND kind = 'resolved'
      ORDER BY id DESC LIMIT 1`,
    [incidentId],
  );
  return rows[0]?.held !== true;
}

/**
 * Reopens the service's resolved incident of the alert's fingerprint when
 * the alert starts less than the flap window after that incident resolved.
 * Returns undefined when it does not, so the alert groups or opens an
 * incident as usual.
 */
async function reopenFlappingIncident(
  context: AlertContext,
  alert: ParsedAlert,
  serviceId: number,
): Promise<AlertOutcome | undefined> {
  const { db, log } = context;
  const flapWindow = context.flapWindowMinutes;
  if (flapWindow === 0) return undefined;
  const incident = await findResolvedAlertIncident(
    db,
    serviceId,
    alert.fingerprint,
  );
  if (incident === undefined) return undefined;
  const gapMs = alert.startsAt - incident.resolved_at.getTime();
  if (gapMs >= flapWindow * MINUTE_MS) return undefined;
  // A firing older than the one the incident lists would reopen it with no
  // alert left to resolve it.
  if (alert.startsAt <= incident.last_starts_at.getTime()) return undefined;
  const openId = await findOpenIncidentSharingAlerts(db, serviceId, incident.id);
  if (openId !== null) {
    log.info(
      { incidentId: incident.id, openIncidentId: openId, fingerprint: alert.fingerprint },
      "alert incident not reopened: open incident %d lists one of its alerts",
      openId,
    );
    return undefined;
  }

  const { rows } = await db.query<ReopenedRow>(
    `WITH previous AS (
       SELECT id, acknowledged_at, acknowledged_by_id, resolved_at,
              resolved_by_id
         FROM incident WHERE id = $1 AND status = 'resolved'
     )
     UPDATE incident i
        SET status = 'triggered',
            acknowledged_at = NULL, acknowledged_by_id = NULL,
            resolved_at = NULL, resolved_by_id = NULL
       FROM previous
      WHERE i.id = previous.id
     RETURNING previous.acknowledged_at, previous.acknowledged_by_id,
               previous.resolved_at, previous.resolved_by_id`,
    [incident.id],
  );
  const previous = rows[0]!;
  const startsAt = new Date(alert.startsAt);
  await markAlertFiring(db, incident.id, alert.fingerprint, startsAt);

  const minutes = Math.max(0, Math.round(gapMs / MINUTE_MS));
  const notify = await channelsSawResolve(db, incident.id);
  const reason =
    `Alert ${alertName(alert)} fired again ${minutes} ` +
    `${minutes === 1 ? "minute" : "minutes"} after resolving, within the ` +
    `${flapWindow} min flap window`;
  await addIncidentEvent(db, {
    incidentId: incident.id,
    kind: "reopened",
    ...context.actor,
    message:
      `${reason}, so the incident reopened.` +
      (notify
        ? ""
        : " The channels were not sent its last resolve, so they are " +
          "not sent this reopen either."),
    data: {
      reason,
      flapping: true,
      minutesAfterResolving: minutes,
      flapWindowMinutes: flapWindow,
      notificationHeld: !notify,
      previous: {
        acknowledgedAt: previous.acknowledged_at?.toISOString() ?? null,
        acknowledgedById: previous.acknowledged_by_id,
        resolvedAt: previous.resolved_at.toISOString(),
        resolvedById: previous.resolved_by_id,
      },
      source: context.delivery.source,
      ...describeAlert(alert),
    },
  });
  if (notify) {
    await enqueueIncidentNotifications(db, incident.id, "reopened");
  } else {
    // Pages the on-call when the alert still fires, unacknowledged, once
    // the flap window has passed; a resolve before then stops it.
    await startEscalation(
      db,
      incident.id,
      new Date(now().getTime() + flapWindow * MINUTE_MS),
    );
  }
  log.info(
    {
      incidentId: incident.id,
      fingerprint: alert.fingerprint,
      minutesAfterResolving: minutes,
      notified: notify,
    },
    "flapping alert reopened its incident",
  );
  return { outcome: "reopened", incidentId: incident.id };
}

/**
 * Returns whether the resolve of an incident at `endsAt` ends a flapping
 * cycle: one that a flap reopen started less than the flap window earlier.
 */
async function endsFlappingCycle(
  context: AlertContext,
  incidentId: number,
  endsAt: Date,
): Promise<boolean> {
  if (context.flapWindowMinutes === 0) return false;
  const { rows } = await context.db.query<{
    flapping: boolean | null;
    starts_at: string | null;
  }>(
    `SELECT (data->>'flapping')::boolean AS flapping,
            data->>'startsAt' AS starts_at
       FROM incident_event
      WHERE incident_id = $1 AND kind = 'reopened'
      ORDER BY id DESC LIMIT 1`,
    [incidentId],
  );
  const reopen = rows[0];
  if (reopen?.flapping !== true || reopen.starts_at === null) return false;
  const cycleMs = endsAt.getTime() - Date.parse(reopen.starts_at);
  return cycleMs < context.flapWindowMinutes * MINUTE_MS;
}

async function recordFiring(
  context: AlertContext,
  alert: ParsedAlert,
  service: { id: number; slug: string },
): Promise<AlertOutcome> {
  const startsAt = new Date(alert.startsAt);
  const dedupKey = alertDedupKey(service.id, alert.fingerprint, alert.startsAt);
  const listed = context.listed.has(listedKey(service.id, alert.fingerprint));
  const open = listed
    ? await findOpenAlertMember(context.db, service.id, alert.fingerprint)
    : undefined;
  if (open) {
    return joinOpenIncident(context, alert, open.incident, open.member);
  }

  const firing = listed
    ? await findAlertFiring(context.db, service.id, alert.fingerprint, startsAt)
    : undefined;
  const previous =
    firing ?? (await findIncidentByDedupKey(context.db, dedupKey));
  if (previous) {
    // Only a resolved incident can list this firing here, because an open
    // one would have been found above.
    return {
      outcome: "ignored",
      incidentId: previous.id,
      reason:
        `incident ${previous.id} of this alert (same fingerprint and ` +
        "startsAt) is resolved already; a new startsAt opens a new incident " +
        "or reopens this one",
    };
  }

  const reopened = listed
    ? await reopenFlappingIncident(context, alert, service.id)
    : undefined;
  if (reopened) return reopened;

  const groupKey = alertGroupKey(alert.labels, context.groupLabels);
  const windowMinutes = context.windows.get(service.id)!;
  if (groupKey !== null && windowMinutes > 0) {
    const group = await findAlertGroupIncident(
      context.db,
      service.id,
      groupKey,
      startsAt,
      windowMinutes,
    );
    if (group) return joinGroup(context, alert, group, groupKey, service.id);
  }
  const storm = await findStormTarget(context, alert, service.id);
  if (storm) {
    return joinGroup(context, alert, storm, groupKey, service.id, true);
  }

  const incidentId = await openIncident(
    context,
    alert,
    service,
    dedupKey,
    groupKey,
  );
  if (incidentId === undefined) {
    throw new Error(
      `inserting the incident of alert ${alert.fingerprint} conflicted, ` +
        "but no incident lists that alert",
    );
  }
  return { outcome: "opened", incidentId };
}

async function recordResolved(
  context: AlertContext,
  alert: ParsedAlert,
  service: { id: number; slug: string },
): Promise<AlertOutcome> {
  const listed = context.listed.has(listedKey(service.id, alert.fingerprint));
  const open = listed
    ? await findOpenAlertMember(context.db, service.id, alert.fingerprint)
    : undefined;
  if (open === undefined) {
    const dedupKey = alertDedupKey(
      service.id,
      alert.fingerprint,
      alert.startsAt,
    );
    const firing = listed
      ? await findAlertFiring(
          context.db,
          service.id,
          alert.fingerprint,
          new Date(alert.startsAt),
        )
      : undefined;
    const previous =
      firing ?? (await findIncidentByDedupKey(context.db, dedupKey));
    if (previous) {
      return {
        outcome: "ignored",
        incidentId: previous.id,
        reason: `incident ${previous.id} is resolved already`,
      };
    }
    return {
      outcome: "ignored",
      incidentId: null,
      reason: "no open incident for this alert; Vigil did not see it fire",
    };
  }

  const { incident: target, member } = open;
  // A resolved alert older than the firing the incident lists is stale.
  if (member.starts_at.getTime() > alert.startsAt) {
    return {
      outcome: "ignored",
      incidentId: target.id,
      reason:
        `the alert started before open incident ${target.id} listed it, so ` +
        "it is an earlier firing that has no incident",
    };
  }
  if (member.resolved) {
    return {
      outcome: "ignored",
      incidentId: target.id,
      reason:
        `the alert is resolved already in incident ${target.id}, which stays ` +
        "open while other alerts of its group fire",
    };
  }

  const endsAt = new Date(alert.endsAt!);
  const { firing, total, lastEndsAt } = await markAlertResolved(
    context.db,
    target.id,
    alert.fingerprint,
    endsAt,
  );
  const changes = changesOf(context, target.id, service.id);
  if (firing > 0) {
    changes.resolved.push(alert);
    return { outcome: "resolved", incidentId: target.id };
  }

  await context.db.query(
    `UPDATE incident SET status = 'resolved', resolved_at = $2
      WHERE id = $1 AND status <> 'resolved'`,
    [target.id, lastEndsAt],
  );
  const grouped =
    total > 1
      ? ` All ${total} alerts of the incident have ended.`
      : "";
  // The alerts that ended earlier in this delivery are part of this event,
  // and the alerts that joined earlier get their event before it.
  const endedWith = changes.resolved.map((ended) => ended.fingerprint);
  changes.resolved = [];
  await recordIncidentGroupChanges(context, target.id, changes);
  // A held resolve is sent one flap window later if the alert stays
  // resolved (lib/ingest/alerts/held-resolve.ts).
  const resolveHeld = await endsFlappingCycle(context, target.id, endsAt);
  const heldNote = resolveHeld
    ? ` The alert is flapping: it fired again and resolved within the ` +
      `${context.flapWindowMinutes} min flap window, so the channels are ` +
      `sent this resolve only if the alert stays resolved for ${context.flapWindowMinutes} min.`
    : "";
  const resolvedEventId = await addIncidentEvent(context.db, {
    incidentId: target.id,
    kind: "resolved",
    ...context.actor,
    message: `Resolved: ${context.delivery.source} alert ${alertName(alert)} ended at ${endsAt.toISOString()}.${grouped}${heldNote}`,
    data: {
      source: context.delivery.source,
      ...describeAlert(alert),
      ...(total > 1 ? { alerts: total, endedWith } : {}),
      ...(resolveHeld ? { notificationHeld: true } : {}),
    },
  });
  if (resolveHeld) {
    await stopEscalation(context.db, target.id, "resolved");
    await scheduleHeldResolve(
      context.db,
      { incidentId: target.id, resolvedEventId },
      new Date(now().getTime() + context.flapWindowMinutes * MINUTE_MS),
    );
  } else {
    await enqueueIncidentNotifications(context.db, target.id, "resolved");
  }
  context.log.info(
    {
      incidentId: target.id,
      fingerprint: alert.fingerprint,
      alerts: total,
      notified: !resolveHeld,
    },
    "alert incident resolved",
  );
  return { outcome: "resolved", incidentId: target.id };
}

/** Lists up to five alert names with a count of the rest. */
function listAlertNames(alerts: readonly ParsedAlert[]): string {
  const names = [...new Set(alerts.map(alertName))];
  const shown = names.slice(0, 5).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * Adds one "alerts_joined" and one "alerts_resolved" event per incident for
 * the grouped alerts of this delivery that joined it or ended while others
 * still fire.
 */
async function recordGroupChanges(context: AlertContext): Promise<void> {
  const incidentIds = [...context.changes.keys()].sort((a, b) => a - b);
  for (const incidentId of incidentIds) {
    await recordIncidentGroupChanges(
      context,
      incidentId,
      context.changes.get(incidentId)!,
    );
  }
}

/** Writes the events of one incident's changes and empties them. */
async function recordIncidentGroupChanges(
  context: AlertContext,
  incidentId: number,
  changes: GroupChanges,
): Promise<void> {
  const { joined, stormJoined, resolved, windowMinutes } = changes;
  changes.joined = [];
  changes.stormJoined = [];
  changes.resolved = [];
  if (joined.length + stormJoined.length + resolved.length === 0) return;
  const { rows } = await context.db.query<{ firing: number; total: number }>(
    `SELECT count(*) FILTER (WHERE NOT resolved)::int AS firing,
            count(*)::int AS total
       FROM incident_alert WHERE incident_id = $1`,
    [incidentId],
  );
  const { firing, total } = rows[0]!;
  if (joined.length > 0) {
    const plural = joined.length === 1 ? "alert" : "alerts";
    await addIncidentEvent(context.db, {
      incidentId,
      kind: "alerts_joined",
      ...context.actor,
      message:
        `${joined.length} more ${context.delivery.source} ${plural} of the ` +
        `same group joined (${listAlertNames(joined)}), starting within ` +
        `${windowMinutes} min of the onset; the incident lists ` +
        `${total} alerts`,
      data: {
        source: context.delivery.source,
        windowMinutes,
        alerts: joined.map((alert) => ({
          fingerprint: alert.fingerprint,
          startsAt: new Date(alert.startsAt).toISOString(),
          labels: alert.labels,
        })),
      },
    });
  }
  if (stormJoined.length > 0) {
    const plural = stormJoined.length === 1 ? "alert" : "alerts";
    await addIncidentEvent(context.db, {
      incidentId,
      kind: "alerts_joined",
      ...context.actor,
      message:
        `Alert storm: ${stormJoined.length} more ${context.delivery.source} ` +
        `${plural} of other groups joined (${listAlertNames(stormJoined)}), ` +
        `because the service has ${context.stormIncidents} open alert ` +
        `incidents opened within ${windowMinutes} min; the incident lists ` +
        `${total} alerts`,
      data: {
        source: context.delivery.source,
        storm: true,
        windowMinutes,
        stormIncidents: context.stormIncidents,
        alerts: stormJoined.map((alert) => ({
          fingerprint: alert.fingerprint,
          startsAt: new Date(alert.startsAt).toISOString(),
          labels: alert.labels,
        })),
      },
    });
  }
  if (resolved.length > 0) {
    await addIncidentEvent(context.db, {
      incidentId,
      kind: "alerts_resolved",
      ...context.actor,
      message:
        `${resolved.length} ${context.delivery.source} ` +
        `${resolved.length === 1 ? "alert" : "alerts"} of the incident ` +
        `ended (${listAlertNames(resolved)}); ${firing} of ${total} still ` +
        "fire, so the incident stays open",
      data: {
        source: context.delivery.source,
        firing,
        total,
        alerts: resolved.map((alert) => ({
          fingerprint: alert.fingerprint,
          startsAt: new Date(alert.startsAt).toISOString(),
          endsAt: new Date(alert.endsAt!).toISOString(),
        })),
      },
    });
  }
}

/** Adds one "alerts_truncated" event to each touched incident, once per group and count. */
async function recordTruncation(
  context: AlertContext,
  incidentIds: readonly number[],
): Promise<void> {
  const { delivery } = context;
  const data = {
    source: delivery.source,
    receiver: delivery.receiver,
    groupKey: delivery.groupKey,
    truncatedAlerts: delivery.truncatedAlerts,
  };
  for (const incidentId of incidentIds) {
    if (await hasEvent(context.db, incidentId, "alerts_truncated", data)) {
      continue;
    }
    await addIncidentEvent(context.db, {
      incidentId,
      kind: "alerts_truncated",
      ...context.actor,
      message:
        `The ${delivery.source} notification left out ` +
        `${delivery.truncatedAlerts} alerts of its group (max_alerts), so ` +
        "Vigil did not see them",
      data,
    });
  }
}

/**
 * Opens, joins and resolves incidents for the alerts of one delivery, in one
 * transaction, and returns what happened to each alert in body order.
 * `forcedService` is ?service= or the slug of the token's bound service.
 * Throws ApiError 400 when an alert has no service and 403 when the token
 * may not write an alert's service. Nothing is stored then.
 */
export async function recordAlertDelivery(
  delivery: ParsedAlertDelivery,
  forcedService: string | null,
  token: ApiToken,
  log: Logger,
): Promise<AlertDeliveryResult> {
  const slugs = chooseAlertServices(delivery.alerts, forcedService);
  const actor: EventActor = {
    actorType: "token",
    actorId: token.id,
    actorName: `API token ${token.name}`,
  };

  const results = await withTransaction(getPool(), async (db) => {
    const context: AlertContext = {
      db,
      delivery,
      actor,
      log,
      groupLabels: getConfig().VIGIL_ALERT_GROUP_LABELS,
      windows: new Map(),
      stormIncidents: getConfig().VIGIL_ALERT_STORM_INCIDENTS,
      flapWindowMinutes: getConfig().VIGIL_ALERT_FLAP_WINDOW_MINUTES,
      listed: new Set(),
      changes: new Map(),
    };
    const serviceIds = new Map<string, number>();
    for (const slug of [...new Set(slugs)].sort()) {
      // A bound token's own service never gets a 403, so a forced service
      // that does came from ?service=.
      const field =
        forcedService !== null
          ? "service"
          : `${delivery.alerts[slugs.indexOf(slug)]!.field}.labels`;
      const service = await resolveServiceForWrite(db, slug, token, field);
      if (service.created) {
        log.info({ serviceId: service.id, slug }, "created service");
      }
      serviceIds.set(slug, service.id);
      // In slug order, as every delivery takes them (see the header).
      await lockServiceGrouping(db, "alert", service.id);
      context.windows.set(
        service.id,
        await groupingWindowMinutes(db, service.id),
      );
    }

    context.listed = await readListedFingerprints(
      db,
      [...serviceIds.values()],
      [...new Set(delivery.alerts.map((alert) => alert.fingerprint))],
    );

    const order = delivery.alerts
      .map((alert, position) => ({ alert, slug: slugs[position]! }))
      .sort(
        (a, b) =>
          compareText(a.slug, b.slug) ||
          compareText(a.alert.fingerprint, b.alert.fingerprint) ||
          a.alert.startsAt - b.alert.startsAt ||
          a.alert.index - b.alert.index,
      );
    const byIndex: AlertResult[] = [];
    for (const { alert, slug } of order) {
      const service = { id: serviceIds.get(slug)!, slug };
      const outcome =
        alert.status === "firing"
          ? await recordFiring(context, alert, service)
          : await recordResolved(context, alert, service);
      byIndex[alert.index] = {
        index: alert.index,
        status: alert.status,
        fingerprint: alert.fingerprint,
        service: slug,
        ...outcome,
      };
    }

    await recordGroupChanges(context);

    if (delivery.truncatedAlerts > 0) {
      const touched = byIndex
        .filter((result) => result.outcome !== "ignored")
        .map((result) => result.incidentId!);
      await recordTruncation(context, [...new Set(touched)].sort((a, b) => a - b));
    }
    return byIndex;
  });

  const count = (outcome: AlertOutcome["outcome"]) =>
    results.filter((result) => result.outcome === outcome).length;
  const summary: AlertDeliveryResult = {
    alerts: results,
    opened: count("opened"),
    reopened: count("reopened"),
    joined: count("joined"),
    resolved: count("resolved"),
    ignored: count("ignored"),
    truncatedAlerts: delivery.truncatedAlerts,
  };
  const counts = {
    source: delivery.source,
    groupKey: delivery.groupKey,
    alerts: results.length,
    opened: summary.opened,
    reopened: summary.reopened,
    joined: summary.joined,
    resolved: summary.resolved,
    ignored: summary.ignored,
  };
  if (delivery.truncatedAlerts > 0) {
    log.warn(
      { ...counts, truncatedAlerts: delivery.truncatedAlerts },
      "alert notification is incomplete: the sender left out alerts (max_alerts)",
    );
  } else {
    log.info(counts, "recorded alert notification");
  }
  return summary;
}
