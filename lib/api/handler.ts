import { randomUUID } from "node:crypto";

import {
  readJsonBody,
  readRequestBody,
  type RequestBody,
} from "@/lib/api/body";
import { ApiError, apiErrorBody } from "@/lib/api/errors";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { getConfig } from "@/lib/config";
import type { ApiToken } from "@/lib/generated/prisma/client";
import type { TokenScope } from "@/lib/generated/prisma/enums";
import { logger, type Logger } from "@/lib/logger";

// The one wrapper that every /api/v1 route handler goes through. In order it
// assigns a request id, authenticates the bearer token, checks its scope,
// runs the handler, and maps every error to a JSON response. Rejections are
// logged at warn and unexpected errors at error with their stack. The token
// itself never reaches a log line, only its id.

export const REQUEST_ID_HEADER = "x-request-id";
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export type ApiRouteOptions = {
  /** Route pattern for logs, such as "POST /api/v1/metrics". */
  route: string;
  /** Scope the bearer token needs; admin tokens pass every check. */
  scope: TokenScope;
};

/** Context of every handler, with or without a bearer token. */
export type RequestContext = {
  request: Request;
  requestId: string;
  /** Logger with requestId and route bound (and tokenId after auth). */
  log: Logger;
  params: Record<string, string>;
  /** Reads the body as JSON within VIGIL_INGEST_MAX_BODY_BYTES. */
  readJson: () => Promise<unknown>;
  /**
   * Reads the raw body within VIGIL_INGEST_MAX_BODY_BYTES, with gzip and
   * deflate Content-Encoding decoded (see readRequestBody).
   */
  readBody: () => Promise<RequestBody>;
};

export type ApiRouteContext = RequestContext & { token: ApiToken };

export type ApiResult = {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A finished response to send as it is, for bodies that are not JSON. */
  raw?: Response;
};

type NextRouteContext = { params?: Promise<Record<string, string>> };

function resolveRequestId(request: Request): string {
  const fromClient = request.headers.get(REQUEST_ID_HEADER);
  if (fromClient !== null && CLIENT_REQUEST_ID.test(fromClient)) {
    return fromClient;
  }
  return randomUUID();
}

function jsonResponse(
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(body, {
    status,
    headers: {
      ...headers,
      [REQUEST_ID_HEADER]: requestId,
      "cache-control": "no-store",
    },
  });
}

/** Wraps a route handler with auth, body limits, error mapping and logs. */
export function apiRoute(
  options: ApiRouteOptions,
  handler: (context: ApiRouteContext) => Promise<ApiResult>,
): (request: Request, context?: NextRouteContext) => Promise<Response> {
  return wrapRoute(options.route, async (context, setTokenId) => {
    const token = await authenticateBearer(context.request);
    setTokenId(token.id);
    requireScope(token, options.scope);
    return handler({ ...context, log: context.log.child({ tokenId: token.id }), token });
  });
}

/**
 * Like apiRoute for a route that authenticates the request itself, such as
 * a webhook signed with a shared secret instead of a bearer token.
 */
export function unauthenticatedRoute(
  route: string,
  handler: (context: RequestContext) => Promise<ApiResult>,
): (request: Request, context?: NextRouteContext) => Promise<Response> {
  return wrapRoute(route, (context) => handler(context));
}

function wrapRoute(
  route: string,
  handler: (
    context: RequestContext,
    setTokenId: (id: number) => void,
  ) => Promise<ApiResult>,
): (request: Request, context?: NextRouteContext) => Promise<Response> {
  return async (request, nextContext) => {
    const startedAt = performance.now();
    const requestId = resolveRequestId(request);
    const requestLog = logger.child({ requestId, route });
    let tokenId: number | undefined;

    try {
      const params = (await nextContext?.params) ?? {};
      const maxBytes = getConfig().VIGIL_INGEST_MAX_BODY_BYTES;
      const result = await handler(
        {
          request,
          requestId,
          log: requestLog,
          params,
          readJson: () => readJsonBody(request, maxBytes),
          readBody: () => readRequestBody(request, maxBytes),
        },
        (id) => {
          tokenId = id;
        },
      );

      const status = result.status ?? 200;
      // Debug, because exporters send a request every few seconds. Rejected
      // and failed requests log at warn and error below.
      requestLog.debug(
        {
          tokenId,
          status,
          durationMs: Math.round(performance.now() - startedAt),
        },
        "handled API request",
      );
      return result.raw ?? jsonResponse(status, result.body, requestId, result.headers);
    } catch (error) {
      if (error instanceof ApiError) {
        requestLog.warn(
          {
            ...error.logContext,
            tokenId: tokenId ?? error.logContext.tokenId,
            status: error.status,
            code: error.code,
            field: error.field,
            reason: error.message,
          },
          "rejected API request",
        );
        return jsonResponse(
          error.status,
          apiErrorBody(error, requestId),
          requestId,
          error.headers,
        );
      }

      requestLog.error({ err: error, tokenId }, "API request failed");
      const internal = new ApiError(
        500,
        "internal_error",
        `internal error; report request id ${requestId} to the operator`,
      );
      return jsonResponse(500, apiErrorBody(internal, requestId), requestId);
    }
  };
}
