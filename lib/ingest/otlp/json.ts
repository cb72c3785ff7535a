import { parseJsonText } from "@/lib/api/body";
import { ApiError, invalidField } from "@/lib/api/errors";
import { describeValue } from "@/lib/api/validation";
import {
  arrayFragment,
  doubleFragment,
  formatDouble,
  keyValueListFragment,
  stringFragment,
} from "@/lib/ingest/otlp/any-value";
import type {
  OtlpAttribute,
  OtlpHistogramDataPoint,
  OtlpMetric,
  OtlpMetricsRequest,
  OtlpNumberDataPoint,
  OtlpResourceMetrics,
  OtlpScopeMetrics,
  OtlpSummaryDataPoint,
  OtlpValueAtQuantile,
} from "@/lib/ingest/otlp/model";

// Decodes an ExportMetricsServiceRequest in the OTLP/JSON encoding: the
// protobuf JSON mapping with lowerCamelCase field names, 64-bit integers as
// decimal strings or numbers, enums as integers or names, and bytes in
// base64. Errors are 400s that name the field, such as
// resourceMetrics[0].scopeMetrics[0].metrics[2].sum.dataPoints[0].flags.
//
// As the protobuf JSON mapping specifies, null and a missing field both mean
// the field's default value, and unknown fields are ignored. The exception is
// a snake_case spelling of a known field (time_unix_nano), which is rejected.
// OTLP/JSON does not allow the protobuf field names, and ignoring them would
// drop the data without a word.

type JsonObject = Record<string, unknown>;

/**
 * Bare JSON integers of 16 or more digits, which JSON.parse would round to
 * the nearest double, and JSON strings, which are matched only to be skipped.
 * The lookbehind and lookahead keep the pattern off digits inside a decimal
 * or exponent, such as 0.1234567890123456789 or 1e1234567890123456.
 */
const LARGE_INTEGER_OR_STRING =
  /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\w.+-])-?\d{16,}(?![\w.])/g;
/**
 * A cheap test for a bare integer of 16 or more digits: one follows a colon,
 * a bracket or a comma. A string can contain this pattern too, which only
 * costs the slower path. The OpenTelemetry JavaScript exporters (0.223) write
 * times as strings, so their requests skip the rewrite.
 */
const LARGE_INTEGER_CANDIDATE = /[:[,]\s*-?\d{16}/;

/**
 * Parses JSON text, keeping every digit of large integers: bare integers of
 * 16 or more digits become strings before JSON.parse, and the int64 readers
 * below accept both forms. A syntax error is reported with its position in
 * the text as received.
 */
export function parseOtlpJsonText(text: string): unknown {
  const quoted = LARGE_INTEGER_CANDIDATE.test(text)
    ? text.replace(LARGE_INTEGER_OR_STRING, (match) =>
        match.startsWith('"') ? match : `"${match}"`,
      )
    : text;
  try {
    return JSON.parse(quoted);
  } catch (error) {
    // Throws the 400 with the position in the original text.
    parseJsonText(text);
    throw error;
  }
}

/** Multi-word field names of the messages that Vigil reads, in camelCase. */
const CAMEL_CASE_FIELDS = new Set([
  "resourceMetrics",
  "scopeMetrics",
  "schemaUrl",
  "droppedAttributesCount",
  "entityRefs",
  "exponentialHistogram",
  "dataPoints",
  "aggregationTemporality",
  "isMonotonic",
  "startTimeUnixNano",
  "timeUnixNano",
  "asDouble",
  "asInt",
  "bucketCounts",
  "explicitBounds",
  "quantileValues",
  "stringValue",
  "boolValue",
  "intValue",
  "doubleValue",
  "arrayValue",
  "kvlistValue",
  "bytesValue",
  "zeroCount",
  "zeroThreshold",
]);

/** Deepest nesting of arrayValue and kvlistValue that an attribute may use. */
const MAX_ANY_VALUE_DEPTH = 32;

function fail(path: string, message: string): never {
  throw invalidField(path, `${path} ${message}`);
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) =>
    letter.toUpperCase(),
  );
}

