import { afterAll, describe, expect, it, vi } from "vitest";

import { POST } from "@/app/api/v1/webhooks/github/route";
import { closeDb, getPool } from "@/lib/db";
import { signGithubBody } from "@/lib/ingest/github";

// Without VIGIL_GITHUB_WEBHOOK_SECRET the GitHub webhook responds 503. This
// is its own file because lib/config.ts reads the environment once per
// module graph, and github-webhook.test.ts sets the secret.

vi.hoisted(() => {
  delete process.env.VIGIL_GITHUB_WEBHOOK_SECRET;
});

afterAll(async () => {
  await closeDb();
});

describe("POST /api/v1/webhooks/github without a secret", () => {
  it("responds 503 naming the variable", async () => {
    const body = JSON.stringify({ zen: "Keep it logically awesome." });
    const response = await POST(
      new Request("http://127.0.0.1/api/v1/webhooks/github", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": "d8b7c1a0-0000-4000-8000-000000000001",
          "x-hub-signature-256": signGithubBody("any-secret", body),
        },
        body,
      }),
    );
    const json = (await response.json()) as Record<string, any>;

    expect(response.status).toBe(503);
    expect(json.error.code).toBe("not_configured");
    expect(json.error.message).toBe(
      "GitHub webhooks are not configured: set VIGIL_GITHUB_WEBHOOK_SECRET " +
        "to the webhook's secret and restart Vigil",
    );
    const { rows } = await getPool().query(
      "SELECT count(*)::int AS count FROM webhook_delivery",
    );
    expect(rows[0].count).toBe(0);
  });
});
