import { z } from "zod";

import type { Severity } from "@/lib/generated/prisma/enums";
import { runbookStepsSchema, type RunbookStep } from "@/lib/runbooks/steps";
import { checkStoredJson, checkStoredText } from "@/lib/runbooks/text";

// The content of a runbook, as a library file's front matter and body or an
// admin API request give it. Every runbook version stores one such content,
// and two contents are the same version when contentKey() is equal.

export const RUNBOOK_SEVERITIES = ["sev1", "sev2", "sev3", "sev4"] as const;

export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_SLUG_LENGTH = 100;
export const MAX_TITLE_LENGTH = 200;
export const MAX_BODY_LENGTH = 100_000;
const MAX_RULE_ITEMS = 50;
const MAX_PATTERN_LENGTH = 200;

export const slugSchema = z
  .string()
  .max(MAX_SLUG_LENGTH)
  .regex(SLUG_PATTERN, { message: "must be lower-case words joined by -" });

const globSchema = z.string().trim().min(1).max(MAX_PATTERN_LENGTH).superRefine(checkStoredText);

/** Title, rules, steps and the automatic flag, without the Markdown body. */
export const runbookFieldsSchema = z.object({
  title: z.string().trim().min(1).max(MAX_TITLE_LENGTH).superRefine(checkStoredText),
  services: z
    .array(slugSchema.max(63, { message: "must be a service slug" }))
    .max(MAX_RULE_ITEMS)
    .default([]),
  metricPattern: globSchema.nullable().default(null),
  labels: z
    .record(z.string().min(1).max(100), z.string().max(200))
    .superRefine((labels, context) => checkStoredJson(labels, context))
    .default({}),
  alertNames: z.array(globSchema).max(MAX_RULE_ITEMS).default([]),
  severities: z.array(z.enum(RUNBOOK_SEVERITIES)).max(4).default([]),
  steps: runbookStepsSchema.default([]),
  automatic: z.boolean().default(false),
});

export const runbookBodySchema = z
  .string()
  .trim()
  .min(1, { message: "is empty" })
  .max(MAX_BODY_LENGTH)
  .superRefine(checkStoredText);

export type RunbookContent = {
  title: string;
  /** Markdown. */
  body: string;
  /** Service slugs; empty means any service. */
  services: string[];
  /** Glob on the metric name (`*` any run, `?` one character); null is any. */
  metricPattern: string | null;
  /** Label pairs the series or alert must carry; empty means any labels. */
  labels: Record<string, string>;
  /** Globs on the alert name; empty means any alert and detector incidents. */
  alertNames: string[];
  /** Incident severities; empty means any severity. */
  severities: Severity[];
  steps: RunbookStep[];
  /** Whether the worker runs the steps by itself on matching incidents. */
  automatic: boolean;
};

/** Placeholder for a step header value that the reader may not see. */
export const HIDDEN_HEADER_VALUE = "(hidden)";

/**
 * Returns the content with every step header value replaced by
 * HIDDEN_HEADER_VALUE and the header names kept. Header values often carry
 * credentials such as Authorization: Bearer, so only admins, who edit
 * runbooks, see them. Step bodies stay visible.
 */
export function hideStepHeaderValues(content: RunbookContent): RunbookContent {
  return {
    ...content,
    steps: content.steps.map((step) =>
      step.headers === undefined
        ? step
        : {
            ...step,
            headers: Object.fromEntries(
              Object.keys(step.headers).map((name) => [name, HIDDEN_HEADER_VALUE]),
            ),
          },
    ),
  };
}

/** Returns the content in a canonical form: sorted rule lists and labels. */
export function normalizeContent(content: RunbookContent): RunbookContent {
  const labels: Record<string, string> = {};
  for (const key of Object.keys(content.labels).sort()) {
    labels[key] = content.labels[key]!;
  }
  return {
    title: content.title.trim(),
    body: content.body.trim(),
    services: [...new Set(content.services)].sort(),
    metricPattern: content.metricPattern,
    labels,
    alertNames: [...new Set(content.alertNames)].sort(),
    severities: [...new Set(content.severities)].sort(),
    steps: content.steps,
    automatic: content.automatic,
  };
}

/** Serializes a step with sorted object keys, so key order never counts. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map(
        (key) =>
          `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Returns a string that is equal for two contents exactly when they are the same. */
export function contentKey(content: RunbookContent): string {
  return canonicalJson(normalizeContent(content));
}

/** Row columns of runbook and runbook_version that hold a content. */
export type ContentRow = {
  title: string;
  body: string;
  services: string[] | null;
  metric_pattern: string | null;
  labels: Record<string, unknown> | null;
  alert_names: string[] | null;
  severities: Severity[] | string | null;
  steps: unknown;
  automatic: boolean;
};

/**
 * Parses a PostgreSQL array literal such as {sev1,sev2}. node-postgres
 * returns arrays of enum types as that text, because it knows no parser
 * for the enum's array type.
 */
function parseEnumArray(value: Severity[] | string | null): Severity[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, "");
  return inner === "" ? [] : (inner.split(",") as Severity[]);
}

/** Reads the content columns of a runbook or runbook_version row. */
export function contentFromRow(row: ContentRow): RunbookContent {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(row.labels ?? {})) {
    labels[key] = String(value);
  }
  return {
    title: row.title,
    body: row.body,
    services: row.services ?? [],
    metricPattern: row.metric_pattern,
    labels,
    alertNames: row.alert_names ?? [],
    severities: parseEnumArray(row.severities),
    steps: Array.isArray(row.steps) ? (row.steps as RunbookStep[]) : [],
    automatic: row.automatic,
  };
}