/** Returns the object at `path`, rejecting snake_case field names in it. */
function readObject(value: unknown, path: string): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(path, `must be an object, got ${describeValue(value)}`);
  }
  const object = value as JsonObject;
  for (const key in object) {
    if (!key.includes("_")) continue;
    const camel = camelCase(key);
    if (CAMEL_CASE_FIELDS.has(camel)) {
      fail(
        path === "" ? key : `${path}.${key}`,
        "is a protobuf field name, which OTLP/JSON does not accept: " +
          `send the lowerCamelCase name ${camel}`,
      );
    }
  }
  return object;
}

/** Returns the array at `path`, or an empty one for null or a missing field. */
function readArray(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    fail(path, `must be an array, got ${describeValue(value)}`);
  }
  return value;
}

function readString(value: unknown, path: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") {
    fail(path, `must be a string, got ${describeValue(value)}`);
  }
  return value;
}

function readBool(value: unknown, path: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") {
    fail(path, `must be true or false, got ${describeValue(value)}`);
  }
  return value;
}

const UNSIGNED_DIGITS = /^\d{1,20}$/;
const SIGNED_DIGITS = /^-?\d{1,19}$/;
const MAX_UINT64 = 18446744073709551615n;
const MIN_INT64 = -9223372036854775808n;
const MAX_INT64 = 9223372036854775807n;
const UINT64_HELP =
  "must be an unsigned 64-bit integer, as a decimal string or a number";
const INT64_HELP =
  "must be a signed 64-bit integer, as a decimal string or a number";

/**
 * Returns the decimal digits of a uint64 field, without a sign, or null for
 * a missing field. Strings above 2^53 keep every digit.
 */
function readUint64Digits(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    if (!UNSIGNED_DIGITS.test(value) || BigInt(value) > MAX_UINT64) {
      fail(path, `${UINT64_HELP}, got ${describeValue(value)}`);
    }
    return value;
  }
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    if (Number.isSafeInteger(value)) return String(value);
    // A number this large lost digits in the sender's JSON encoder already.
    const exact = BigInt(value);
    if (exact <= MAX_UINT64) return exact.toString();
  }
  fail(path, `${UINT64_HELP}, got ${describeValue(value)}`);
}

/** Returns a uint64 field as a double (exact up to 2^53), 0 when missing. */
function readUint64(value: unknown, path: string): number {
  const digits = readUint64Digits(value, path);
  return digits === null ? 0 : Number(digits);
}

/**
 * Returns a fixed64 time in nanoseconds as epoch milliseconds, truncated,
 * 0 when missing. Dropping the last six decimal digits divides exactly,
 * which a double cannot do above 2^53 nanoseconds (April 1970).
 */
function readUnixNanoAsMs(value: unknown, path: string): number {
  const digits = readUint64Digits(value, path);
  if (digits === null || digits.length <= 6) return 0;
  return Number(digits.slice(0, -6));
}

/** Returns the decimal digits of an int64 field, or null when missing. */
function readInt64Digits(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    if (SIGNED_DIGITS.test(value)) {
      const exact = BigInt(value);
      if (exact >= MIN_INT64 && exact <= MAX_INT64) return exact.toString();
    }
    fail(path, `${INT64_HELP}, got ${describeValue(value)}`);
  }
  if (typeof value === "number" && Number.isInteger(value)) {
    if (Number.isSafeInteger(value)) return String(value);
    const exact = BigInt(value);
    if (exact >= MIN_INT64 && exact <= MAX_INT64) return exact.toString();
  }
  fail(path, `${INT64_HELP}, got ${describeValue(value)}`);
}

function readUint32(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0;
  const number =
    typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (
    typeof number !== "number" ||
    !Number.isInteger(number) ||
    number < 0 ||
    number > 0xffffffff
  ) {
    fail(
      path,
      `must be an unsigned 32-bit integer, got ${describeValue(value)}`,
    );
  }
  return number;
}

const NON_FINITE_DOUBLES: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};
const DECIMAL_NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Returns a double field, or undefined when missing. The protobuf JSON
 * mapping writes NaN and the infinities as the strings "NaN", "Infinity"
 * and "-Infinity", and allows any number as a string.
 */
function readOptionalDouble(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const special = NON_FINITE_DOUBLES[value];
    if (special !== undefined) return special;
    if (DECIMAL_NUMBER.test(value)) return Number(value);
  }
  fail(
    path,
    'must be a number, or "NaN", "Infinity" or "-Infinity", ' +
      `got ${describeValue(value)}`,
  );
}

