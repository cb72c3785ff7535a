import { createHmac, timingSafeEqual } from "node:crypto";

import { decodeUtf8, parseJsonText } from "@/lib/api/body";
import { ApiError } from "@/lib/api/errors";
import type { ApiResult, RequestContext } from "@/lib/api/handler";
import { getConfig } from "@/lib/config";
import {
  githubServiceSlug,
  parseDeploymentStatusEvent,
  storeDeploymentStatus,
} from "@/lib/ingest/github-deployments";
import { serviceFromQuery } from "@/lib/ingest/service-choice";
import { timestampLimits } from "@/lib/ingest/timestamps";

// POST /api/v1/webhooks/github. GitHub signs each delivery with the
// webhook's secret: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256
// of the raw body. The signature replaces the bearer token, so it is
// checked before the body is parsed. Only deployment_status events are
// stored. ping, which GitHub sends when the webhook is created, gets 200,
// and other events get 202 and are ignored.

const SIGNATURE_HEADER = "x-hub-signature-256";
const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/i;
const DELIVERY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Returns whether `header` is "sha256=<hex>" with the HMAC-SHA256 of `body`
 * under `secret`. The digests are compared with crypto.timingSafeEqual so
 * that the response time does not reveal how many bytes matched.
 */
export function verifyGithubSignature(
  secret: string,
  body: Uint8Array,
  header: string | null,
): boolean {
  const match = header === null ? null : SIGNATURE_PATTERN.exec(header.trim());
  if (match === null) return false;
  const received = Buffer.from(match[1]!, "hex");
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(received, expected);
}

/** Signs a body as GitHub does: "sha256=" and the hex HMAC-SHA256. */
export function signGithubBody(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message, {
    field: "X-Hub-Signature-256",
  });
}

/**
 * Parses the event body. A webhook set to the content type
 * application/x-www-form-urlencoded sends the JSON in the `payload` field.
 */
function parseGithubBody(request: Request, bytes: Uint8Array): unknown {
  const text = decodeUtf8(bytes, "the webhook body");
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return parseJsonText(text);
  }
  const payload = new URLSearchParams(text).get("payload");
  if (payload === null) {
    throw new ApiError(
      400,
      "invalid_body",
      "form-encoded GitHub webhook body has no payload field",
      { field: "payload" },
    );
  }
  return parseJsonText(payload);
}

function readDeliveryId(request: Request): string {
  const deliveryId = request.headers.get("x-github-delivery");
  if (deliveryId === null || !DELIVERY_ID_PATTERN.test(deliveryId)) {
    throw new ApiError(
      400,
      "invalid_field",
      "X-GitHub-Delivery header is missing or invalid; GitHub sends a " +
        "delivery id (a UUID) with every event",
      { field: "X-GitHub-Delivery" },
    );
  }
  return deliveryId;
}

/** Handles one GitHub webhook delivery; see the header comment. */
export async function receiveGithubWebhook(
  context: RequestContext,
): Promise<ApiResult> {
  const { request, requestId } = context;
  const secret = getConfig().VIGIL_GITHUB_WEBHOOK_SECRET;
  if (secret === undefined) {
    throw new ApiError(
      503,
      "not_configured",
      "GitHub webhooks are not configured: set VIGIL_GITHUB_WEBHOOK_SECRET " +
        "to the webhook's secret and restart Vigil",
    );
  }

  const { bytes } = await context.readBody();
  const header = request.headers.get(SIGNATURE_HEADER);
  if (header === null) {
    throw unauthorized(
      "X-Hub-Signature-256 header is missing; set a secret on the GitHub webhook",
    );
  }
  if (!verifyGithubSignature(secret, bytes, header)) {
    throw unauthorized(
      "X-Hub-Signature-256 does not match the body; the webhook's secret " +
        "must equal VIGIL_GITHUB_WEBHOOK_SECRET",
    );
  }

  const event = request.headers.get("x-github-event") ?? "";
  const log = context.log.child({ githubEvent: event });
  if (event === "ping") {
    log.info("GitHub webhook ping");
    return { body: { event, message: "pong", requestId } };
  }
  if (event !== "deployment_status") {
    log.info("ignored GitHub event");
    return {
      status: 202,
      body: {
        event,
        ignored: true,
        message: `event "${event}" is ignored; Vigil stores deployment_status events`,
        requestId,
      },
    };
  }

  const deliveryId = readDeliveryId(request);
  const fromQuery = serviceFromQuery(request);
  const config = getConfig();
  const limits = timestampLimits(
    Date.now(),
    config.VIGIL_INGEST_MAX_AGE_DAYS,
    config.VIGIL_INGEST_MAX_FUTURE_MINUTES,
  );
  const parsed = parseDeploymentStatusEvent(parseGithubBody(request, bytes), limits);
  const slug = githubServiceSlug(fromQuery, parsed);
  const result = await storeDeploymentStatus(parsed, slug, deliveryId, log);

  if (result.outcome === "duplicate_delivery") {
    return {
      body: {
        event,
        duplicate: true,
        message: `delivery ${deliveryId} was processed before; nothing changed`,
        requestId,
      },
    };
  }
  if (result.outcome === "ignored") {
    return { body: { event, ignored: true, message: result.reason, requestId } };
  }
  return {
    status: result.outcome === "created" ? 201 : 200,
    body: {
      event,
      outcome: result.outcome,
      state: parsed.state,
      deployment: result.deployment,
      requestId,
    },
  };
}
