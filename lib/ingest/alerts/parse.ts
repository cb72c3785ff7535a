import { z } from "zod";

import { invalidField } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import type { Severity } from "@/lib/generated/prisma/enums";
import { labelSetFingerprint } from "@/lib/ingest/alerts/fingerprint";
import { text } from "@/lib/ingest/schemas";
import { parseRfc3339 } from "@/lib/ingest/timestamps";

// Parses Alertmanager (webhook version 4) and Grafana alerting webhook bodies
// into one list of alerts. Grafana's body is Alertmanager's with extra fields
// (values, valueString, silenceURL, title, message), so one schema serves
// both. Fields Vigil does not use are ignored, because both tools add fields
// in new versions. Each alert carries its own status: a group whose status
// is "firing" may contain resolved alerts.

export type AlertSource = "alertmanager" | "grafana";

export type ParsedAlert = {
  /** Position in the body's `alerts` array. */
  index: number;
  /** Path for error messages, such as "alerts[2]". */
  field: string;
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Epoch milliseconds, with finer fractions truncated. */
  startsAt: number;
  /** Epoch milliseconds, or null for Go's zero time ("not ended"). */
  endsAt: number | null;
  /** The body's fingerprint, or the one computed from the labels. */
  fingerprint: string;
  /** True when the body had no fingerprint, as older Alertmanagers send. */
  fingerprintComputed: boolean;
  generatorURL: string | null;
  /** Grafana only: the query values that fired the alert. */
  values: Record<string, number | null> | null;
  /** Grafana only: the same values as text, sent by Grafana 9. */
  valueString: string | null;
};

export type ParsedAlertDelivery = {
  source: AlertSource;
  receiver: string | null;
  groupKey: string | null;
  /** Alerts the sender left out because of its max_alerts setting. */
  truncatedAlerts: number;
  alerts: ParsedAlert[];
};

/** Maximum characters of one label value. */
export const MAX_ALERT_LABEL_VALUE_LENGTH = 4096;
/** Maximum characters of one annotation, which may hold Markdown. */
export const MAX_ANNOTATION_LENGTH = 65_536;
/** Maximum characters of an incident title built from an alert. */
export const MAX_ALERT_TITLE_LENGTH = 200;

/**
 * Go's zero time.Time, 0001-01-01T00:00:00Z, which Alertmanager and Grafana
 * send as the endsAt of an alert that has not ended.
 */
const GO_ZERO_TIME_MS = -62_135_596_800_000;

/**
 * Free text that is stored as it is, such as generatorURL and groupKey. The
 * maximum only bounds what one alert can add to the incident timeline.
 */
const storedText = text(0, MAX_ANNOTATION_LENGTH);

/**
 * Record whose keys are checked before the values. "__proto__" is rejected,
 * because building the parsed record would drop that key silently. Keys with
 * NUL or an unpaired surrogate are rejected, because the record is stored
 * in JSONB, which cannot hold either.
 */
function checkedRecord<T extends z.ZodType>(values: T) {
  return z
    .unknown()
    .superRefine((input, ctx) => {
      if (!input || typeof input !== "object") return;
      for (const key of Object.keys(input)) {
        if (key === "__proto__") {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "is not a valid name",
          });
          return;
        }
        const checked = storedText.safeParse(key);
        if (!checked.success) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `name ${checked.error.issues[0]!.message}`,
          });
          return;
        }
      }
    })
    .pipe(z.record(z.string(), values));
}

const alertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: checkedRecord(text(0, MAX_ALERT_LABEL_VALUE_LENGTH)),
  annotations: checkedRecord(text(0, MAX_ANNOTATION_LENGTH)).optional(),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: storedText.optional(),
  fingerprint: text(1, 128).optional(),
  values: checkedRecord(z.number().nullable()).nullable().optional(),
  valueString: storedText.optional(),
});

const deliverySchema = z.object({
  version: z.string().optional(),
  receiver: storedText.optional(),
  groupKey: storedText.optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  alerts: z.array(alertSchema),
});

type RawAlert = z.output<typeof alertSchema>;

/** Parses a timestamp, rejecting one later than maxMs unless maxMs is null. */
function parseTime(
  value: string,
  field: string,
  maxMs: number | null,
): number {
  const ms = parseRfc3339(value);
  if (ms === null) {
    throw invalidField(
      field,
      `${field} must be an RFC 3339 timestamp with a time zone, ` +
        `got ${JSON.stringify(value.slice(0, 60))}`,
    );
  }
  if (maxMs !== null && ms > maxMs) {
    throw invalidField(
      field,
      `${field} is ${value}, later than the latest accepted time ` +
        `${new Date(maxMs).toISOString()} (VIGIL_INGEST_MAX_FUTURE_MINUTES)`,
    );
  }
  return ms;
}

