import type pg from "pg";

import { computeSloStatus, type SloStatus } from "@/lib/slo/status";
import { listSloBurns, listSlos, type SloBurnRecord, type SloRecord } from "@/lib/slo/store";

// SLOs with their status at one moment and their recent burns, as the API
// and the SLO page show them.

type Queryable = Pick<pg.ClientBase, "query">;

export type SloOverview = {
  slo: SloRecord;
  status: SloStatus;
  burns: SloBurnRecord[];
};

/** Lists the SLOs of `serviceIds` (all when null) with their status at `at`. */
export async function listSloOverviews(
  db: Queryable,
  at: Date,
  serviceIds: number[] | null = null,
): Promise<SloOverview[]> {
  const slos = await listSlos(db, serviceIds);
  const burns = await listSloBurns(
    db,
    slos.map((slo) => slo.id),
  );
  const overviews: SloOverview[] = [];
  for (const slo of slos) {
    overviews.push({
      slo,
      status: await computeSloStatus(db, slo, at),
      burns: burns.get(slo.id) ?? [],
    });
  }
  return overviews;
}
