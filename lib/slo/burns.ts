import { getConfig } from "@/lib/config";
import type { ActorType } from "@/lib/generated/prisma/enums";
import { addIncidentEvent, type Queryable } from "@/lib/incidents/events";
import { groupingWindowMinutes, lockServiceGrouping } from "@/lib/incidents/grouping";
import type { Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { enqueueAutomaticRunbooks } from "@/lib/runbooks/automatic";
import { suggestRunbooks } from "@/lib/runbooks/match";
import { formatBurnRate, formatRatio } from "@/lib/slo/format";
import type { SloStatus } from "@/lib/slo/status";
import type { SloRecord } from "@/lib/slo/store";

// Records the fast burns of SLOs and opens, joins and resolves their incidents.
//
// The burns of several SLOs of one service share one incident. A burn that
// starts within the service's grouping window of the opening of an open
// SLO incident of that service joins it, as anomaly episodes join detector
// incidents (lib/incidents/grouping.ts). The window is the service's
// grouping_window_minutes, else VIGIL_GROUPING_WINDOW_MINUTES, and 0 turns
// grouping off. Each burn keeps its slo_burn row and timeline event, and
// the incident resolves when its last burn ends.
//
// Callers hold the SLO's row lock, and both functions here take the
// service's SLO grouping lock. So two evaluators of two SLOs of one service
// cannot both open an incident, and an ending burn counts every burn that
// joined before it.

export type BurnActor = { actorType: ActorType; actorId: number | null; actorName: string };

export const SLO_EVALUATOR: BurnActor = { actorType: "worker", actorId: null, actorName: "SLO evaluator" };

export function sloDedupKey(sloId: number, seq: number): string {
  return `slo:${sloId}:burn:${seq}`;
}

function burnText(slo: SloRecord, status: SloStatus): string {
  return (
    `burn rate ${formatBurnRate(status.fast.long.burnRate)} over ${slo.fastLongMinutes} min ` +
    `and ${formatBurnRate(status.fast.short.burnRate)} over ${slo.fastShortMinutes} min, ` +
    `above the fast-burn threshold ${slo.fastBurnRate}`
  );
}

function sloMetricName(slo: SloRecord): string | null {
  return slo.kind === "latency" ? slo.latencyMetric : null;
}

function budgetHoursLeft(slo: SloRecord, status: SloStatus): string {
  const rate = status.fast.long.burnRate;
  if (rate === null || rate <= 0) return "the whole window";
  const hours = (slo.windowDays * 24) / rate;
  return `about ${hours.toFixed(1)} h in all`;
}

/**
 * Locks and returns the id of the open SLO incident of the service that was
 * opened within `windowMinutes` of `at`, the nearest one when several were.
 */
async function findGroupIncident(
  db: Queryable,
  serviceId: number,
  at: Date,
  windowMinutes: number,
): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM incident
      WHERE service_id = $1 AND source = 'slo' AND status <> 'resolved'
        AND opened_at BETWEEN $2::timestamptz - make_interval(mins => $3)
                          AND $2::timestamptz + make_interval(mins => $3)
      ORDER BY abs(extract(epoch FROM opened_at - $2::timestamptz)), id
      LIMIT 1
      FOR UPDATE`,
    [serviceId, at, windowMinutes],
  );
  return rows[0]?.id;
}

/** Inserts the incident of a burn that no open incident groups, with its event, runbooks and notifications. */
async function openIncident(
  db: Queryable,
  slo: SloRecord,
  status: SloStatus,
  seq: number,
  log: Logger,
): Promise<number> {
  const dedupKey = sloDedupKey(slo.id, seq);
  const title = `SLO ${slo.name} of ${slo.serviceName} is burning its error budget fast`;
  const summary =
    `${slo.name} (target ${formatRatio(slo.target)} over ${slo.windowDays} days): ` +
    `${burnText(slo, status)}. At this rate the error budget of the window lasts ` +
    `${budgetHoursLeft(slo, status)}.`;
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO incident
       (service_id, title, status, severity, source, service_impacting,
        dedup_key, summary, opened_at)
     VALUES ($1, $2, 'triggered', 'sev2', 'slo', false, $3, $4, $5)
     ON CONFLICT (dedup_key) DO NOTHING
     RETURNING id`,
    [slo.serviceId, title, dedupKey, summary, status.at],
  );
  const incidentId = rows[0]?.id;
  if (incidentId === undefined) {
    // Only a database where burn_count was edited by hand gets here: the
    // row lock lets one evaluator at a time count burns.
    const existing = await db.query<{ id: number }>(
      "SELECT id FROM incident WHERE dedup_key = $1",
      [dedupKey],
    );
    log.warn({ sloId: slo.id, incidentId: existing.rows[0]!.id, dedupKey }, "SLO burn incident existed already");
    return existing.rows[0]!.id;
  }
  await addIncidentEvent(db, {
    incidentId,
    kind: "opened",
    ...SLO_EVALUATOR,
    message: `Opened: SLO ${slo.name} is burning fast, ${burnText(slo, status)}`,
    data: {
      dedupKey,
      sloId: slo.id,
      burn: seq,
      longBurnRate: status.fast.long.burnRate,
      shortBurnRate: status.fast.short.burnRate,
      attainment: status.attainment,
      budgetRemainingFraction: status.budgetRemainingFraction,
    },
  });
  await suggestRunbooks(
    db,
    incidentId,
    {
      serviceSlug: slo.serviceSlug,
      metricName: sloMetricName(slo),
      labels: {},
      severity: "sev2",
    },
    SLO_EVALUATOR,
  );
  await enqueueAutomaticRunbooks(db, incidentId);
  await enqueueIncidentNotifications(db, incidentId, "opened");
  return incidentId;
}

