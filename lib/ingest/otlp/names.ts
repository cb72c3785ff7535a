// Turns OpenTelemetry metric and attribute names into Prometheus names, which
// is what Vigil stores. OpenTelemetry names may contain dots, dashes, slashes
// and any other Unicode character. Prometheus allows [a-zA-Z_:][a-zA-Z0-9_:]*
// in metric names and [a-zA-Z_][a-zA-Z0-9_]* in label names.
//
// Each character outside those sets becomes "_", one for one (a UTF-16
// surrogate pair counts as one character), so "http.server.duration" becomes
// "http_server_duration" and "a..b" becomes "a__b". Unlike the Prometheus
// OTLP translator, Vigil appends no unit suffix such as "_seconds".

const INVALID_METRIC_CHARACTERS = /[^a-zA-Z0-9_:]/gu;
const INVALID_LABEL_CHARACTERS = /[^a-zA-Z0-9_]/gu;
const STARTS_WITH_DIGIT = /^[0-9]/;

/**
 * Returns the Prometheus form of an OpenTelemetry metric name: invalid
 * characters become "_", and a leading digit gets a "_" in front. Returns ""
 * for an empty name, which the caller rejects.
 */
export function prometheusMetricName(name: string): string {
  const replaced = name.replace(INVALID_METRIC_CHARACTERS, "_");
  return STARTS_WITH_DIGIT.test(replaced) ? `_${replaced}` : replaced;
}

/**
 * Returns the label name for an attribute key. Invalid characters become
 * "_", and a leading digit gets "key_" in front, as the Prometheus OTLP
 * translator does. A name starting with "__", which Prometheus reserves,
 * gets "key" in front ("__meta" becomes "key__meta"). Returns "" for an
 * empty key, which the caller rejects.
 */
export function prometheusLabelName(key: string): string {
  const replaced = key.replace(INVALID_LABEL_CHARACTERS, "_");
  if (STARTS_WITH_DIGIT.test(replaced)) return `key_${replaced}`;
  if (replaced.startsWith("__")) return `key${replaced}`;
  return replaced;
}

/** Suffix of a monotonic cumulative sum, as Prometheus names counters. */
export const COUNTER_SUFFIX = "_total";

/** Appends "_total" unless the name ends with it already. */
export function counterName(name: string): string {
  return name.endsWith(COUNTER_SUFFIX) ? name : `${name}${COUNTER_SUFFIX}`;
}
