import type pg from "pg";

import { now } from "@/lib/clock";
import { getConfig } from "@/lib/config";
import { addIncidentEvent } from "@/lib/incidents/events";
import { logger as rootLogger, type Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { enqueueAutomaticRunbooks } from "@/lib/runbooks/automatic";
import { suggestRunbooks } from "@/lib/runbooks/match";
import { formatBurnRate, formatRatio } from "@/lib/slo/format";
import { computeSloStatus, type SloStatus } from "@/lib/slo/status";
import { findSlo, type SloRecord } from "@/lib/slo/store";

// Opens and resolves the incidents of fast burns.
//
// A fast burn starts when the burn rate over both the long and the short
// window of the fast alert is above its threshold. It ends when the burn
// rate over the short window is at or below the threshold again. The short
// window recovers within minutes of the errors stopping, while the long one
// would keep the burn going for up to its own length. A short window with
// no data is no sign of recovery, because telemetry that stops during an
// outage looks the same, so the burn stays open (state fast_burn_no_data). A burn opens one incident when it starts and resolves it when it
// ends. A later burn opens a new incident, also when a responder resolved
// the previous one while the burn went on.
//
// Each evaluation locks the SLO's row for its transaction, so evaluators
// take turns, and the next one sees burning_since. The incident's dedup_key
// "slo:<id>:burn:<seq>" and the unique (slo_id, seq) of slo_burn back that
// up. SLO incidents are not service-impacting, so they do not count as
// downtime in the uptime KPI or in an availability SLO from incidents.
// Maintenance windows and silences suppress their notifications and
// escalation as for every incident (lib/notifications/enqueue.ts).

const SLO_ACTOR = { actorType: "worker", actorName: "SLO evaluator" } as const;

export type SloEvaluation =
  | { outcome: "opened"; incidentId: number; status: SloStatus }
  | { outcome: "resolved"; incidentId: number | null; status: SloStatus }
  | { outcome: "unchanged"; status: SloStatus }
  | { outcome: "missing" };

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

/** Opens the incident of a new fast burn and records the burn. */
async function openBurn(
  db: Queryable,
  slo: SloRecord,
  status: SloStatus,
  log: Logger,
): Promise<number> {
  const seq = slo.burnCount + 1;
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
  let incidentId = rows[0]?.id;
  if (incidentId === undefined) {
    // Only a database where burn_count was edited by hand gets here: the
    // row lock lets one evaluator at a time count burns.
    const existing = await db.query<{ id: number }>(
      "SELECT id FROM incident WHERE dedup_key = $1",
      [dedupKey],
    );
    incidentId = existing.rows[0]!.id;
    log.warn({ sloId: slo.id, incidentId, dedupKey }, "SLO burn incident existed already");
  } else {
    await addIncidentEvent(db, {
      incidentId,
      kind: "opened",
      ...SLO_ACTOR,
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
      SLO_ACTOR,
    );
    await enqueueAutomaticRunbooks(db, incidentId);
    await enqueueIncidentNotifications(db, incidentId, "opened");
  }
  await db.query(
    `INSERT INTO slo_burn
       (slo_id, seq, incident_id, started_at, long_burn_rate, short_burn_rate)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (slo_id, seq) DO NOTHING`,
    [
      slo.id,
      seq,
      incidentId,
      status.at,
      status.fast.long.burnRate,
      status.fast.short.burnRate,
    ],
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
      longBurnRate: status.fast.long.burnRate,
      shortBurnRate: status.fast.short.burnRate,
    },
    "SLO fast burn opened an incident",
  );
  return incidentId;
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

/** Ends the burn in progress and resolves its incident when it is open. */
async function endBurn(
  db: Queryable,
  slo: SloRecord,
  status: SloStatus,
  log: Logger,
): Promise<number | null> {
  const { rows } = await db.query<{ incident_id: number | null }>(
    `UPDATE slo_burn SET ended_at = $3
      WHERE slo_id = $1 AND seq = $2 AND ended_at IS NULL
     RETURNING incident_id`,
    [slo.id, slo.burnCount, status.at],
  );
  await db.query(
    "UPDATE slo SET burning_since = NULL WHERE id = $1",
    [slo.id],
  );
  const incidentId = rows[0]?.incident_id ?? null;
  const shortRate = formatBurnRate(status.fast.short.burnRate);
  const reason =
    `the burn rate over the last ${slo.fastShortMinutes} min is ${shortRate}, ` +
    `at or below the fast-burn threshold ${slo.fastBurnRate}`;
  if (incidentId === null) {
    log.info({ sloId: slo.id, burn: slo.burnCount }, "SLO fast burn ended");
    return null;
  }

  const autoResolve = getConfig().VIGIL_AUTO_RESOLVE;
  const resolved = autoResolve
    ? await db.query(
        `UPDATE incident
            SET status = 'resolved', resolved_at = $2
          WHERE id = $1 AND status <> 'resolved'`,
        [incidentId, status.at],
      )
    : { rowCount: 0 };
  if ((resolved.rowCount ?? 0) > 0) {
    await addIncidentEvent(db, {
      incidentId,
      kind: "resolved",
      ...SLO_ACTOR,
      message: `Resolved: the fast burn of SLO ${slo.name} stopped, ${reason}.`,
      data: { sloId: slo.id, burn: slo.burnCount, shortBurnRate: status.fast.short.burnRate },
    });
    await enqueueIncidentNotifications(db, incidentId, "resolved");
    log.info({ sloId: slo.id, incidentId }, "SLO fast burn ended, incident resolved");
    return incidentId;
  }
  const stays = autoResolve
    ? "The incident was resolved already."
    : "Automatic resolution is off (VIGIL_AUTO_RESOLVE=false), so the incident stays open.";
  await addIncidentEvent(db, {
    incidentId,
    kind: "recovered",
    ...SLO_ACTOR,
    message: `Recovered: the fast burn of SLO ${slo.name} stopped, ${reason}. ${stays}`,
    data: { sloId: slo.id, burn: slo.burnCount, shortBurnRate: status.fast.short.burnRate },
  });
  log.info({ sloId: slo.id, incidentId, autoResolve }, "SLO fast burn ended, incident left as it is");
  return incidentId;
}

type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Evaluates one SLO at `at` in one transaction on `client`, which must not
 * be inside a transaction: opens an incident when a fast burn starts and
 * resolves it when the burn ends.
 */
export async function evaluateSlo(
  client: Queryable,
  sloId: number,
  at: Date = now(),
  logger?: Logger,
): Promise<SloEvaluation> {
  const log = logger ?? rootLogger.child({ sloId });
  await client.query("BEGIN");
  try {
    const slo = await findSlo(client, sloId, { lock: true });
    if (!slo) {
      await client.query("ROLLBACK");
      return { outcome: "missing" };
    }
    const status = await computeSloStatus(client, slo, at);
    let result: SloEvaluation = { outcome: "unchanged", status };
    if (slo.burningSince === null && status.fast.burning) {
      result = { outcome: "opened", incidentId: await openBurn(client, slo, status, log), status };
    } else if (slo.burningSince !== null && shortWindowRecovered(status)) {
      result = { outcome: "resolved", incidentId: await endBurn(client, slo, status, log), status };
    }
    await client.query("UPDATE slo SET last_evaluated_at = $2 WHERE id = $1", [slo.id, at]);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Returns whether the short window has data and a burn rate at or below the threshold. */
function shortWindowRecovered(status: SloStatus): boolean {
  const rate = status.fast.short.burnRate;
  return rate !== null && rate <= status.fast.threshold;
}

/**
 * Evaluates every SLO, each in its own transaction, and returns how many
 * opened and resolved incidents. An SLO that fails is logged and skipped,
 * so that one bad SLO cannot stop the others; the error count is returned.
 */
export async function evaluateAllSlos(
  client: Queryable,
  at: Date = now(),
  logger: Logger = rootLogger,
): Promise<{ evaluated: number; opened: number; resolved: number; failed: number }> {
  const { rows } = await client.query<{ id: number }>("SELECT id FROM slo ORDER BY id");
  const counts = { evaluated: 0, opened: 0, resolved: 0, failed: 0 };
  for (const { id } of rows) {
    const log = logger.child({ sloId: id });
    try {
      const result = await evaluateSlo(client, id, at, log);
      counts.evaluated += 1;
      if (result.outcome === "opened") counts.opened += 1;
      if (result.outcome === "resolved") counts.resolved += 1;
    } catch (error) {
      counts.failed += 1;
      log.error({ err: error }, "SLO evaluation failed, the next run retries it");
    }
  }
  return counts;
}