function toParsedAlert(
  raw: RawAlert,
  index: number,
  latestAcceptedMs: number,
): ParsedAlert {
  const field = `alerts[${index}]`;
  const startsAt = parseTime(raw.startsAt, `${field}.startsAt`, latestAcceptedMs);
  // A firing alert's endsAt is only the sender's estimate of when it will
  // time out, so it is parsed but neither limited nor used.
  const endsAtLimit = raw.status === "resolved" ? latestAcceptedMs : null;
  const endsAtRaw =
    raw.endsAt === undefined
      ? null
      : parseTime(raw.endsAt, `${field}.endsAt`, endsAtLimit);
  const endsAt = endsAtRaw === GO_ZERO_TIME_MS ? null : endsAtRaw;

  if (raw.status === "resolved") {
    if (endsAt === null) {
      throw invalidField(
        `${field}.endsAt`,
        `${field}.endsAt is required for a resolved alert and must not be ` +
          "the zero time 0001-01-01T00:00:00Z",
      );
    }
    if (endsAt < startsAt) {
      throw invalidField(
        `${field}.endsAt`,
        `${field}.endsAt (${raw.endsAt}) must not be before startsAt ` +
          `(${raw.startsAt})`,
      );
    }
  }

  return {
    index,
    field,
    status: raw.status,
    labels: raw.labels,
    annotations: raw.annotations ?? {},
    startsAt,
    endsAt,
    fingerprint: raw.fingerprint ?? labelSetFingerprint(raw.labels),
    fingerprintComputed: raw.fingerprint === undefined,
    generatorURL: raw.generatorURL || null,
    values: raw.values ?? null,
    valueString: raw.valueString || null,
  };
}

/**
 * Validates an Alertmanager or Grafana webhook body. Throws a 400 ApiError
 * naming the first invalid field, such as "alerts[1].startsAt". Timestamps
 * later than `latestAcceptedMs` are rejected. Old ones are accepted, because
 * an alert keeps its startsAt for as long as it fires.
 */
export function parseAlertDelivery(
  source: AlertSource,
  input: unknown,
  latestAcceptedMs: number,
): ParsedAlertDelivery {
  const body = parseInput(deliverySchema, input);
  // Only Alertmanager's version is checked, because version 4 is the only
  // Alertmanager body layout this parser supports. Grafana sends "1".
  if (source === "alertmanager" && body.version !== "4") {
    throw invalidField(
      "version",
      `version must be "4" (Alertmanager webhook version 4), ` +
        `got ${JSON.stringify(body.version ?? null)}`,
    );
  }
  return {
    source,
    receiver: body.receiver ?? null,
    groupKey: body.groupKey ?? null,
    truncatedAlerts: body.truncatedAlerts ?? 0,
    alerts: body.alerts.map((raw, index) =>
      toParsedAlert(raw, index, latestAcceptedMs),
    ),
  };
}

const SEVERITY_BY_LABEL: Record<string, Severity> = {
  critical: "sev1",
  error: "sev2",
  high: "sev2",
  page: "sev2",
  warning: "sev3",
  info: "sev4",
  low: "sev4",
};

/**
 * Maps the `severity` label, in any letter case, to an incident severity:
 * critical is sev1, error, high and page are sev2, warning is sev3, and info
 * and low are sev4. A missing or other value gives sev3.
 */
export function severityFromLabels(labels: Record<string, string>): Severity {
  const value = labels.severity?.trim().toLowerCase() ?? "";
  // hasOwn, because a value such as "constructor" names an Object.prototype
  // member, which is no severity.
  return Object.hasOwn(SEVERITY_BY_LABEL, value) ? SEVERITY_BY_LABEL[value]! : "sev3";
}

/**
 * Builds an incident title from the alertname label and the summary
 * annotation, such as "HighLatency: p99 above 2 s on checkout", cut to
 * MAX_ALERT_TITLE_LENGTH characters. Without alertname the fingerprint
 * names the alert.
 */
export function alertTitle(alert: ParsedAlert): string {
  const name = alert.labels.alertname?.trim() || `Alert ${alert.fingerprint}`;
  const summary = alert.annotations.summary?.trim();
  const title = summary ? `${name}: ${summary}` : name;
  if (title.length <= MAX_ALERT_TITLE_LENGTH) return title;
  return `${title.slice(0, MAX_ALERT_TITLE_LENGTH - 3)}...`;
}
