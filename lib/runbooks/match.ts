import type { NewIncidentEvent, Queryable } from "@/lib/incidents/events";
import { addIncidentEvent } from "@/lib/incidents/events";
import { contentFromRow, type ContentRow } from "@/lib/runbooks/content";
import {
  loadIncidentProfile,
  loadJudgedIncidents,
} from "@/lib/runbooks/incident-profile";
import {
  countHistory,
  rankSuggestions,
  type RankCandidate,
  type RankedSuggestion,
} from "@/lib/runbooks/rank";
import type { MatchTarget } from "@/lib/runbooks/rules";
import { buildSimilarityIndex, tokenize } from "@/lib/runbooks/similarity";

// Runbook suggestions for a new incident: loads the runbooks that are not
// archived and the feedback on similar resolved incidents, ranks them
// (lib/runbooks/rank.ts) and stores the best in incident_runbook with the
// suggested version and the score breakdown.

export {
  globMatches,
  matchRunbook,
  rankRunbooks,
  type MatchTarget,
  type RunbookMatch,
  type RunbookRules,
} from "@/lib/runbooks/rules";
export {
  MAX_SUGGESTED_RUNBOOKS,
  type RankedSuggestion,
  type SuggestionBreakdown,
} from "@/lib/runbooks/rank";

type CandidateRow = ContentRow & {
  id: number;
  slug: string;
  current_version: number | null;
  updated_at: Date;
};

// Tokens of a runbook's title and body by id, version and update time, so
// that each worker tokenizes a runbook once per change.
const MAX_CACHED_TOKENS = 2000;
const tokenCache = new Map<string, string[]>();

function runbookTokens(row: CandidateRow): string[] {
  const key = `${row.id}:${row.current_version}:${row.updated_at.getTime()}`;
  let tokens = tokenCache.get(key);
  if (!tokens) {
    // The title counts twice, as it names the problem the runbook covers.
    tokens = tokenize(`${row.title}\n${row.title}\n${row.body}`);
    if (tokenCache.size >= MAX_CACHED_TOKENS) tokenCache.clear();
    tokenCache.set(key, tokens);
  }
  return tokens;
}

// Tokens of incident texts. Tokenizing the 500 judged incidents took about
// 0.5 s on a 2-core machine, too long to repeat in every transaction that
// opens an incident, and resolved incidents' texts rarely change.
const MAX_CACHED_TEXTS = 5000;
const textTokenCache = new Map<string, string[]>();

function incidentTokens(text: string): string[] {
  let tokens = textTokenCache.get(text);
  if (!tokens) {
    tokens = tokenize(text);
    if (textTokenCache.size >= MAX_CACHED_TEXTS) textTokenCache.clear();
    textTokenCache.set(text, tokens);
  }
  return tokens;
}

/**
 * Ranks the runbooks for one incident without storing anything. `target`
 * overrides the service, metric, alert name, labels and severity read from
 * the incident. Returns an empty list for an unknown incident.
 */
export async function rankRunbooksForIncident(
  db: Queryable,
  incidentId: number,
  target?: MatchTarget,
): Promise<RankedSuggestion[]> {
  const stored = await loadIncidentProfile(db, incidentId);
  if (!stored) return [];
  const profile = target
    ? {
        ...stored,
        serviceSlug: target.serviceSlug,
        metricName: target.metricName,
        labels: target.labels,
        alertName: target.alertName ?? stored.alertName,
        severity: target.severity ?? stored.severity,
      }
    : stored;

  const { rows } = await db.query<CandidateRow>(
    `SELECT id, slug, current_version, updated_at, title, body, services,
            metric_pattern, labels, alert_names,
            severities::text[] AS severities, steps, automatic
       FROM runbook WHERE archived_at IS NULL ORDER BY id`,
  );
  const candidates: RankCandidate[] = rows.map((row) => {
    const content = contentFromRow(row);
    return {
      id: row.id,
      slug: row.slug,
      title: content.title,
      services: content.services,
      metricPattern: content.metricPattern,
      labels: content.labels,
      alertNames: content.alertNames,
      severities: content.severities,
      version: row.current_version,
    };
  });
  const index = buildSimilarityIndex(rows.map(runbookTokens));
  const tokens = tokenize(profile.text);

  const judged = await loadJudgedIncidents(db, incidentId);
  const history = countHistory(profile, judged, (_current, other) =>
    index.similarityBetween(tokens, incidentTokens(other)),
  );

  return rankSuggestions({
    candidates,
    profile,
    incidentTokens: tokens,
    index,
    history,
  });
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
 * Stores the best runbooks for an incident in incident_runbook, with the
 * suggested version and the score breakdown, and adds a
 * "runbooks_suggested" timeline event by `actor`, inside the caller's
 * transaction. Returns the stored suggestions, none when nothing fits.
 */
export async function suggestRunbooks(
  db: Queryable,
  incidentId: number,
  target: MatchTarget,
  actor: SuggestionActor = DETECTOR_ACTOR,
): Promise<RankedSuggestion[]> {
  const top = await rankRunbooksForIncident(db, incidentId, target);
  if (top.length === 0) return top;

  await db.query(
    `INSERT INTO incident_runbook
       (incident_id, runbook_id, score, reason, version, breakdown)
     SELECT $1, runbook_id, score, reason, version, breakdown
       FROM unnest($2::int[], $3::float8[], $4::text[], $5::int[], $6::jsonb[])
            AS m(runbook_id, score, reason, version, breakdown)
     ON CONFLICT (incident_id, runbook_id) DO NOTHING`,
    [
      incidentId,
      top.map((match) => match.runbookId),
      top.map((match) => match.score),
      top.map((match) => match.reason),
      top.map((match) => match.version),
      top.map((match) => JSON.stringify(match.breakdown)),
    ],
  );
  await addIncidentEvent(db, {
    incidentId,
    kind: "runbooks_suggested",
    ...actor,
    message: `Suggested runbooks: ${top.map((match) => match.title).join("; ")}`,
    data: {
      runbooks: top.map(({ runbookId, slug, version, score, reason, breakdown }) => ({
        runbookId,
        slug,
        version,
        score,
        reason,
        breakdown,
      })),
    },
  });
  return top;
}