/**
 * Records a new fast burn of the SLO. The burn joins the service's open
 * SLO incident in the grouping window, or else opens an incident.
 */
export async function startBurn(
  db: Queryable,
  slo: SloRecord,
  status: SloStatus,
  log: Logger,
): Promise<{ incidentId: number; joined: boolean }> {
  await lockServiceGrouping(db, "slo", slo.serviceId);
  const seq = slo.burnCount + 1;
  const windowMinutes = await groupingWindowMinutes(db, slo.serviceId);
  const group =
    windowMinutes > 0 ? await findGroupIncident(db, slo.serviceId, status.at, windowMinutes) : undefined;

  let incidentId: number;
  if (group === undefined) {
    incidentId = await openIncident(db, slo, status, seq, log);
  } else {
    incidentId = group;
    await addIncidentEvent(db, {
      incidentId,
      kind: "slo_burn_joined",
      ...SLO_EVALUATOR,
      message: `SLO ${slo.name} is burning fast too, ${burnText(slo, status)}. Its burn joined this incident.`,
      data: {
        sloId: slo.id,
        burn: seq,
        longBurnRate: status.fast.long.burnRate,
        shortBurnRate: status.fast.short.burnRate,
        attainment: status.attainment,
        budgetRemainingFraction: status.budgetRemainingFraction,
      },
    });
  }

  await db.query(
    `INSERT INTO slo_burn
       (slo_id, seq, incident_id, started_at, long_burn_rate, short_burn_rate)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (slo_id, seq) DO NOTHING`,
    [slo.id, seq, incidentId, status.at, status.fast.long.burnRate, status.fast.short.burnRate],
  );
  await db.query(
    "UPDATE slo SET burning_since = $2, burn_count = $3 WHERE id = $1",
    [slo.id, status.at, seq],
  );
  log.info(
    {
      sloId: slo.id,
      incidentId,
      burn: seq,
      joined: group !== undefined,
      longBurnRate: status.fast.long.burnRate,
      shortBurnRate: status.fast.short.burnRate,
    },
    group === undefined ? "SLO fast burn opened an incident" : "SLO fast burn joined the service's open SLO incident",
  );
  return { incidentId, joined: group !== undefined };
}

/** The time, actor and cause of the end of a burn. */
export type BurnEnding = {
  at: Date;
  actor: BurnActor;
  /** A clause that follows "Resolved: " in the timeline, such as "the fast burn of SLO x stopped, ...". */
  cause: string;
  /**
   * True when data shows the recovery. False when an admin's change ended the
   * burn: no later evaluation can resolve that incident, so it is resolved
   * even with VIGIL_AUTO_RESOLVE=false.
   */
  recovered: boolean;
  data: Record<string, unknown>;
};

