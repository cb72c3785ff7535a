import { z } from "zod";

import { describeValue } from "@/lib/api/validation";
import {
  checkTimestamp,
  type TimestampLimits,
} from "@/lib/ingest/timestamps";

// Field rules shared by the ingest endpoints. Messages are predicates that
// follow the field path in the error, such as "service must be ...".

export const SERVICE_SLUG_PATTERN = /^[a-z0-9-]{1,63}$/;
/** Prometheus metric name rule. */
export const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Prometheus label name rule. */
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const MAX_METRIC_NAME_LENGTH = 200;
export const MAX_LABEL_NAME_LENGTH = 100;
export const MAX_LABEL_VALUE_LENGTH = 1024;
export const MAX_LABELS = 32;
/**
 * Largest canonical label JSON of one series. It is part of the unique
 * index on (service_id, name, labels_key), and a PostgreSQL btree entry must
 * stay under 2704 bytes (8 kB pages), name and service id included.
 */
export const MAX_LABELS_KEY_BYTES = 2048;

/** PostgreSQL text cannot contain NUL, so strings with it are rejected early. */
const NO_NUL = (text: string) => !text.includes("\u0000");

/**
 * A UTF-16 surrogate without its pair: JSON escapes can produce one, but it
 * has no UTF-8 encoding, so PostgreSQL rejects it or stores U+FFFD.
 */
const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Returns a schema for a string of min..max characters of valid Unicode. */
export function text(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine(NO_NUL, { message: "must not contain NUL characters" })
    .refine((value) => !LONE_SURROGATE.test(value), {
      message: "must not contain unpaired UTF-16 surrogates (invalid Unicode)",
    });
}

export const serviceSlugSchema = z.string().refine(
  (slug) => SERVICE_SLUG_PATTERN.test(slug),
  {
    error: (issue) =>
      "must be 1 to 63 characters of lowercase a-z, 0-9 and '-', " +
      `got ${describeValue(issue.input)}`,
  },
);

export const metricNameSchema = z.string().refine(
  (name) =>
    name.length <= MAX_METRIC_NAME_LENGTH && METRIC_NAME_PATTERN.test(name),
  {
    error: (issue) =>
      "must be a Prometheus metric name matching [a-zA-Z_:][a-zA-Z0-9_:]* " +
      `of at most ${MAX_METRIC_NAME_LENGTH} characters, ` +
      `got ${describeValue(issue.input)}`,
  },
);

/** Label names starting with "__" are reserved, as in Prometheus. */
const RESERVED_LABEL_PREFIX = "__";

/**
 * Label set: names follow the Prometheus rule, values are strings of at
 * most 1024 characters, and a series has at most 32 labels, within
 * MAX_LABELS_KEY_BYTES in all (checked by the metrics parser). The raw object
 * is checked for "__proto__" first, because building the parsed record
 * would drop that key silently.
 */
export const labelsSchema = z
  .unknown()
  .superRefine((input, ctx) => {
    if (input && typeof input === "object" && Object.hasOwn(input, "__proto__")) {
      ctx.addIssue({
        code: "custom",
        path: ["__proto__"],
        message: "is not a valid label name: names starting with __ are reserved",
      });
    }
  })
  .pipe(z.record(z.string(), text(0, MAX_LABEL_VALUE_LENGTH)))
  .superRefine((labels, ctx) => {
    const names = Object.keys(labels);
    if (names.length > MAX_LABELS) {
      ctx.addIssue({
        code: "custom",
        message: `must contain at most ${MAX_LABELS} labels, got ${names.length}`,
      });
    }
    for (const name of names) {
      const valid =
        name.length <= MAX_LABEL_NAME_LENGTH &&
        LABEL_NAME_PATTERN.test(name) &&
        !name.startsWith(RESERVED_LABEL_PREFIX);
      if (!valid) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message:
            "is not a valid label name: label names must match " +
            `[a-zA-Z_][a-zA-Z0-9_]*, not start with __ and have at most ` +
            `${MAX_LABEL_NAME_LENGTH} characters`,
        });
      }
    }
  });

/** Timestamp in either accepted format, output as epoch milliseconds. */
export function timestampSchema(limits: TimestampLimits) {
  return z.unknown().transform((input, ctx) => {
    const result = checkTimestamp(input, limits);
    if (result.ok) return result.ms;
    ctx.addIssue({ code: "custom", message: result.message, input });
    return z.NEVER;
  });
}

/** Canonical JSON of a label set: keys sorted, so equal sets give one key. */
export function canonicalLabelsKey(labels: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) sorted[name] = labels[name]!;
  return JSON.stringify(sorted);
}
