import { decodeUtf8 } from "@/lib/api/body";
import { ApiError } from "@/lib/api/errors";
import {
  REQUEST_ID_HEADER,
  type ApiResult,
  type ApiRouteContext,
} from "@/lib/api/handler";
import {
  decodeJsonMetricsRequest,
  parseOtlpJsonText,
} from "@/lib/ingest/otlp/json";
import {
  mapMetricsRequest,
  type MappedRequest,
} from "@/lib/ingest/otlp/mapping";
import { decodeProtobufMetricsRequest } from "@/lib/ingest/otlp/protobuf";
import {
  ExportMetricsServiceResponse,
  RpcStatus,
} from "@/lib/ingest/otlp/schema";
import { serviceFromQuery } from "@/lib/ingest/service-choice";
import { storeSeries } from "@/lib/ingest/store";

// The OTLP/HTTP metrics receiver behind POST /api/v1/otlp/v1/metrics. The
// Content-Type picks the encoding, application/x-protobuf or
// application/json, and the response uses the same one, as OTLP/HTTP
// requires: an ExportMetricsServiceResponse, empty on full success, with
// partialSuccess when some data points were not stored (see mapping.ts).
// Error responses to protobuf requests are google.rpc.Status messages
// (toProtobufErrorResponse), so that a Collector can log their message.

export type OtlpEncoding = "protobuf" | "json";

const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";
const JSON_CONTENT_TYPE = "application/json";

/** Names of exponential histogram metrics quoted in a partial success. */
const MAX_QUOTED_METRICS = 5;

/** Returns the media type of the request's Content-Type, lowercase. */
function mediaType(request: Request): string {
  const header = request.headers.get("content-type") ?? "";
  return header.split(";", 1)[0]!.trim().toLowerCase();
}

/** Returns whether the request is OTLP/HTTP protobuf, as errors must be. */
export function isProtobufRequest(request: Request): boolean {
  return mediaType(request) === PROTOBUF_CONTENT_TYPE;
}

/** Returns the encoding named by Content-Type, or throws a 415. */
export function requestEncoding(request: Request): OtlpEncoding {
  const type = mediaType(request);
  if (type === PROTOBUF_CONTENT_TYPE) return "protobuf";
  if (type === JSON_CONTENT_TYPE) return "json";
  throw new ApiError(
    415,
    "unsupported_media_type",
    `Content-Type ${JSON.stringify(type)} is not supported; send ` +
      `${PROTOBUF_CONTENT_TYPE} (OTLP/HTTP protobuf) or ` +
      `${JSON_CONTENT_TYPE} (OTLP/JSON)`,
    { field: "Content-Type" },
  );
}

/**
 * Returns the text of partialSuccess.errorMessage, or null when every data
 * point was stored or skipped on purpose.
 */
/** Counts data points in words, such as "1 data point" or "2 gauge data points". */
function points(count: number, kind = ""): string {
  return `${count} ${kind}data ${count === 1 ? "point" : "points"}`;
}

export function partialSuccessMessage(mapped: MappedRequest): string | null {
  const reasons: string[] = [];
  if (mapped.exponentialHistogramPoints > 0) {
    const names = mapped.exponentialHistogramMetrics;
    const quoted = names.slice(0, MAX_QUOTED_METRICS).join(", ");
    const more =
      names.length > MAX_QUOTED_METRICS
        ? ` and ${names.length - MAX_QUOTED_METRICS} more`
        : "";
    reasons.push(
      `rejected ${points(mapped.exponentialHistogramPoints, "exponential histogram ")}` +
        ` (${quoted}${more}) because Vigil does not store ` +
        "exponential histograms; configure the exporter or a view to send " +
        "explicit bucket histograms instead",
    );
  }
  if (mapped.nonFiniteNumberPoints > 0) {
    reasons.push(
      `rejected ${points(mapped.nonFiniteNumberPoints)} whose value is ` +
        "NaN or infinite, which Vigil does not store",
    );
  }
  if (mapped.nonFiniteSamples > 0) {
    reasons.push(
      `skipped ${mapped.nonFiniteSamples} histogram sums or summary values ` +
        "that are NaN or infinite and stored the rest of their data points",
    );
  }
  return reasons.length === 0 ? null : reasons.join("; ");
}

