import type pg from "pg";

import { now } from "@/lib/clock";
import { logger as rootLogger, type Logger } from "@/lib/logger";
import { endBurn, recoveryEnding, startBurn } from "@/lib/slo/burns";
import { computeSloStatus, type SloStatus } from "@/lib/slo/status";
import { findSlo } from "@/lib/slo/store";

// Opens and resolves the incidents of fast burns.
//
// A fast burn starts when the burn rate over both the long and the short
// window of the fast alert is above its threshold. It ends when the burn
// rate over the short window is at or below the threshold again. The short
// window recovers within minutes of the errors stopping, while the long one
// would keep the burn going for up to its own length. A short window with
// no data is no sign of recovery, because telemetry that stops during an
// outage looks the same, so the burn stays open (state fast_burn_no_data).
// A burn opens an incident when it starts, or joins the service's open SLO
// incident in the grouping window (lib/slo/burns.ts). The incident resolves
// when its last burn ends. A later burn opens a new incident, also when a
// responder resolved the previous one while the burn went on.
//
// Each evaluation locks the SLO's row for its transaction, so evaluators
// take turns and each reads the burning_since the one before it wrote.
// The incident's dedup_key "slo:<id>:burn:<seq>" and the unique
// (slo_id, seq) of slo_burn back that up. SLO incidents are not service-impacting, so they do not count as
// downtime in the uptime KPI or in an availability SLO from incidents.
// Maintenance windows and silences suppress their notifications and
// escalation as for every incident (lib/notifications/enqueue.ts).

export { sloDedupKey } from "@/lib/slo/burns";

export type SloEvaluation =
  | { outcome: "opened"; incidentId: number; status: SloStatus }
  | { outcome: "joined"; incidentId: number; status: SloStatus }
  | { outcome: "resolved"; incidentId: number | null; status: SloStatus }
  | { outcome: "unchanged"; status: SloStatus }
  | { outcome: "missing" };

type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Evaluates one SLO at `at` in one transaction on `client`, which must not
 * be inside a transaction: opens or joins an incident when a fast burn
 * starts and ends the burn when its short window recovers.
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
      const { incidentId, joined } = await startBurn(client, slo, status, log);
      result = { outcome: joined ? "joined" : "opened", incidentId, status };
    } else if (slo.burningSince !== null && shortWindowRecovered(status)) {
      const incidentId = await endBurn(client, slo, recoveryEnding(slo, status), log);
      result = { outcome: "resolved", incidentId, status };
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
 * opened, joined and resolved incidents. An SLO that fails is logged and skipped,
 * so that one bad SLO cannot stop the others; the error count is returned.
 */
export async function evaluateAllSlos(
  client: Queryable,
  at: Date = now(),
  logger: Logger = rootLogger,
): Promise<{ evaluated: number; opened: number; joined: number; resolved: number; failed: number }> {
  const { rows } = await client.query<{ id: number }>("SELECT id FROM slo ORDER BY id");
  const counts = { evaluated: 0, opened: 0, joined: 0, resolved: 0, failed: 0 };
  for (const { id } of rows) {
    const log = logger.child({ sloId: id });
    try {
      const result = await evaluateSlo(client, id, at, log);
      counts.evaluated += 1;
      if (result.outcome === "opened") counts.opened += 1;
      if (result.outcome === "joined") counts.joined += 1;
      if (result.outcome === "resolved") counts.resolved += 1;
    } catch (error) {
      counts.failed += 1;
      log.error({ err: error }, "SLO evaluation failed, the next run retries it");
    }
  }
  return counts;
}
