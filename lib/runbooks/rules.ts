import type { Severity } from "@/lib/generated/prisma/enums";

// Match rules of a runbook against an incident. A rule left empty matches
// anything, and every rule a runbook sets must match. More specific rules
// earn more points, so a runbook written for one service and metric
// outranks a generic one:
//   service listed           4
//   exact metric name        3
//   metric glob              2 plus up to 0.99 for its literal characters
//   exact alert name         3
//   alert name glob          2 plus up to 0.99 for its literal characters
//   each label pair          1
//   severity listed          1
//   no rules at all          0.1 (generic fallback)

export type RunbookRules = {
  id: number;
  slug: string;
  title: string;
  /** Service slugs; empty means any service. */
  services: readonly string[];
  /** Glob on the metric name (`*` any run, `?` one character); null is any. */
  metricPattern: string | null;
  /** Label pairs the series or alert must carry; empty means any labels. */
  labels: Record<string, string>;
  /** Globs on the alert name; empty or missing means any. */
  alertNames?: readonly string[];
  /** Incident severities; empty or missing means any. */
  severities?: readonly Severity[];
};

export type MatchTarget = {
  serviceSlug: string;
  /** Metric of a detector incident; null for an alert incident. */
  metricName: string | null;
  labels: Record<string, unknown>;
  /** Alert name (the alertname label) of an alert incident. */
  alertName?: string | null;
  severity?: Severity | null;
};

export type RunbookMatch = {
  runbookId: number;
  slug: string;
  title: string;
  score: number;
  /** The matched rules joined by ", ". */
  reason: string;
  /** One entry per matched rule, such as "service checkout". */
  matchedRules: string[];
};

export const GENERIC_SCORE = 0.1;
export const GENERIC_REASON = "generic runbook for any service and metric";

/**
 * Tests whether `name` matches a glob with `*` (any run) and `?` (one
 * character) as a whole. It backtracks only to the last `*`, so the time is
 * at most the product of the two lengths. A regular expression built from
 * the glob can take exponential time on patterns such as `*a*a*a*b`.
 */
export function globMatches(glob: string, name: string): boolean {
  const pattern = Array.from(glob);
  const text = Array.from(name);
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || (pattern[p] !== "*" && pattern[p] === text[t]))) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p;
      resume = t;
      p += 1;
    } else if (star >= 0) {
      p = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p += 1;
  return p === pattern.length;
}

function globPoints(pattern: string): number {
  const literal = pattern.replace(/[*?]/g, "").length;
  if (literal === pattern.length) return 3;
  return 2 + Math.min(literal, 99) / 100;
}

/** Returns the best-scoring glob of `patterns` that matches `name`, or null. */
function bestGlob(patterns: readonly string[], name: string): string | null {
  let best: string | null = null;
  for (const pattern of patterns) {
    if (!globMatches(pattern, name)) continue;
    if (best === null || globPoints(pattern) > globPoints(best)) best = pattern;
  }
  return best;
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
    const metric = target.metricName;
    if (metric === null || !globMatches(runbook.metricPattern, metric)) {
      return null;
    }
    score += globPoints(runbook.metricPattern);
    reasons.push(
      runbook.metricPattern === metric
        ? `metric ${metric}`
        : `metric matches ${runbook.metricPattern}`,
    );
  }

  const alertNames = runbook.alertNames ?? [];
  if (alertNames.length > 0) {
    const alert = target.alertName ?? null;
    const pattern = alert === null ? null : bestGlob(alertNames, alert);
    if (pattern === null) return null;
    score += globPoints(pattern);
    reasons.push(
      pattern === alert ? `alert ${alert}` : `alert matches ${pattern}`,
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

  const severities = runbook.severities ?? [];
  if (severities.length > 0) {
    const severity = target.severity ?? null;
    if (severity === null || !severities.includes(severity)) return null;
    score += 1;
    reasons.push(`severity ${severity}`);
  }

  if (reasons.length === 0) {
    score = GENERIC_SCORE;
    reasons.push(GENERIC_REASON);
  }
  return {
    runbookId: runbook.id,
    slug: runbook.slug,
    title: runbook.title,
    score,
    reason: reasons.join(", "),
    matchedRules: reasons,
  };
}

/** Returns the runbooks whose rules all match, best first; ties go by slug. */
export function rankRunbooks(
  runbooks: readonly RunbookRules[],
  target: MatchTarget,
): RunbookMatch[] {
  return runbooks
    .map((runbook) => matchRunbook(runbook, target))
    .filter((match): match is RunbookMatch => match !== null)
    .sort((a, b) => b.score - a.score || a.slug.localeCompare(b.slug));
}
