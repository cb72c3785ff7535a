import { decodeUtf8 } from "@/lib/api/body";
import { ApiError } from "@/lib/api/errors";
import type { ApiResult, ApiRouteContext } from "@/lib/api/handler";
import {
  ExpositionError,
  parseExposition,
  type ExpositionFormat,
  type ExpositionSample,
} from "@/lib/ingest/prometheus/exposition";
import { canonicalLabelsKey, LABEL_NAME_PATTERN } from "@/lib/ingest/schemas";
import type { SeriesInput } from "@/lib/ingest/series-input";
import { serviceFromQuery, slugify } from "@/lib/ingest/service-choice";
import { storeSeries } from "@/lib/ingest/store";

// The Pushgateway-style receiver: POST or PUT to
//   /api/v1/prometheus/push/job/<job>{/<label>/<value>}
// with a body in the text format 0.0.4 or OpenMetrics text. As on the
// Pushgateway, the labels of the URL path (the grouping key) are added to
// every sample and replace body labels of the same name, and a label name
// suffixed with @base64 takes a base64url value. Unlike the Pushgateway,
// Vigil keeps history instead of the latest value per group, so PUT and POST
// both append points and neither deletes anything, and samples may carry
// timestamps.

export const PUSH_PATH_PREFIX = "/api/v1/prometheus/push/";

const BASE64_SUFFIX = "@base64";
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function invalidPath(message: string): ApiError {
  return new ApiError(400, "invalid_path", message, { field: "path" });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidPath(
      `path segment ${JSON.stringify(segment)} is not valid percent-encoding`,
    );
  }
}

function decodeBase64Value(name: string, encoded: string): string {
  if (!BASE64URL.test(encoded)) {
    throw invalidPath(
      `the value of ${name}${BASE64_SUFFIX} must be base64url (RFC 4648 ` +
        `section 5: A-Z a-z 0-9 - _), got ${JSON.stringify(encoded.slice(0, 60))}`,
    );
  }
  const bytes = Buffer.from(encoded, "base64url");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalidPath(
      `the value of ${name}${BASE64_SUFFIX} does not decode to UTF-8 text`,
    );
  }
}

/**
 * Reads the grouping key from a push URL path such as
 * /api/v1/prometheus/push/job/backup/instance@base64/aG9zdC1h. Returns the
 * labels in path order, job first. Throws a 400 naming the segment when the
 * path does not start with job, has a label without a value, repeats or
 * misspells a label name, or has an empty job.
 */
export function parseGroupingPath(pathname: string): Record<string, string> {
  const start = pathname.indexOf(PUSH_PATH_PREFIX);
  if (start === -1) {
    throw invalidPath(`push URLs start with ${PUSH_PATH_PREFIX}job/<job>`);
  }
  const segments = pathname.slice(start + PUSH_PATH_PREFIX.length).split("/");
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();

  const first = decodeSegment(segments[0] ?? "");
  if (first !== "job" && first !== `job${BASE64_SUFFIX}`) {
    throw invalidPath(
      `the push URL must continue with job/<job> after ${PUSH_PATH_PREFIX}, ` +
        `got ${JSON.stringify(first)}`,
    );
  }
  if (segments.length % 2 !== 0) {
    const last = decodeSegment(segments[segments.length - 1]!);
    throw invalidPath(
      `grouping label ${JSON.stringify(last)} in the push URL has no value; ` +
        "the path continues in /<label>/<value> pairs",
    );
  }

  const grouping: Record<string, string> = {};
  for (let i = 0; i < segments.length; i += 2) {
    let name = decodeSegment(segments[i]!);
    const rawValue = segments[i + 1]!;
    let value: string;
    if (name.endsWith(BASE64_SUFFIX)) {
      name = name.slice(0, -BASE64_SUFFIX.length);
      value = decodeBase64Value(name, decodeSegment(rawValue));
    } else {
      if (rawValue === "") {
        throw invalidPath(
          `grouping label ${name} in the push URL has an empty value; ` +
            `write ${name}${BASE64_SUFFIX}/= for an empty value`,
        );
      }
      value = decodeSegment(rawValue);
    }

    if (!LABEL_NAME_PATTERN.test(name) || name.startsWith("__")) {
      throw invalidPath(
        `invalid grouping label name ${JSON.stringify(name)} in the push URL: ` +
          "label names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __",
      );
    }
    if (Object.hasOwn(grouping, name)) {
      throw invalidPath(`grouping label ${name} appears twice in the push URL`);
    }
    grouping[name] = value;
  }
  if (grouping.job === "") {
    throw invalidPath("the job in the push URL must not be empty");
  }
  return grouping;
}