/** Returns the ExportMetricsServiceResponse fields of one request. */
function exportResponse(mapped: MappedRequest): {
  partialSuccess?: { rejectedDataPoints: number; errorMessage: string };
} {
  const message = partialSuccessMessage(mapped);
  if (message === null) return {};
  return {
    partialSuccess: {
      rejectedDataPoints: mapped.rejectedDataPoints,
      errorMessage: message,
    },
  };
}

function protobufResponse(
  status: number,
  bytes: Uint8Array,
  headers: Headers,
): Response {
  headers.set("content-type", PROTOBUF_CONTENT_TYPE);
  headers.set("cache-control", "no-store");
  // Response takes a Uint8Array backed by an ArrayBuffer, which TypeScript
  // cannot tell from protobufjs's return type.
  return new Response(bytes as Uint8Array<ArrayBuffer>, { status, headers });
}

/**
 * Receives one OTLP/HTTP metrics request: decodes it, maps it to series and
 * stores them with one storeSeries call, all or nothing. Throws ApiError
 * for a request it rejects.
 */
export async function receiveOtlpMetrics({
  request,
  readBody,
  token,
  log,
  requestId,
}: ApiRouteContext): Promise<ApiResult> {
  const encoding = requestEncoding(request);
  const query = serviceFromQuery(request);
  const body = await readBody();
  if (body.encoding !== "identity") {
    throw new ApiError(
      415,
      "unsupported_encoding",
      "Content-Encoding snappy is only accepted by remote write; " +
        "send OTLP as identity, gzip or deflate",
      { field: "Content-Encoding" },
    );
  }

  const decoded =
    encoding === "protobuf"
      ? decodeProtobufMetricsRequest(body.bytes)
      : decodeJsonMetricsRequest(
          parseOtlpJsonText(decodeUtf8(body.bytes, "OTLP/JSON")),
        );
  const mapped = mapMetricsRequest(decoded, {
    query,
    tokenBound: token.serviceId !== null,
  });
  // An empty request is valid OTLP: exporters send one when a collection
  // produced nothing.
  const stored =
    mapped.series.length > 0
      ? await storeSeries(mapped.series, token, log)
      : null;

  const response = exportResponse(mapped);
  const summary = {
    encoding,
    dataPoints: mapped.dataPoints,
    insertedPoints: stored?.insertedPoints ?? 0,
    duplicatePoints: stored?.duplicatePoints ?? 0,
    noRecordedValuePoints: mapped.noRecordedValuePoints,
    rejectedDataPoints: mapped.rejectedDataPoints,
  };
  if (response.partialSuccess !== undefined) {
    log.info(
      { ...summary, reason: response.partialSuccess.errorMessage },
      "stored part of an OTLP metrics request",
    );
  } else {
    log.debug(summary, "stored an OTLP metrics request");
  }

  if (encoding === "json") {
    if (response.partialSuccess === undefined) return { body: {} };
    // The protobuf JSON mapping writes int64 fields as strings.
    const { rejectedDataPoints, errorMessage } = response.partialSuccess;
    return {
      body: {
        partialSuccess: {
          rejectedDataPoints: String(rejectedDataPoints),
          errorMessage,
        },
      },
    };
  }
  const bytes = ExportMetricsServiceResponse.encode(
    ExportMetricsServiceResponse.fromObject(response),
  ).finish();
  const headers = new Headers({ [REQUEST_ID_HEADER]: requestId });
  return { body: null, raw: protobufResponse(200, bytes, headers) };
}

/** gRPC status codes for the HTTP statuses Vigil's API responds with. */
const GRPC_CODES: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};
const GRPC_UNKNOWN = 2;

/**
 * Re-encodes a JSON error response of the API wrapper as the
 * google.rpc.Status message that OTLP/HTTP requires for protobuf requests.
 * The status code and headers (request id, Retry-After) stay the same, and
 * the message keeps the text and request id of the JSON error.
 */
export async function toProtobufErrorResponse(
  response: Response,
): Promise<Response> {
  const text = await response.text();
  let message = text;
  try {
    const body = JSON.parse(text) as {
      error?: { message?: string; requestId?: string };
    };
    if (typeof body.error?.message === "string") {
      message = body.error.message;
      if (body.error.requestId !== undefined) {
        message += ` (request id ${body.error.requestId})`;
      }
    }
  } catch {
    // The body is not the wrapper's JSON, so the Status carries it as is.
  }
  const bytes = RpcStatus.encode(
    RpcStatus.fromObject({
      code: GRPC_CODES[response.status] ?? GRPC_UNKNOWN,
      message,
    }),
  ).finish();
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return protobufResponse(response.status, bytes, headers);
}
