import type { NewIncidentEvent, Queryable } from "@/lib/incidents/events";
import { addIncidentEvent } from "@/lib/incidents/events";

// Ranks runbooks for an incident by their match rules. A rule left empty
// matches anything, and every rule a runbook sets must match. More specific
// rules earn more points, so a runbook written for one service and metric
// outranks a generic one:
//   service listed           4
//   exact metric name        3
//   metric glob              2 plus up to 0.99 for its literal characters
//   each label pair          1
//   no rules at all          0.1 (generic fallback)

export type RunbookRules = {
  id: number;
  slug: string;
  title: string;
  /** Service slugs; empty means any service. */
  services: readonly string[];
  /** Glob on the metric name (`*` any run, `?` one character); null is any. */
  metricPattern: string | null;
  /** Label pairs the series must carry; empty means any labels. */
  labels: Record<string, string>;
};

export type MatchTarget = {
  serviceSlug: string;
  metricName: string;
  labels: Record<string, unknown>;
};

export type RunbookMatch = {
  runbookId: number;
  slug: string;
  title: string;
  score: number;
  reason: string;
};

export const MAX_SUGGESTED_RUNBOOKS = 3;

const GENERIC_SCORE = 0.1;

/** Converts a glob with `*` and `?` into an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const character of glob) {
    if (character === "*") source += ".*";
    else if (character === "?") source += ".";
    else source += character.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function metricPoints(pattern: string): number {
  const literal = pattern.replace(/[*?]/g, "").length;
  if (literal === pattern.length) return 3;
  return 2 + Math.min(literal, 99) / 100;
}

/** Scores one runbook against a target, or returns null if a rule fails. */
export function matchRunbook(
  runbook: RunbookRules,
  target: MatchTarget,
): RunbookMatch | null {
  let score = 0;
  const reasons: string[] = [];

  if (runbook.services.length > 0) {
    if (!runbook.services.includes(target.serviceSlug)) return null;
    score += 4;
    reasons.push(`service ${target.serviceSlug}`);
  }

  if (runbook.metricPattern) {
    if (!globToRegExp(runbook.metricPattern).test(target.metricName)) {
      return null;
    }
    score += metricPoints(runbook.metricPattern);
    reasons.push(
      runbook.metricPattern === target.metricName
        ? `metric ${target.metricName}`
        : `metric matches ${runbook.metricPattern}`,
    );
  }

  const pairs = Object.entries(runbook.labels);
  for (const [key, value] of pairs) {
    if (String(target.labels[key] ?? "") !== String(value)) return null;
  }
  if (pairs.length > 0) {
    score += pairs.length;
    const listed = pairs.map(([key, value]) => `${key}=${value}`).join(", ");
    reasons.push(`labels ${listed}`);
  }

  if (reasons.length === 0) {
    score = GENERIC_SCORE;
    reasons.push("generic runbook for any service and metric");
  }
  return {
    runbookId: runbook.id,
    slug: runbook.slug,
    title: runbook.title,
    score,
    reason: reasons.join(", "),
  };
}

/** Returns the matching runbooks, best first; ties go by slug. */
export function rankRunbooks(
  runbooks: readonly RunbookRules[],
  target: MatchTarget,
): RunbookMatch[] {
  return runbooks
    .map((runbook) => matchRunbook(runbook, target))
    .filter((match): match is RunbookMatch => match !== null)
    .sort((a, b) => b.score - a.score || a.slug.localeCompare(b.slug));
}

type RunbookRow = {
  id: number;
  slug: string;
  title: string;
  services: string[] | null;
  metric_pattern: string | null;
  labels: Record<string, unknown> | null;
};

function toRules(row: RunbookRow): RunbookRules {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(row.labels ?? {})) {
    labels[key] = String(value);
  }
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    services: row.services ?? [],
    metricPattern: row.metric_pattern,
    labels,
  };
}

/** Actor of the "runbooks_suggested" event, the detector by default. */
export type SuggestionActor = Pick<
  NewIncidentEvent,
  "actorType" | "actorId" | "actorName"
>;

const DETECTOR_ACTOR: SuggestionActor = {
  actorType: "worker",
  actorName: "anomaly detector",
};

/**
 * Stores the best runbooks for an incident in incident_runbook and adds a
 * "runbooks_suggested" timeline event by `actor`, inside the caller's
 * transaction. Returns the stored matches, none when no runbook matches.
 */
export async function suggestRunbooks(
  db: Queryable,
  incidentId: number,
  target: MatchTarget,
  actor: SuggestionActor = DETECTOR_ACTOR,
): Promise<RunbookMatch[]> {
  const { rows } = await db.query<RunbookRow>(
    `SELECT id, slug, title, services, metric_pattern, labels FROM runbook`,
  );
  const top = rankRunbooks(rows.map(toRules), target).slice(
    0,
    MAX_SUGGESTED_RUNBOOKS,
  );
  if (top.length === 0) return top;

  await db.query(
    `INSERT INTO incident_runbook (incident_id, runbook_id, score, reason)
     SELECT $1, runbook_id, score, reason
       FROM unnest($2::int[], $3::float8[], $4::text[])
            AS m(runbook_id, score, reason)
     ON CONFLICT (incident_id, runbook_id) DO NOTHING`,
    [
      incidentId,
      top.map((match) => match.runbookId),
      top.map((match) => match.score),
      top.map((match) => match.reason),
    ],
  );
  await addIncidentEvent(db, {
    incidentId,
    kind: "runbooks_suggested",
    ...actor,
    message: `Suggested runbooks: ${top.map((match) => match.title).join("; ")}`,
    data: {
      runbooks: top.map(({ runbookId, slug, score, reason }) => ({
        runbookId,
        slug,
        score,
        reason,
      })),
    },
  });
  return top;
}
