import { unauthenticatedRoute } from "@/lib/api/handler";
import { receiveGithubWebhook } from "@/lib/ingest/github";

/**
 * GitHub webhook receiver for deployment_status events, authenticated by
 * the X-Hub-Signature-256 HMAC instead of a bearer token; see docs/api.md.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/webhooks/github",
  receiveGithubWebhook,
);
