import type { IncidentProfile, JudgedIncident } from "@/lib/runbooks/incident-profile";
import { matchRunbook, type RunbookRules } from "@/lib/runbooks/rules";
import type { SimilarityIndex } from "@/lib/runbooks/similarity";

// Ranking of runbook suggestions. Each runbook's score is the sum of three
// parts, all kept in its breakdown:
//   rules       points of the matched rules (lib/runbooks/rules.ts), 0 when
//               a rule fails
//   similarity  4 x the BM25 cosine similarity (0 to 1) of the incident's
//               text and the runbook's title and body
//   history     4 x (helpful - unhelpful) / (helpful + unhelpful + 1), from
//               the marks on resolved incidents similar to this one.
// A runbook is a candidate when its rules match, when its similarity is at
// least 0.4, or when similar incidents marked it helpful more often than
// not. The best five with a positive score are suggested.
// NOTE: the weights and thresholds are picked by hand so that one rule or
// one net helpful mark counts about as much as a close text; they are not
// fit to data.

export const MAX_SUGGESTED_RUNBOOKS = 5;
export const SIMILARITY_WEIGHT = 4;
export const MIN_SIMILARITY_WITHOUT_RULES = 0.4;
export const HISTORY_WEIGHT = 4;
/** Text similarity from which a resolved incident counts as similar. */
export const MIN_INCIDENT_SIMILARITY = 0.5;

export type RankCandidate = RunbookRules & {
  /** Current version number; null for a runbook stored without versions. */
  version: number | null;
};

export type SuggestionBreakdown = {
  rules: { points: number; matched: string[]; allMatched: boolean };
  similarity: { value: number; points: number };
  history: {
    helpful: number;
    unhelpful: number;
    /** Similar resolved incidents with marks on this runbook. */
    incidents: number;
    points: number;
  };
  total: number;
};

export type RankedSuggestion = {
  runbookId: number;
  slug: string;
  title: string;
  version: number | null;
  score: number;
  reason: string;
  breakdown: SuggestionBreakdown;
};

export type HistoryCounts = {
  helpful: number;
  unhelpful: number;
  incidents: Set<number>;
};

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Returns the history points of a runbook's helpful and unhelpful marks. */
export function historyPoints(helpful: number, unhelpful: number): number {
  return (HISTORY_WEIGHT * (helpful - unhelpful)) / (helpful + unhelpful + 1);
}

/**
 * Returns how a resolved incident relates to the new one: "same" when it
 * has the same service and the same metric or alert name, "text" when
 * their texts are similar enough, or null when it does not count.
 */
export function relateIncidents(
  current: IncidentProfile,
  past: IncidentProfile,
  textSimilarity: () => number,
): "same" | "text" | null {
  if (current.serviceSlug === past.serviceSlug) {
    if (current.metricName !== null && current.metricName === past.metricName) {
      return "same";
    }
    if (current.alertName !== null && current.alertName === past.alertName) {
      return "same";
    }
  }
  return textSimilarity() >= MIN_INCIDENT_SIMILARITY ? "text" : null;
}

/**
 * Counts helpful and unhelpful marks per runbook over the judged incidents
 * that are similar to `current`. `similarity` compares two texts.
 */
export function countHistory(
  current: IncidentProfile,
  judged: readonly JudgedIncident[],
  similarity: (a: string, b: string) => number,
): Map<number, HistoryCounts> {
  const counts = new Map<number, HistoryCounts>();
  for (const incident of judged) {
    const relation = relateIncidents(current, incident.profile, () =>
      similarity(current.text, incident.profile.text),
    );
    if (relation === null) continue;
    for (const mark of incident.marks) {
      const entry = counts.get(mark.runbookId) ?? {
        helpful: 0,
        unhelpful: 0,
        incidents: new Set<number>(),
      };
      if (mark.helpful) entry.helpful += 1;
      else entry.unhelpful += 1;
      entry.incidents.add(incident.profile.incidentId);
      counts.set(mark.runbookId, entry);
    }
  }
  return counts;
}

function describeReason(breakdown: SuggestionBreakdown, rulesReason: string): string {
  if (breakdown.rules.allMatched) return rulesReason;
  const parts: string[] = [];
  if (breakdown.similarity.value > 0) {
    parts.push(`text similarity ${breakdown.similarity.value.toFixed(2)}`);
  }
  if (breakdown.history.helpful > 0) {
    const count = breakdown.history.incidents;
    parts.push(`helpful on ${count} similar incident${count === 1 ? "" : "s"}`);
  }
  return parts.join(", ");
}

/**
 * Ranks candidates for an incident. Document i of `index` is the text of
 * candidate i, and `incidentTokens` are the incident's tokens.
 */
export function rankSuggestions(input: {
  candidates: readonly RankCandidate[];
  profile: IncidentProfile;
  incidentTokens: string[];
  index: SimilarityIndex;
  history: Map<number, HistoryCounts>;
  limit?: number;
}): RankedSuggestion[] {
  const { candidates, profile, incidentTokens, index, history } = input;
  const target = {
    serviceSlug: profile.serviceSlug,
    metricName: profile.metricName,
    labels: profile.labels,
    alertName: profile.alertName,
    severity: profile.severity,
  };
  const ranked: RankedSuggestion[] = [];

  candidates.forEach((candidate, position) => {
    const match = matchRunbook(candidate, target);
    const similarity = round(index.similarityTo(incidentTokens, position));
    const counts = history.get(candidate.id);
    const helpful = counts?.helpful ?? 0;
    const unhelpful = counts?.unhelpful ?? 0;

    const eligible =
      match !== null ||
      similarity >= MIN_SIMILARITY_WITHOUT_RULES ||
      helpful > unhelpful;
    if (!eligible) return;

    const breakdown: SuggestionBreakdown = {
      rules: {
        points: round(match?.score ?? 0),
        matched: match?.matchedRules ?? [],
        allMatched: match !== null,
      },
      similarity: { value: similarity, points: round(SIMILARITY_WEIGHT * similarity) },
      history: {
        helpful,
        unhelpful,
        incidents: counts?.incidents.size ?? 0,
        points: round(historyPoints(helpful, unhelpful)),
      },
      total: 0,
    };
    breakdown.total = round(
      breakdown.rules.points + breakdown.similarity.points + breakdown.history.points,
    );
    if (breakdown.total <= 0) return;

    ranked.push({
      runbookId: candidate.id,
      slug: candidate.slug,
      title: candidate.title,
      version: candidate.version,
      score: breakdown.total,
      reason: describeReason(breakdown, match?.reason ?? ""),
      breakdown,
    });
  });

  ranked.sort((a, b) => b.score - a.score || a.slug.localeCompare(b.slug));
  return ranked.slice(0, input.limit ?? MAX_SUGGESTED_RUNBOOKS);
}
