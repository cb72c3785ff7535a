import type { Queryable } from "@/lib/incidents/events";

// First key of the two-key advisory lock that serialises work on one
// series. It must equal SERIES_LOCK_CLASS in workers/score-series.ts ("VG"
// in ASCII), so that switching a series' active model waits for a running
// scoring transaction, and scoring waits for the switch.
export const SERIES_LOCK_CLASS = 0x5647;

/** Takes the series' advisory lock until the current transaction ends. */
export async function lockSeriesInTransaction(
  db: Queryable,
  seriesId: number,
): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock($1, $2)", [
    SERIES_LOCK_CLASS,
    seriesId,
  ]);
}
