import { readFileSync } from "node:fs";

import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST } from "@/app/api/v1/webhooks/github/route";
import { closeDb, getPool } from "@/lib/db";
import { signGithubBody } from "@/lib/ingest/github";
import { truncateAll } from "@/tests/support/database";

// POST /api/v1/webhooks/github through its exported route handler against a
// real database, with bodies signed as GitHub signs them.

const SECRET = vi.hoisted(() => {
  const secret = "test-webhook-secret-0123456789";
  process.env.VIGIL_GITHUB_WEBHOOK_SECRET = secret;
  return secret;
});

const URL = "http://127.0.0.1/api/v1/webhooks/github";

type Json = Record<string, any>;

/** The fixture with its times moved to an hour ago, within the age limit. */
function event(state: string, statusAt: Date, payload: unknown = {}): Json {
  const body = JSON.parse(
    readFileSync(
      "tests/fixtures/deployment/github-deployment-status-created-success.json",
      "utf8",
    ),
  );
  body.deployment_status.state = state;
  body.deployment_status.created_at = statusAt.toISOString();
  body.deployment_status.updated_at = statusAt.toISOString();
  body.deployment.created_at = deploymentCreatedAt.toISOString();
  body.deployment.payload = payload;
  return body;
}

const deploymentCreatedAt = new Date(Date.now() - 3_600_000);
deploymentCreatedAt.setUTCMilliseconds(0);

function minutesAfterCreation(minutes: number): Date {
  return new Date(deploymentCreatedAt.getTime() + minutes * 60_000);
}

async function send(
  body: unknown,
  options: {
    event?: string;
    delivery?: string | null;
    signature?: string | null;
    query?: string;
    contentType?: string;
    raw?: string;
  } = {},
) {
  const text = options.raw ?? JSON.stringify(body);
  const signature =
    options.signature === undefined
      ? signGithubBody(SECRET, text)
      : options.signature;
  const delivery =
    options.delivery === undefined ? crypto.randomUUID() : options.delivery;
  const response = await POST(
    new Request(`${URL}${options.query ?? ""}`, {
      method: "POST",
      headers: {
        "content-type": options.contentType ?? "application/json",
        "x-github-event": options.event ?? "deployment_status",
        ...(delivery === null ? {} : { "x-github-delivery": delivery }),
        ...(signature === null ? {} : { "x-hub-signature-256": signature }),
      },
      body: text,
    }),
  );
  return { response, json: (await response.json()) as Json };
}

async function stored() {
  const pool = getPool();
  const deployments = await pool.query(
    `SELECT s.slug, d.external_id, d.version, d.environment, d.status,
            d.deployed_at, d.commit_sha, d.description
       FROM deployment d JOIN service s ON s.id = d.service_id
      ORDER BY d.id`,
  );
  const services = await pool.query("SELECT slug FROM service ORDER BY id");
  const deliveries = await pool.query(
    "SELECT id, event FROM webhook_delivery ORDER BY id",
  );
  return {
    deployments: deployments.rows,
    services: services.rows.map((row) => row.slug),
    deliveries: deliveries.rows,
  };
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await closeDb();
});

