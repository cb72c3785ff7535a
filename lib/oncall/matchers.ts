import { RE2JS } from "re2js";
import { z } from "zod";

import { logger } from "@/lib/logger";

// Label matchers of silences, with Alertmanager's operators and regular
// expression semantics. Patterns run on RE2 (the re2js port), whose
// matching time is linear in the input, so that a pattern such as (a+)+$
// cannot stall the process the way a backtracking engine (JavaScript's
// RegExp) does on "aaaa…!".

export const LABEL_MATCHER_OPERATORS = ["=", "!=", "=~", "!~"] as const;

/** Maximum length of a regular expression in a matcher created through the API. */
export const MAX_MATCHER_PATTERN_LENGTH = 256;

/** Maximum number of compiled patterns kept in memory. */
const MAX_CACHED_PATTERNS = 500;

/**
 * Compiled patterns by source. A null entry marks a stored pattern that RE2
 * rejects, so that its warning is logged once per process.
 */
const compiledPatterns = new Map<string, RE2JS | null>();

/**
 * Compiles a pattern anchored at both ends, as Alertmanager does with
 * "^(?:" + value + ")$". Throws RE2's syntax error for an invalid pattern.
 */
function compileAnchored(pattern: string): RE2JS {
  // The bare pattern is compiled first, because a value such as "a)|(b"
  // is invalid alone but would pass once wrapped in the anchoring group.
  RE2JS.compile(pattern);
  return RE2JS.compile(`^(?:${pattern})$`);
}

/**
 * Returns null when `pattern` is a valid matcher regular expression, else
 * the problem as a predicate for the field's error message, such as
 * "is not a valid RE2 regular expression: error parsing regexp: missing closing ): `(a`".
 */
export function validateMatcherPattern(pattern: string): string | null {
  if (pattern.length > MAX_MATCHER_PATTERN_LENGTH) {
    return `must be at most ${MAX_MATCHER_PATTERN_LENGTH} characters for a regular expression, got ${pattern.length}`;
  }
  try {
    compileAnchored(pattern);
  } catch (error) {
    return `is not a valid RE2 regular expression: ${(error as Error).message}`;
  }
  return null;
}

/** One label matcher of a silence, with Alertmanager's operators. */
export const labelMatcherSchema = z
  .object({
    name: z
      .string()
      .trim()
      .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "must be a label name such as alertname")
      .max(100),
    operator: z.enum(LABEL_MATCHER_OPERATORS).default("="),
    value: z.string().max(500),
  })
  .superRefine((matcher, context) => {
    if (matcher.operator !== "=~" && matcher.operator !== "!~") return;
    const problem = validateMatcherPattern(matcher.value);
    if (problem !== null) {
      context.addIssue({ code: "custom", path: ["value"], message: problem });
    }
  });

export type LabelMatcher = z.output<typeof labelMatcherSchema>;

/**
 * Returns the compiled, anchored pattern, or null when RE2 rejects it. Such
 * a pattern can only come from a silence stored before patterns were
 * checked with RE2 (for example a lookahead that JavaScript accepts).
 */
function compiledPattern(pattern: string): RE2JS | null {
  const cached = compiledPatterns.get(pattern);
  if (cached !== undefined) return cached;

  let compiled: RE2JS | null = null;
  try {
    compiled = compileAnchored(pattern);
  } catch (error) {
    logger.warn(
      { pattern, err: error },
      "invalid RE2 pattern in a stored silence matcher, so that silence matches nothing until it is ended and created again",
    );
  }
  if (compiledPatterns.size >= MAX_CACHED_PATTERNS) {
    // Maps iterate in insertion order, so this drops the oldest entry.
    compiledPatterns.delete(compiledPatterns.keys().next().value!);
  }
  compiledPatterns.set(pattern, compiled);
  return compiled;
}

/**
 * Returns whether a label set matches one matcher. A missing label counts as
 * the empty string and a regular expression must match the whole value, as
 * in Alertmanager. A matcher whose stored pattern RE2 rejects matches
 * nothing with either regex operator, so that a broken silence lets
 * notifications through instead of muting them.
 */
export function matchesLabel(
  matcher: LabelMatcher,
  labels: Record<string, string>,
): boolean {
  const value = labels[matcher.name] ?? "";
  switch (matcher.operator) {
    case "=":
      return value === matcher.value;
    case "!=":
      return value !== matcher.value;
    case "=~":
    case "!~": {
      const pattern = compiledPattern(matcher.value);
      if (pattern === null) return false;
      return pattern.test(value) === (matcher.operator === "=~");
    }
  }
}

/**
 * Returns whether a silence with these matchers applies. A silence without
 * matchers applies to every incident of its service. One with matchers
 * applies only when labels are given and match every matcher, so that a
 * detector incident without alert labels is not muted by an alert silence.
 */
export function silenceMatches(
  matchers: LabelMatcher[],
  labels: Record<string, string> | undefined,
): boolean {
  if (matchers.length === 0) return true;
  if (labels === undefined) return false;
  return matchers.every((matcher) => matchesLabel(matcher, labels));
}