function unsupportedMediaType(message: string): ApiError {
  return new ApiError(415, "unsupported_media_type", message, {
    field: "Content-Type",
  });
}

const FORMAT_HELP =
  "send the text format (text/plain; version=0.0.4) or OpenMetrics text " +
  "(application/openmetrics-text; version=1.0.0)";

/**
 * Picks the body format from Content-Type. application/openmetrics-text is
 * OpenMetrics. text/plain, no header, or any other type, such as curl's
 * default application/x-www-form-urlencoded, is the 0.0.4 text format, as
 * on the Pushgateway. Protobuf and unknown versions get a 415.
 */
export function formatFromContentType(header: string | null): ExpositionFormat {
  const [mediaType = "", ...parameterTexts] = (header ?? "").split(";");
  const type = mediaType.trim().toLowerCase();
  const parameters = new Map<string, string>();
  for (const text of parameterTexts) {
    const equals = text.indexOf("=");
    if (equals === -1) continue;
    const key = text.slice(0, equals).trim().toLowerCase();
    const value = text.slice(equals + 1).trim().replace(/^"(.*)"$/, "$1");
    parameters.set(key, value);
  }

  const charset = parameters.get("charset")?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw unsupportedMediaType(`charset ${charset} is not supported; send UTF-8`);
  }
  const version = parameters.get("version");

  if (
    type === "application/vnd.google.protobuf" ||
    type === "application/x-protobuf" ||
    type === "application/protobuf"
  ) {
    throw unsupportedMediaType(
      `the protobuf exposition format (${type}) is not supported; ${FORMAT_HELP}`,
    );
  }
  if (type === "application/openmetrics-text") {
    if (version === undefined || version === "1.0.0" || version === "0.0.1") {
      return "openmetrics-1.0";
    }
    throw unsupportedMediaType(
      `OpenMetrics version ${version} is not supported; send version 1.0.0`,
    );
  }
  if (type === "text/plain" && version !== undefined && version !== "0.0.4") {
    throw unsupportedMediaType(
      `text/plain version ${version} is not supported; ${FORMAT_HELP}`,
    );
  }
  return "prometheus-0.0.4";
}

/** Service sources for pushed series that win over their labels. */
export type PushServiceChoice = {
  /** Slug from ?service=, which wins over everything. */
  fromQuery: string | null;
  /** Whether the API token is bound to a service, which wins over labels. */
  tokenBound: boolean;
};

function formatSeries(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(
    ([label, value]) => `${label}=${JSON.stringify(value)}`,
  );
  return pairs.length === 0 ? name : `${name}{${pairs.join(",")}}`;
}

/**
 * Maps parsed samples to one SeriesInput each. Grouping labels replace body
 * labels of the same name, and labels with empty values are dropped,
 * because Prometheus treats an empty label as an absent one. Samples
 * without a timestamp get `receivedAtMs`. Throws a 400 when two lines give
 * the same series the same timestamp, because storing either value would
 * silently drop the other.
 */
