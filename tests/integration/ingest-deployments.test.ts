import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { POST } from "@/app/api/v1/deployments/route";
import { createApiToken } from "@/lib/auth/api-token";
import { getConfig } from "@/lib/config";
import { closeDb, getPool } from "@/lib/db";
import { EARLIEST_COMMIT_AT } from "@/lib/ingest/deployments";
import { truncateAll } from "@/tests/support/database";

const URL = "http://127.0.0.1/api/v1/deployments";
const deployedAt = new Date(Date.now() - 3_600_000);
deployedAt.setUTCMilliseconds(0);

let token: string;

async function send(body: unknown, auth: string | null = token) {
  const response = await POST(
    new Request(URL, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
  return { response, json: (await response.json()) as Record<string, any> };
}

async function counts() {
  const { rows } = await getPool().query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM service) AS services,
            (SELECT count(*) FROM deployment) AS deployments`,
  );
  return rows[0];
}

function deployment(overrides: Record<string, unknown> = {}) {
  return {
    service: "checkout",
    version: "v1.4.2",
    environment: "production",
    status: "success",
    deployedAt: deployedAt.toISOString(),
    commitSha: "9F2C4E1A",
    description: "Faster card checks",
    id: "ext-123",
    ...overrides,
  };
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token } = await createApiToken({ name: "deploys", scope: "ingest" }));
});

afterAll(async () => {
  await closeDb();
});

describe("POST /api/v1/deployments", () => {
  it("creates one deployment", async () => {
    const { response, json } = await send(deployment());

    expect(response.status).toBe(201);
    expect(json.deployment).toMatchObject({
      externalId: "ext-123",
      service: "checkout",
      version: "v1.4.2",
      environment: "production",
      status: "success",
      deployedAt: deployedAt.toISOString(),
      commitSha: "9f2c4e1a",
      description: "Faster card checks",
      created: true,
    });

    const { rows } = await getPool().query(
      `SELECT d.id, s.slug, d.version, d.environment, d.status, d.deployed_at,
              d.commit_sha, d.description, d.external_id
       FROM deployment d JOIN service s ON s.id = d.service_id`,
    );
    expect(rows).toEqual([
      {
        id: json.deployment.id,
        slug: "checkout",
        version: "v1.4.2",
        environment: "production",
        status: "success",
        deployed_at: deployedAt,
        commit_sha: "9f2c4e1a",
        description: "Faster card checks",
        external_id: "ext-123",
      },
    ]);
  });

  it("stores commitAt", async () => {
    const commitAt = new Date(deployedAt.getTime() - 90 * 60_000);
    const { response, json } = await send(
      deployment({ commitAt: commitAt.toISOString() }),
    );

    expect(response.status).toBe(201);
    expect(json.deployment.commitAt).toBe(commitAt.toISOString());
    const { rows } = await getPool().query("SELECT commit_at FROM deployment");
    expect(rows[0].commit_at).toEqual(commitAt);
  });

  it("stores a commitAt past the ingest max age", async () => {
    const maxAgeDays = getConfig().VIGIL_INGEST_MAX_AGE_DAYS;
    const commitAt = new Date(Date.now() - (maxAgeDays + 30) * 86_400_000);
    commitAt.setUTCMilliseconds(0);
    expect(commitAt.getTime()).toBeGreaterThan(EARLIEST_COMMIT_AT.getTime());
    const { response, json } = await send({
      deployments: [
        deployment({ id: "old", commitAt: commitAt.toISOString() }),
        deployment({ id: "floor", commitAt: EARLIEST_COMMIT_AT.getTime() }),
      ],
    });
    expect(response.status).toBe(201);
    expect(json.deployments[0].commitAt).toBe(commitAt.toISOString());
    expect(json.deployments[1].commitAt).toBe(EARLIEST_COMMIT_AT.toISOString());
    expect((await counts())!.deployments).toBe("2");
  });

  it("accepts commitAt equal to deployedAt", async () => {
    const { response, json } = await send(
      deployment({ commitAt: deployedAt.getTime() }),
    );

    expect(response.status).toBe(201);
    expect(json.deployment.commitAt).toBe(deployedAt.toISOString());
  });

  it("returns the existing row on retry", async () => {
    const first = await send(deployment());
    const retry = await send(deployment({ version: "v9.9.9" }));

    expect(retry.response.status).toBe(200);
    expect(retry.json.deployment.id).toBe(first.json.deployment.id);
    expect(retry.json.deployment.version).toBe("v1.4.2");
    expect(retry.json.deployment.created).toBe(false);
    expect((await counts())!.deployments).toBe("1");
  });

  it("applies defaults", async () => {
    const before = Date.now();
    const { response, json } = await send({
      service: "checkout",
      version: "v2",
    });

    expect(response.status).toBe(201);
    expect(json.deployment.environment).toBe("production");
    expect(json.deployment.status).toBe("success");
    expect(json.deployment.externalId).toBeNull();
    const stored = Date.parse(json.deployment.deployedAt);
    expect(stored).toBeGreaterThanOrEqual(before - 1);
    expect(stored).toBeLessThanOrEqual(Date.now());
  });

  it("stores a batch with created and existing", async () => {
    await send(deployment({ id: "a" }));

    const { response, json } = await send({
      deployments: [
        deployment({ id: "a" }),
        deployment({ id: "b", service: "billing", status: "rolled_back" }),
        deployment({ id: "b", service: "billing" }),
        deployment({ id: undefined, deployedAt: Date.now() - 60_000 }),
      ],
    });

    expect(response.status).toBe(201);
    expect(json.created).toBe(2);
    expect(json.existing).toBe(2);
    expect(json.deployments.map((entry: any) => entry.created)).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect(json.deployments[2].id).toBe(json.deployments[1].id);
    expect(json.deployments[2].status).toBe("rolled_back");
    expect(await counts()).toEqual({ services: "2", deployments: "3" });
  });

  it("responds 200 to a batch of retries", async () => {
    await send({ deployments: [deployment({ id: "a" })] });

    const { response, json } = await send({
      deployments: [deployment({ id: "a" })],
    });

    expect(response.status).toBe(200);
    expect(json.created).toBe(0);
  });

  it("keeps ids separate per service", async () => {
    await send(deployment({ id: "same" }));
    const { response } = await send(
      deployment({ id: "same", service: "billing" }),
    );

    expect(response.status).toBe(201);
    expect((await counts())!.deployments).toBe("2");
  });
});

type BadCase = {
  name: string;
  body: unknown;
  auth?: () => Promise<string | null>;
  status: number;
  field?: string;
  message: string | RegExp;
};

const BAD_CASES: BadCase[] = [
  {
    name: "malformed JSON",
    body: '{"service": checkout}',
    status: 400,
    message: "invalid JSON at position 12: unexpected character 'c'",
  },
  {
    name: "missing version",
    body: { service: "checkout" },
    status: 400,
    field: "version",
    message: "version is required",
  },
  {
    name: "unknown status",
    body: deployment({ status: "done" }),
    status: 400,
    field: "status",
    message:
      "status must be one of success, failure, in_progress, rolled_back, " +
      'got "done"',
  },
  {
    name: "invalid status in a batch",
    body: {
      deployments: [deployment({ id: "ok" }), deployment({ status: 3 })],
    },
    status: 400,
    field: "deployments[1].status",
    message: /^deployments\[1\]\.status must be one of/,
  },
  {
    name: "deployedAt without zone",
    body: deployment({ deployedAt: "2026-12-04 10:00" }),
    status: 400,
    field: "deployedAt",
    message: /^deployedAt must be an RFC 3339 timestamp/,
  },
  {
    name: "invalid commit SHA",
    body: deployment({ commitSha: "main" }),
    status: 400,
    field: "commitSha",
    message: "commitSha must be 7 to 64 hexadecimal characters",
  },
  {
    name: "commitAt after deployedAt",
    body: deployment({
      commitAt: new Date(deployedAt.getTime() + 1000).toISOString(),
    }),
    status: 400,
    field: "commitAt",
    message:
      `commitAt must not be after deployedAt (${deployedAt.toISOString()}), ` +
      `got ${new Date(deployedAt.getTime() + 1000).toISOString()}`,
  },
  {
    name: "commitAt after now without deployedAt",
    body: {
      service: "checkout",
      version: "v2",
      commitAt: new Date(Date.now() + 5 * 60_000).toISOString(),
    },
    status: 400,
    field: "commitAt",
    message: /^commitAt must not be after deployedAt \(/,
  },
  {
    name: "commitAt in a batch",
    body: {
      deployments: [
        deployment({ id: "ok", commitAt: deployedAt.toISOString() }),
        deployment({ id: "late", commitAt: "2026-13-01T00:00:00Z" }),
      ],
    },
    status: 400,
    field: "deployments[1].commitAt",
    message: /^deployments\[1\]\.commitAt must be an RFC 3339 timestamp/,
  },
  {
    name: "commitAt before 2000",
    body: deployment({ commitAt: "1999-12-31T23:59:59Z" }),
    status: 400,
    field: "commitAt",
    message:
      'commitAt must not be before 2000-01-01T00:00:00.000Z, got "1999-12-31T23:59:59Z"',
  },
  {
    name: "commitAt in epoch seconds",
    body: deployment({ commitAt: 1_700_000_000 }),
    status: 400,
    field: "commitAt",
    message: /^commitAt must not be before .*; it looks like epoch seconds, send milliseconds$/,
  },
  {
    name: "unknown field",
    body: deployment({ sha: "abc" }),
    status: 400,
    field: "sha",
    message: "sha is not a known field",
  },
  {
    name: "empty batch",
    body: { deployments: [] },
    status: 400,
    field: "deployments",
    message: "deployments must contain at least one deployment",
  },
  {
    name: "batch over 1000",
    body: {
      deployments: Array.from({ length: 1001 }, (_, i) =>
        deployment({ id: `d${i}` }),
      ),
    },
    status: 400,
    field: "deployments",
    message: "deployments must contain at most 1000 deployments",
  },
  {
    name: "no token",
    body: deployment(),
    auth: async () => null,
    status: 401,
    message: /^missing Authorization header/,
  },
  {
    name: "bound token writing another service",
    body: {
      deployments: [deployment({ service: "billing" }), deployment()],
    },
    auth: async () => {
      const { rows } = await getPool().query(
        "INSERT INTO service (slug, name) VALUES ('billing', 'b') RETURNING id",
      );
      return (
        await createApiToken({
          name: "billing",
          scope: "ingest",
          serviceId: rows[0].id,
        })
      ).token;
    },
    status: 403,
    field: "service",
    message: 'this API token may write only its own service, not "checkout"',
  },
];

describe("POST /api/v1/deployments rejects", () => {
  it.each(BAD_CASES)("$name", async (badCase) => {
    await send(deployment({ id: "existing" }));
    const auth = badCase.auth ? await badCase.auth() : token;
    const before = await counts();

    const { response, json } = await send(badCase.body, auth);

    expect(response.status).toBe(badCase.status);
    expect(json.error.field).toBe(badCase.field);
    if (typeof badCase.message === "string") {
      expect(json.error.message).toBe(badCase.message);
    } else {
      expect(json.error.message).toMatch(badCase.message);
    }
    expect(await counts()).toEqual(before);
  });
});