describe("POST /api/v1/webhooks/github", () => {
  it("stores a signed success event", async () => {
    const successAt = minutesAfterCreation(2);
    const { response, json } = await send(event("success", successAt), {
      delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    });

    expect(response.status).toBe(201);
    expect(json).toMatchObject({
      event: "deployment_status",
      outcome: "created",
      state: "success",
      deployment: {
        externalId: "github:145988746",
        service: "hello-world",
        status: "success",
        deployedAt: successAt.toISOString(),
      },
    });
    expect(await stored()).toEqual({
      deployments: [
        {
          slug: "hello-world",
          external_id: "github:145988746",
          version: "master",
          environment: "production",
          status: "success",
          deployed_at: successAt,
          commit_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
          description: null,
        },
      ],
      services: ["hello-world"],
      deliveries: [
        {
          id: "github:72d3162e-cc78-11e3-81ab-4c9367dc0958",
          event: "deployment_status",
        },
      ],
    });
  });

  it("rejects a bad signature and stores nothing", async () => {
    const body = event("success", minutesAfterCreation(2));
    const { response, json } = await send(body, {
      signature: signGithubBody("another-secret", JSON.stringify(body)),
    });

    expect(response.status).toBe(401);
    expect(json.error.code).toBe("unauthorized");
    expect(json.error.message).toMatch(/does not match the body/);
    expect(await stored()).toEqual({
      deployments: [],
      services: [],
      deliveries: [],
    });
  });

  it("rejects a missing signature", async () => {
    const { response, json } = await send(
      event("success", minutesAfterCreation(2)),
      { signature: null },
    );

    expect(response.status).toBe(401);
    expect(json.error.field).toBe("X-Hub-Signature-256");
    expect((await stored()).deployments).toEqual([]);
  });

  it("rejects a body changed after signing", async () => {
    const body = event("success", minutesAfterCreation(2));
    const signature = signGithubBody(SECRET, JSON.stringify(body));
    body.deployment_status.state = "failure";
    const { response } = await send(body, { signature });

    expect(response.status).toBe(401);
    expect((await stored()).deployments).toEqual([]);
  });

  it("updates one row as states arrive", async () => {
    const steps: [string, number, string, string][] = [
      // state, minutes after creation, expected status, expected outcome
      ["queued", 0, "in_progress", "created"],
      ["in_progress", 1, "in_progress", "unchanged"],
      ["success", 3, "success", "updated"],
      ["inactive", 30, "success", "unchanged"],
      ["in_progress", 2, "success", "unchanged"],
    ];
    for (const [state, minutes, status, outcome] of steps) {
      const { json } = await send(event(state, minutesAfterCreation(minutes)));
      expect(json.outcome, state).toBe(outcome);
      expect(json.deployment.status, state).toBe(status);
    }

    const { deployments, deliveries } = await stored();
    expect(deployments).toHaveLength(1);
    expect(deployments[0]!.status).toBe("success");
    // deployed_at is the time of the success status.
    expect(deployments[0]!.deployed_at).toEqual(minutesAfterCreation(3));
    expect(deliveries).toHaveLength(5);
  });

  it("ignores a status older than the stored one", async () => {
    await send(event("success", minutesAfterCreation(3)));
    // A failure from before the success, delivered late or replayed.
    const late = await send(event("failure", minutesAfterCreation(1)));

    expect(late.json.outcome).toBe("unchanged");
    expect(late.json.deployment.status).toBe("success");
    const { deployments } = await stored();
    expect(deployments[0]!.status).toBe("success");
    expect(deployments[0]!.deployed_at).toEqual(minutesAfterCreation(3));

    const newer = await send(event("failure", minutesAfterCreation(5)));
    expect(newer.json.outcome).toBe("updated");
    expect(newer.json.deployment.status).toBe("failure");
  });

  it("uses the creation time until success", async () => {
    const { json } = await send(event("in_progress", minutesAfterCreation(1)));
    expect(json.deployment.deployedAt).toBe(deploymentCreatedAt.toISOString());

    const failed = await send(event("error", minutesAfterCreation(4)));
    expect(failed.json.deployment).toMatchObject({
      status: "failure",
      deployedAt: deploymentCreatedAt.toISOString(),
    });
  });

  it("changes nothing on a redelivery", async () => {
    const success = event("success", minutesAfterCreation(2));
    await send(success, { delivery: "delivery-1" });
    await send(event("failure", minutesAfterCreation(5)), {
      delivery: "delivery-2",
    });
    const before = await stored();
    const { response, json } = await send(success, { delivery: "delivery-1" });

    expect(response.status).toBe(200);
    expect(json.duplicate).toBe(true);
    expect(json.message).toBe(
      "delivery delivery-1 was processed before; nothing changed",
    );
    expect(await stored()).toEqual(before);
    expect(before.deployments[0]!.status).toBe("failure");
  });

  it("reads the version from a string payload", async () => {
    const { json } = await send(
      event("success", minutesAfterCreation(2), '{"version":"v2.3.1"}'),
    );
    expect(json.deployment.version).toBe("v2.3.1");
    expect((await stored()).deployments[0]!.version).toBe("v2.3.1");
  });

  it("reads the version from an object payload", async () => {
    const { json } = await send(
      event("success", minutesAfterCreation(2), { version: "v2.4.0" }),
    );
    expect(json.deployment.version).toBe("v2.4.0");
  });

  it("uses ?service= over the repository", async () => {
    const { json } = await send(event("success", minutesAfterCreation(2)), {
      query: "?service=checkout",
    });
    expect(json.deployment.service).toBe("checkout");
    expect((await stored()).services).toEqual(["checkout"]);
  });

  it("accepts a form-encoded body", async () => {
    const body = event("success", minutesAfterCreation(2));
    const raw = new URLSearchParams({ payload: JSON.stringify(body) }).toString();
    const { response, json } = await send(null, {
      raw,
      contentType: "application/x-www-form-urlencoded",
    });

    expect(response.status).toBe(201);
    expect(json.deployment.status).toBe("success");
  });

  it("responds to ping", async () => {
    const { response, json } = await send(
      { zen: "Design for failure.", hook_id: 1 },
      { event: "ping" },
    );

    expect(response.status).toBe(200);
    expect(json).toMatchObject({ event: "ping", message: "pong" });
    expect((await stored()).deliveries).toEqual([]);
  });

  it("ignores other events", async () => {
    const { response, json } = await send({ ref: "refs/heads/main" }, {
      event: "push",
    });

    expect(response.status).toBe(202);
    expect(json).toMatchObject({ event: "push", ignored: true });
    expect(await stored()).toEqual({
      deployments: [],
      services: [],
      deliveries: [],
    });
  });

  it("ignores inactive for an unknown deployment", async () => {
    const { response, json } = await send(
      event("inactive", minutesAfterCreation(30)),
    );

    expect(response.status).toBe(200);
    expect(json.ignored).toBe(true);
    expect((await stored()).deployments).toEqual([]);
  });

  it("rejects a missing delivery id", async () => {
    const { response, json } = await send(
      event("success", minutesAfterCreation(2)),
      { delivery: null },
    );

    expect(response.status).toBe(400);
    expect(json.error.field).toBe("X-GitHub-Delivery");
    expect((await stored()).deployments).toEqual([]);
  });

  it("rejects an invalid event and stores nothing", async () => {
    const body = event("success", minutesAfterCreation(2));
    body.deployment_status.state = "finished";
    const { response, json } = await send(body);

    expect(response.status).toBe(400);
    expect(json.error.field).toBe("deployment_status.state");
    expect(await stored()).toEqual({
      deployments: [],
      services: [],
      deliveries: [],
    });
  });
});
