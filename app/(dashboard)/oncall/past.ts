import type { Queryable } from "@/lib/incidents/events";
import type { LabelMatcher } from "@/lib/oncall/matchers";

// Reads of the /oncall page that the on-call API does not offer: the
// history of maintenance windows and silences, and override reasons.

/** Past windows listed on the page. */
export const PAST_WINDOWS_SHOWN = 20;

export type PastWindow = {
  kind: "maintenance" | "silence";
  id: number;
  serviceName: string | null;
  matchers: LabelMatcher[];
  reason: string;
  startsAt: Date;
  /** When it stopped: ended early by someone, or its planned end. */
  endedAt: Date;
  /** Ended by someone before its planned end. */
  endedEarly: boolean;
  createdByName: string;
};

type PastRow = {
  kind: "maintenance" | "silence";
  id: number;
  service_name: string | null;
  matchers: LabelMatcher[] | null;
  reason: string;
  starts_at: Date;
  stopped_at: Date;
  ended_early: boolean;
  created_by_name: string;
};

// A window or silence is over at $1 once past ends_at or ended early, the
// negation of the NOT_OVER condition in lib/oncall/windows.ts.
const PAST_SQL = `
  SELECT * FROM (
    SELECT 'maintenance' AS kind, w.id, s.name AS service_name, NULL::jsonb AS matchers, w.reason,
           w.starts_at, LEAST(w.ends_at, COALESCE(w.ended_at, w.ends_at)) AS stopped_at,
           COALESCE(w.ended_at < w.ends_at, false) AS ended_early, w.created_by_name
      FROM maintenance_window w JOIN service s ON s.id = w.service_id
     WHERE w.ends_at <= $1 OR w.ended_at <= $1
    UNION ALL
    SELECT 'silence' AS kind, w.id, s.name AS service_name, w.matchers, w.reason,
           w.starts_at, LEAST(w.ends_at, COALESCE(w.ended_at, w.ends_at)) AS stopped_at,
           COALESCE(w.ended_at < w.ends_at, false) AS ended_early, w.created_by_name
      FROM silence w LEFT JOIN service s ON s.id = w.service_id
     WHERE w.ends_at <= $1 OR w.ended_at <= $1
  ) past
  ORDER BY stopped_at DESC, kind, id DESC
  LIMIT $2`;

/** Lists the maintenance windows and silences over at `at`, the most recently ended first. */
export async function listPastWindows(db: Queryable, at: Date, limit = PAST_WINDOWS_SHOWN): Promise<PastWindow[]> {
  const { rows } = await db.query<PastRow>(PAST_SQL, [at, limit]);
  return rows.map((row) => ({
    kind: row.kind,
    id: row.id,
    serviceName: row.service_name,
    matchers: row.matchers ?? [],
    reason: row.reason,
    startsAt: row.starts_at,
    endedAt: row.stopped_at,
    endedEarly: row.ended_early,
    createdByName: row.created_by_name,
  }));
}

/** Returns the reason of each override that ends after `at`, by override id. */
export async function overrideReasons(db: Queryable, at: Date): Promise<Map<number, string>> {
  const { rows } = await db.query<{ id: number; reason: string }>(
    "SELECT id, reason FROM oncall_override WHERE ends_at > $1 AND reason IS NOT NULL AND reason <> ''",
    [at],
  );
  return new Map(rows.map((row) => [row.id, row.reason]));
}