/**
 * Ends the SLO's burn in progress. Resolves its incident when no other burn
 * of the incident goes on, and otherwise records the end in the timeline.
 * Returns the incident's id, or null when the incident was deleted.
 */
export async function endBurn(
  db: Queryable,
  slo: SloRecord,
  ending: BurnEnding,
  log: Logger,
): Promise<number | null> {
  await lockServiceGrouping(db, "slo", slo.serviceId);
  const { rows } = await db.query<{ incident_id: number | null }>(
    `UPDATE slo_burn SET ended_at = $3
      WHERE slo_id = $1 AND seq = $2 AND ended_at IS NULL
     RETURNING incident_id`,
    [slo.id, slo.burnCount, ending.at],
  );
  await db.query("UPDATE slo SET burning_since = NULL WHERE id = $1", [slo.id]);
  const incidentId = rows[0]?.incident_id ?? null;
  const ids = { sloId: slo.id, burn: slo.burnCount, incidentId };
  if (incidentId === null) {
    log.info(ids, "SLO fast burn ended");
    return null;
  }

  const { rows: incident } = await db.query<{ status: string }>(
    "SELECT status::text AS status FROM incident WHERE id = $1 FOR UPDATE",
    [incidentId],
  );
  const { rows: burning } = await db.query<{ name: string }>(
    `SELECT o.name FROM slo_burn b JOIN slo o ON o.id = b.slo_id
      WHERE b.incident_id = $1 AND b.ended_at IS NULL
      ORDER BY o.name`,
    [incidentId],
  );
  const data = { sloId: slo.id, burn: slo.burnCount, ...ending.data };
  const event = { incidentId, ...ending.actor, data };

  if (incident[0]?.status === "resolved") {
    await addIncidentEvent(db, {
      ...event,
      kind: ending.recovered ? "recovered" : "slo_burn_ended",
      message: `${ending.recovered ? "Recovered" : "Burn ended"}: ${ending.cause}. The incident was resolved already.`,
    });
    log.info(ids, "SLO fast burn ended, its incident was resolved already");
    return incidentId;
  }
  if (burning.length > 0) {
    const names = burning.map((row) => `SLO ${row.name}`).join(", ");
    await addIncidentEvent(db, {
      ...event,
      kind: "slo_burn_ended",
      message:
        `Burn ended: ${ending.cause}. The incident stays open while ${names} ` +
        `${burning.length === 1 ? "burns" : "burn"} fast.`,
    });
    log.info({ ...ids, stillBurning: burning.length }, "SLO fast burn ended, other burns keep the incident open");
    return incidentId;
  }
  if (ending.recovered && !getConfig().VIGIL_AUTO_RESOLVE) {
    await addIncidentEvent(db, {
      ...event,
      kind: "recovered",
      message:
        `Recovered: ${ending.cause}. ` +
        "Automatic resolution is off (VIGIL_AUTO_RESOLVE=false), so the incident stays open.",
    });
    log.info(ids, "SLO fast burn ended, incident left open because automatic resolution is off");
    return incidentId;
  }

  await db.query(
    `UPDATE incident
        SET status = 'resolved', resolved_at = $2, resolved_by_id = $3
      WHERE id = $1 AND status <> 'resolved'`,
    [incidentId, ending.at, ending.actor.actorType === "user" ? ending.actor.actorId : null],
  );
  await addIncidentEvent(db, { ...event, kind: "resolved", message: `Resolved: ${ending.cause}.` });
  await enqueueIncidentNotifications(db, incidentId, "resolved");
  log.info(ids, "SLO fast burn ended, incident resolved");
  return incidentId;
}

/** Returns the ending of a burn whose short window is back at or below the threshold. */
export function recoveryEnding(slo: SloRecord, status: SloStatus): BurnEnding {
  return {
    at: status.at,
    actor: SLO_EVALUATOR,
    cause:
      `the fast burn of SLO ${slo.name} stopped, the burn rate over the last ${slo.fastShortMinutes} min ` +
      `is ${formatBurnRate(status.fast.short.burnRate)}, at or below the fast-burn threshold ${slo.fastBurnRate}`,
    recovered: true,
    data: { shortBurnRate: status.fast.short.burnRate },
  };
}