export function samplesToSeriesInputs(
  samples: readonly ExpositionSample[],
  grouping: Readonly<Record<string, string>>,
  serviceChoice: PushServiceChoice,
  receivedAtMs: number,
): SeriesInput[] {
  const seen = new Map<string, number>();
  const inputs: SeriesInput[] = new Array(samples.length);
  // A push usually repeats a few service and job values many times.
  const slugs = new Map<string, string | null>();
  const slugOf = (value: string | undefined): string | null => {
    if (value === undefined) return null;
    let slug = slugs.get(value);
    if (slug === undefined) {
      slug = slugify(value);
      slugs.set(value, slug);
    }
    return slug;
  };

  for (let i = 0; i < samples.length; i += 1) {
    const sample = samples[i]!;
    const field = `line ${sample.line}`;
    // fromEntries defines each label as an own property, so a body label
    // named __proto__ reaches storeSeries, which rejects it as reserved.
    const merged = Object.entries({ ...sample.labels, ...grouping });
    const labels: Record<string, string> = Object.fromEntries(
      merged.filter(([, value]) => value !== ""),
    );
    const timestamp = sample.timestampMs ?? receivedAtMs;

    const key = `${sample.name}\u0000${canonicalLabelsKey(labels)}\u0000${timestamp}`;
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      const replaced = Object.keys(grouping).some((name) =>
        Object.hasOwn(sample.labels, name),
      );
      throw new ApiError(
        400,
        "invalid_exposition",
        `${field}: ${formatSeries(sample.name, labels)} has the same series and ` +
          `timestamp as line ${firstLine}, so one of the two values would be ` +
          "lost; send each series once per timestamp" +
          (replaced
            ? " (labels named in the push URL replace those of the body)"
            : ""),
        { field },
      );
    }
    seen.set(key, sample.line);

    let service: string | null = null;
    let serviceField: string | undefined;
    if (serviceChoice.fromQuery !== null) {
      service = serviceChoice.fromQuery;
      serviceField = "service";
    } else if (!serviceChoice.tokenBound) {
      const fromService = slugOf(labels.service);
      const fromJob = slugOf(labels.job);
      service = fromService ?? fromJob;
      serviceField = `${field}.labels.${fromService !== null ? "service" : "job"}`;
    }

    inputs[i] = {
      service,
      name: sample.name,
      labels,
      timestamps: [timestamp],
      values: [sample.value],
      field,
      pointField: () => `${field} timestamp`,
      serviceField,
    };
  }
  return inputs;
}

/** Parses a body, turning a syntax error into a 400 that names the line. */
export function parsePushBody(
  text: string,
  format: ExpositionFormat,
): ExpositionSample[] {
  try {
    return parseExposition(text, format).samples;
  } catch (error) {
    if (!(error instanceof ExpositionError)) throw error;
    throw new ApiError(400, "invalid_exposition", error.message, {
      field: `line ${error.line}`,
    });
  }
}

/**
 * Handles one push: reads the grouping key, format and body, and stores
 * every sample with one storeSeries call, so that the push is stored whole
 * or not at all. Returns what was stored, in the shape of POST
 * /api/v1/metrics plus the NaN and Inf samples skipped.
 */
export async function handlePush(context: ApiRouteContext): Promise<ApiResult> {
  const { request, token, log, requestId } = context;
  // One receive time for the whole push, so that its samples line up.
  const receivedAtMs = Date.now();
  const grouping = parseGroupingPath(new URL(request.url).pathname);
  const format = formatFromContentType(request.headers.get("content-type"));
  const fromQuery = serviceFromQuery(request);

  const body = await context.readBody();
  if (body.encoding !== "identity") {
    throw new ApiError(
      415,
      "unsupported_encoding",
      "Content-Encoding snappy is only accepted by remote write; send the " +
        "push body as identity, gzip or deflate",
      { field: "Content-Encoding" },
    );
  }
  const samples = parsePushBody(decodeUtf8(body.bytes, "the text format"), format);
  const inputs = samplesToSeriesInputs(
    samples,
    grouping,
    { fromQuery, tokenBound: token.serviceId !== null },
    receivedAtMs,
  );

  const result =
    inputs.length === 0
      ? null
      : await storeSeries(inputs, token, log, { now: receivedAtMs });
  log.debug(
    { format, samples: samples.length, job: grouping.job },
    "received Prometheus push",
  );
  return {
    body: {
      accepted: {
        series: result?.series ?? 0,
        points: result?.insertedPoints ?? 0,
      },
      duplicates: result?.duplicatePoints ?? 0,
      skippedNonFinite: result?.skippedNonFinite ?? 0,
      services: result?.services ?? [],
      requestId,
    },
  };
}
