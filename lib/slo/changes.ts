import type pg from "pg";

import { now } from "@/lib/clock";
import { withTransaction } from "@/lib/ingest/transaction";
import type { Logger } from "@/lib/logger";
import type { Actor } from "@/lib/oncall/schedules";
import { checkServiceFits, parsePatchBody } from "@/lib/slo/api";
import { endBurn, type BurnActor } from "@/lib/slo/burns";
import { deleteSlo, findSlo, sloToInput, updateSlo, type SloInput, type SloRecord } from "@/lib/slo/store";

// Admin deletes and updates of SLOs. Each runs in one transaction that
// locks the SLO's row, as the evaluator does. Deleting a burning SLO, or
// changing what it measures, ends its burn in that transaction with the
// reason in the incident's timeline, before the slo_burn row goes. Nothing
// would evaluate that burn again, so its incident would otherwise stay open.

/** Fields whose change makes an SLO measure something else, which ends a burn in progress. */
const MEASURE_FIELDS = ["service", "kind", "availabilitySource", "latencyMetric"] as const;

function burnActor(actor: Actor): BurnActor {
  return { actorType: actor.type, actorId: actor.id, actorName: actor.name };
}

/** Lists the measure fields that `input` changes, such as `service from "checkout" to "search"`. */
function describeMeasureChanges(current: SloRecord, input: SloInput): string[] {
  const before = sloToInput(current);
  return MEASURE_FIELDS.filter((field) => before[field] !== input[field]).map(
    (field) => `${field} from ${JSON.stringify(before[field])} to ${JSON.stringify(input[field])}`,
  );
}

/**
 * Deletes an SLO and returns whether it existed. A burn in progress ends
 * first, which resolves its incident unless other burns share it.
 */
export async function deleteSloEndingBurn(
  pool: pg.Pool,
  id: number,
  actor: Actor,
  log: Logger,
): Promise<boolean> {
  return withTransaction(pool, async (db) => {
    const slo = await findSlo(db, id, { lock: true });
    if (!slo) return false;
    if (slo.burningSince !== null) {
      const cause =
        `${actor.name} deleted SLO ${slo.name} during its fast burn, ` +
        "so the burn ended because nothing evaluates it any more";
      await endBurn(
        db,
        slo,
        { at: now(), actor: burnActor(actor), cause, recovered: false, data: { change: "deleted" } },
        log,
      );
    }
    await deleteSlo(db, id);
    return true;
  });
}

/**
 * Applies a PATCH body to an SLO and returns the result, or null when the
 * SLO does not exist. Throws the 400 and 422 ApiErrors of the body checks
 * and SloNameTakenError, and then writes nothing. When the change alters
 * what a burning SLO measures (service, kind, availabilitySource or
 * latencyMetric), the burn ends first.
 */
export async function updateSloEndingBurn(
  pool: pg.Pool,
  id: number,
  body: unknown,
  actor: Actor,
  log: Logger,
): Promise<SloRecord | null> {
  return withTransaction(pool, async (db) => {
    const current = await findSlo(db, id, { lock: true });
    if (!current) return null;
    const input = parsePatchBody(body, sloToInput(current));
    await checkServiceFits(db, input);
    const changes = describeMeasureChanges(current, input);
    if (current.burningSince !== null && changes.length > 0) {
      const cause =
        `${actor.name} changed SLO ${current.name} during its fast burn (${changes.join(", ")}), ` +
        "so the burn ended because the SLO no longer measures what burned";
      await endBurn(
        db,
        current,
        { at: now(), actor: burnActor(actor), cause, recovered: false, data: { change: "updated", fields: changes } },
        log,
      );
    }
    return updateSlo(db, id, input);
  });
}