function readDouble(value: unknown, path: string): number {
  return readOptionalDouble(value, path) ?? 0;
}

const TEMPORALITY_NAMES = [
  "AGGREGATION_TEMPORALITY_UNSPECIFIED",
  "AGGREGATION_TEMPORALITY_DELTA",
  "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

/**
 * Returns an AggregationTemporality, sent as an integer or as its name.
 * Values outside the enum are kept, so that the mapping can reject them with
 * the same message as protobuf ones.
 */
function readTemporality(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string") {
    const index = TEMPORALITY_NAMES.indexOf(value);
    if (index >= 0) return index;
  }
  fail(
    path,
    "must be AGGREGATION_TEMPORALITY_DELTA (1) or " +
      `AGGREGATION_TEMPORALITY_CUMULATIVE (2), got ${describeValue(value)}`,
  );
}

const ANY_VALUE_FIELDS = [
  "stringValue",
  "boolValue",
  "intValue",
  "doubleValue",
  "arrayValue",
  "kvlistValue",
  "bytesValue",
] as const;
type AnyValueField = (typeof ANY_VALUE_FIELDS)[number];

/** Returns which member of the AnyValue oneof is set, or null for none. */
function anyValueField(object: JsonObject, path: string): AnyValueField | null {
  let found: AnyValueField | null = null;
  for (const field of ANY_VALUE_FIELDS) {
    if (object[field] === undefined || object[field] === null) continue;
    if (found !== null) {
      fail(
        path,
        `must contain only one value field, got ${found} and ${field}`,
      );
    }
    found = field;
  }
  return found;
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

function readBytesAsBase64(value: unknown, path: string): string {
  const text = readString(value, path);
  if (!BASE64.test(text)) {
    fail(path, `must be base64, got ${describeValue(text)}`);
  }
  // Normalises URL-safe base64 and missing padding to the form that the
  // protobuf decoder produces from the same bytes.
  return Buffer.from(text, "base64").toString("base64");
}

/** Returns the JSON fragment of an AnyValue inside an array or list. */
function anyValueFragment(value: unknown, path: string, depth: number): string {
  if (value === undefined || value === null) return "null";
  const object = readObject(value, path);
  const field = anyValueField(object, path);
  const member = `${path}.${field}`;
  switch (field) {
    case null:
      return "null";
    case "stringValue":
      return stringFragment(readString(object.stringValue, member));
    case "boolValue":
      return String(readBool(object.boolValue, member));
    case "intValue":
      return readInt64Digits(object.intValue, member)!;
    case "doubleValue":
      return doubleFragment(readDouble(object.doubleValue, member));
    case "bytesValue":
      return stringFragment(readBytesAsBase64(object.bytesValue, member));
    case "arrayValue":
    case "kvlistValue":
      return nestedValueFragment(object, field, member, depth);
  }
}

function nestedValueFragment(
  object: JsonObject,
  field: "arrayValue" | "kvlistValue",
  path: string,
  depth: number,
): string {
  if (depth >= MAX_ANY_VALUE_DEPTH) {
    fail(
      path,
      `nests arrays and key-value lists more than ${MAX_ANY_VALUE_DEPTH} ` +
        "levels deep",
    );
  }
  const container = readObject(object[field], path);
  const values = readArray(container.values, `${path}.values`);
  if (field === "arrayValue") {
    return arrayFragment(
      values.map((item, i) =>
        anyValueFragment(item, `${path}.values[${i}]`, depth + 1),
      ),
    );
  }
  const keys: string[] = [];
  const fragments: string[] = [];
  values.forEach((item, i) => {
    const itemPath = `${path}.values[${i}]`;
    const keyValue = readObject(item, itemPath);
    keys.push(readString(keyValue.key, `${itemPath}.key`));
    fragments.push(
      anyValueFragment(keyValue.value, `${itemPath}.value`, depth + 1),
    );
  });
  return keyValueListFragment(keys, fragments);
}

/** Returns the label text of an attribute's AnyValue (see any-value.ts). */
function anyValueText(value: unknown, path: string): string {
  if (value === undefined || value === null) return "";
  const object = readObject(value, path);
  const field = anyValueField(object, path);
  const member = `${path}.${field}`;
  switch (field) {
    case null:
      return "";
    case "stringValue":
      return readString(object.stringValue, member);
    case "boolValue":
      return String(readBool(object.boolValue, member));
    case "intValue":
      return readInt64Digits(object.intValue, member)!;
    case "doubleValue":
      return formatDouble(readDouble(object.doubleValue, member));
    case "bytesValue":
      return readBytesAsBase64(object.bytesValue, member);
    case "arrayValue":
    case "kvlistValue":
      return nestedValueFragment(object, field, member, 0);
  }
}

function readAttributes(value: unknown, path: string): OtlpAttribute[] {
  const items = readArray(value, path);
  const attributes = new Array<OtlpAttribute>(items.length);
  for (let i = 0; i < items.length; i += 1) {
    const itemPath = `${path}[${i}]`;
    const keyValue = readObject(items[i], itemPath);
    attributes[i] = {
      key: readString(keyValue.key, `${itemPath}.key`),
      value: anyValueText(keyValue.value, `${itemPath}.value`),
    };
  }
  return attributes;
}

function readNumberDataPoint(
  value: unknown,
  path: string,
): OtlpNumberDataPoint {
  const object = readObject(value, path);
  const hasDouble = object.asDouble !== undefined && object.asDouble !== null;
  const hasInt = object.asInt !== undefined && object.asInt !== null;
  if (hasDouble && hasInt) {
    fail(path, "must contain only one of asDouble and asInt, got both");
  }
  let valueType: OtlpNumberDataPoint["valueType"] = "none";
  let number = 0;
  if (hasDouble) {
    valueType = "double";
    number = readDouble(object.asDouble, `${path}.asDouble`);
  } else if (hasInt) {
    valueType = "int";
    number = Number(readInt64Digits(object.asInt, `${path}.asInt`));
  }
  return {
    attributes: readAttributes(object.attributes, `${path}.attributes`),
    timeMs: readUnixNanoAsMs(object.timeUnixNano, `${path}.timeUnixNano`),
    flags: readUint32(object.flags, `${path}.flags`),
    valueType,
    value: number,
  };
}

function readHistogramDataPoint(
  value: unknown,
  path: string,
): OtlpHistogramDataPoint {
  const object = readObject(value, path);
  const counts = readArray(object.bucketCounts, `${path}.bucketCounts`);
  const bounds = readArray(object.explicitBounds, `${path}.explicitBounds`);
  return {
    attributes: readAttributes(object.attributes, `${path}.attributes`),
    timeMs: readUnixNanoAsMs(object.timeUnixNano, `${path}.timeUnixNano`),
    flags: readUint32(object.flags, `${path}.flags`),
    count: readUint64(object.count, `${path}.count`),
    sum: readOptionalDouble(object.sum, `${path}.sum`),
    bucketCounts: counts.map((count, i) =>
      readUint64(count, `${path}.bucketCounts[${i}]`),
    ),
    explicitBounds: bounds.map((bound, i) =>
      readDouble(bound, `${path}.explicitBounds[${i}]`),
    ),
  };
}

function readSummaryDataPoint(
  value: unknown,
  path: string,
): OtlpSummaryDataPoint {
  const object = readObject(value, path);
  const quantiles = readArray(object.quantileValues, `${path}.quantileValues`);
  return {
    attributes: readAttributes(object.attributes, `${path}.attributes`),
    timeMs: readUnixNanoAsMs(object.timeUnixNano, `${path}.timeUnixNano`),
    flags: readUint32(object.flags, `${path}.flags`),
    count: readUint64(object.count, `${path}.count`),
    sum: readDouble(object.sum, `${path}.sum`),
    quantileValues: quantiles.map((item, i): OtlpValueAtQuantile => {
      const itemPath = `${path}.quantileValues[${i}]`;
      const quantile = readObject(item, itemPath);
      return {
        quantile: readDouble(quantile.quantile, `${itemPath}.quantile`),
        value: readDouble(quantile.value, `${itemPath}.value`),
      };
    }),
  };
}

function readPoints<T>(
  data: JsonObject,
  path: string,
  readPoint: (value: unknown, path: string) => T,
): T[] {
  const items = readArray(data.dataPoints, `${path}.dataPoints`);
  const points = new Array<T>(items.length);
  for (let i = 0; i < items.length; i += 1) {
    points[i] = readPoint(items[i], `${path}.dataPoints[${i}]`);
  }
  return points;
}

const DATA_FIELDS = [
  "gauge",
  "sum",
  "histogram",
  "exponentialHistogram",
  "summary",
] as const;

function readMetric(value: unknown, path: string): OtlpMetric {
  const object = readObject(value, path);
  const name = readString(object.name, `${path}.name`);
  let dataField: (typeof DATA_FIELDS)[number] | null = null;
  for (const field of DATA_FIELDS) {
    if (object[field] === undefined || object[field] === null) continue;
    if (dataField !== null) {
      fail(
        path,
        `must contain only one of ${DATA_FIELDS.join(", ")}, ` +
          `got ${dataField} and ${field}`,
      );
    }
    dataField = field;
  }
  if (dataField === null) return { name, type: "none" };

  const dataPath = `${path}.${dataField}`;
  const data = readObject(object[dataField], dataPath);
  switch (dataField) {
    case "gauge":
      return {
        name,
        type: "gauge",
        dataPoints: readPoints(data, dataPath, readNumberDataPoint),
      };
    case "sum":
      return {
        name,
        type: "sum",
        dataPoints: readPoints(data, dataPath, readNumberDataPoint),
        aggregationTemporality: readTemporality(
          data.aggregationTemporality,
          `${dataPath}.aggregationTemporality`,
        ),
        isMonotonic: readBool(data.isMonotonic, `${dataPath}.isMonotonic`),
      };
    case "histogram":
      return {
        name,
        type: "histogram",
        dataPoints: readPoints(data, dataPath, readHistogramDataPoint),
        aggregationTemporality: readTemporality(
          data.aggregationTemporality,
          `${dataPath}.aggregationTemporality`,
        ),
      };
    case "summary":
      return {
        name,
        type: "summary",
        dataPoints: readPoints(data, dataPath, readSummaryDataPoint),
      };
    case "exponentialHistogram":
      return {
        name,
        type: "exponentialHistogram",
        dataPointCount: readArray(data.dataPoints, `${dataPath}.dataPoints`)
          .length,
      };
  }
}

function readScopeMetrics(value: unknown, path: string): OtlpScopeMetrics {
  const object = readObject(value, path);
  const items = readArray(object.metrics, `${path}.metrics`);
  return {
    metrics: items.map((item, i) => readMetric(item, `${path}.metrics[${i}]`)),
  };
}

function readResourceMetrics(
  value: unknown,
  path: string,
): OtlpResourceMetrics {
  const object = readObject(value, path);
  for (const legacy of [
    "instrumentationLibraryMetrics",
    "instrumentation_library_metrics",
  ]) {
    if (object[legacy] !== undefined) {
      fail(
        `${path}.${legacy}`,
        "is the field name of OTLP before version 1.0, which Vigil does not " +
          "accept: upgrade the exporter so that it sends scopeMetrics",
      );
    }
  }
  const resource =
    object.resource === undefined || object.resource === null
      ? {}
      : readObject(object.resource, `${path}.resource`);
  const items = readArray(object.scopeMetrics, `${path}.scopeMetrics`);
  return {
    attributes: readAttributes(
      resource.attributes,
      `${path}.resource.attributes`,
    ),
    scopeMetrics: items.map((item, i) =>
      readScopeMetrics(item, `${path}.scopeMetrics[${i}]`),
    ),
  };
}

/**
 * Decodes a parsed OTLP/JSON ExportMetricsServiceRequest into the fields
 * Vigil stores. Throws a 400 ApiError naming the first invalid field.
 */
export function decodeJsonMetricsRequest(value: unknown): OtlpMetricsRequest {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError(
      400,
      "invalid_field",
      "request body must be a JSON object with a resourceMetrics array, " +
        `got ${describeValue(value)}`,
    );
  }
  const object = readObject(value, "");
  const items = readArray(object.resourceMetrics, "resourceMetrics");
  return {
    resourceMetrics: items.map((item, i) =>
      readResourceMetrics(item, `resourceMetrics[${i}]`),
    ),
  };
}
