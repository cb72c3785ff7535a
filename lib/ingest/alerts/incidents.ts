import { invalidField } from "@/lib/api/errors";
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
  suggestAlertRunbooks,
  type EventActor,
} from "@/lib/ingest/alerts/runbooks";
import { chooseServiceSlug } from "@/lib/ingest/service-choice";
import { resolveServiceForWrite } from "@/lib/ingest/services";
import { withTransaction } from "@/lib/ingest/transaction";
import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import type { Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";

// Turns the alerts of one Alertmanager or Grafana delivery into incidents,
// all in one transaction.
//
// An alert's identity is its fingerprint plus its startsAt, stored as the
// incident's dedup_key. A firing alert joins the open incident of its
// fingerprint when there is one, and otherwise opens a new incident. A
// resolved alert resolves the incident it opened, with resolved_at set to
// its endsAt. Once resolved, the same fingerprint with a new startsAt opens
// a new incident.
//
// Retries are safe. The unique dedup_key and the partial unique index
// incident_open_alert_fingerprint_key make a concurrent second INSERT of one
// alert wait and then insert nothing, and SELECT ... FOR UPDATE serialises
// the events and updates of one incident. Alerts are handled in (service,
// fingerprint) order so that two deliveries lock incidents in the same
// order.

export type AlertOutcome =
  | { outcome: "opened"; incidentId: number }
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
  joined: number;
  resolved: number;
  ignored: number;
  truncatedAlerts: number;
};

type IncidentRow = {
  id: number;
  status: "triggered" | "acknowledged" | "resolved";
  dedup_key: string;
  opened_at: Date;
  resolved_at: Date | null;
};

const INCIDENT_COLUMNS = "id, status, dedup_key, opened_at, resolved_at";

type AlertContext = {
  db: Queryable;
  delivery: ParsedAlertDelivery;
  actor: EventActor;
  log: Logger;
};

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

async function findOpenAlertIncident(
  db: Queryable,
  serviceId: number,
  fingerprint: string,
): Promise<IncidentRow | undefined> {
  const { rows } = await db.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incident
      WHERE service_id = $1 AND source = 'alert' AND alert_fingerprint = $2
        AND status <> 'resolved'
      FOR UPDATE`,
    [serviceId, fingerprint],
  );
  return rows[0];
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

async function joinOpenIncident(
  context: AlertContext,
  alert: ParsedAlert,
  open: IncidentRow,
  dedupKey: string,
): Promise<AlertOutcome> {
  if (open.dedup_key === dedupKey) {
    // A repeated notification or a retried delivery of the same alert.
    return { outcome: "joined", incidentId: open.id };
  }
  // The alert ended and fired again without Vigil seeing it resolved, for
  // example because send_resolved is off. The open incident records the
  // new firing once.
  const startsAt = new Date(alert.startsAt).toISOString();
  const seen = await hasEvent(context.db, open.id, "alert_fired_again", {
    fingerprint: alert.fingerprint,
    startsAt,
  });
  if (!seen) {
    await addIncidentEvent(context.db, {
      incidentId: open.id,
      kind: "alert_fired_again",
      ...context.actor,
      message: `Alert ${alertName(alert)} fired again, starting ${startsAt}`,
      data: { source: context.delivery.source, ...describeAlert(alert) },
    });
  }
  return { outcome: "joined", incidentId: open.id };
}

async function openIncident(
  context: AlertContext,
  alert: ParsedAlert,
  service: { id: number; slug: string },
  dedupKey: string,
): Promise<number | undefined> {
  const severity = severityFromLabels(alert.labels);
  const summary =
    alert.annotations.description?.trim() ||
    alert.annotations.summary?.trim() ||
    null;
  // No conflict target, so that a conflict on either dedup_key or the
  // open-fingerprint index waits for the other transaction and skips.
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
  await enqueueIncidentNotifications(context.db, incidentId, "opened");
  // NOTE: runbook rules match the alertname as the metric name, so a
  // runbook whose metricPattern names a metric matches no alert.
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
    },
    "alert incident opened",
  );
  return incidentId;
}

async function recordFiring(
  context: AlertContext,
  alert: ParsedAlert,
  service: { id: number; slug: string },
): Promise<AlertOutcome> {
  const dedupKey = alertDedupKey(service.id, alert.fingerprint, alert.startsAt);
  // The second pass runs only when a concurrent delivery inserted the same
  // alert first. Its row is committed by then, so the SELECTs find it.
  for (let pass = 0; pass < 2; pass += 1) {
    const open = await findOpenAlertIncident(
      context.db,
      service.id,
      alert.fingerprint,
    );
    if (open) return joinOpenIncident(context, alert, open, dedupKey);

    const previous = await findIncidentByDedupKey(context.db, dedupKey);
    // A concurrent delivery of this alert can commit its incident between
    // the two lookups, so an incident found here may still be open.
    if (previous && previous.status !== "resolved") {
      return joinOpenIncident(context, alert, previous, dedupKey);
    }
    if (previous) {
      return {
        outcome: "ignored",
        incidentId: previous.id,
        reason:
          `incident ${previous.id} of this alert (same fingerprint and ` +
          "startsAt) is resolved already; a new startsAt opens a new incident",
      };
    }

    const incidentId = await openIncident(context, alert, service, dedupKey);
    if (incidentId !== undefined) return { outcome: "opened", incidentId };
  }
  throw new Error(
    `inserting the incident of alert ${alert.fingerprint} conflicted twice, ` +
      "but no conflicting incident was found",
  );
}

async function recordResolved(
  context: AlertContext,
  alert: ParsedAlert,
  service: { id: number; slug: string },
): Promise<AlertOutcome> {
  const dedupKey = alertDedupKey(service.id, alert.fingerprint, alert.startsAt);
  let target = await findIncidentByDedupKey(context.db, dedupKey);
  if (target?.status === "resolved") {
    return {
      outcome: "ignored",
      incidentId: target.id,
      reason: `incident ${target.id} is resolved already`,
    };
  }
  if (target === undefined) {
    // The open incident may have been opened by an earlier startsAt of the
    // same fingerprint. A resolved alert older than that incident is stale.
    const open = await findOpenAlertIncident(
      context.db,
      service.id,
      alert.fingerprint,
    );
    if (open === undefined) {
      return {
        outcome: "ignored",
        incidentId: null,
        reason: "no open incident for this alert; Vigil did not see it fire",
      };
    }
    if (open.opened_at.getTime() > alert.startsAt) {
      return {
        outcome: "ignored",
        incidentId: open.id,
        reason:
          `the alert started before open incident ${open.id} opened, so it ` +
          "is an earlier firing that has no incident",
      };
    }
    target = open;
  }

  const endsAt = new Date(alert.endsAt!);
  await context.db.query(
    `UPDATE incident SET status = 'resolved', resolved_at = $2
      WHERE id = $1 AND status <> 'resolved'`,
    [target.id, endsAt],
  );
  await addIncidentEvent(context.db, {
    incidentId: target.id,
    kind: "resolved",
    ...context.actor,
    message: `Resolved: ${context.delivery.source} alert ${alertName(alert)} ended at ${endsAt.toISOString()}`,
    data: { source: context.delivery.source, ...describeAlert(alert) },
  });
  await enqueueIncidentNotifications(context.db, target.id, "resolved");
  context.log.info(
    { incidentId: target.id, fingerprint: alert.fingerprint },
    "alert incident resolved",
  );
  return { outcome: "resolved", incidentId: target.id };
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
    const context: AlertContext = { db, delivery, actor, log };
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
    }

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
