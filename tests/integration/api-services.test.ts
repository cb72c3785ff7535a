import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { GET as listRoute } from "@/app/api/v1/services/route";
import { GET as getRoute, PUT } from "@/app/api/v1/services/[slug]/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

let adminToken: string;
let ingestToken: string;

function context(slug: string) {
  return { params: Promise.resolve({ slug }) };
}

async function put(slug: string, body: unknown, auth = adminToken) {
  const response = await PUT(
    new Request(`http://127.0.0.1/api/v1/services/${slug}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${auth}` },
      body: JSON.stringify(body),
    }),
    context(slug),
  );
  return { response, json: (await response.json()) as Record<string, any> };
}

async function serviceRows() {
  const { rows } = await getPool().query(
    `SELECT slug, name, description, request_metric, error_metric
     FROM service ORDER BY slug`,
  );
  return rows;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token: adminToken } = await createApiToken({
    name: "admin",
    scope: "admin",
  }));
  ({ token: ingestToken } = await createApiToken({
    name: "ingest",
    scope: "ingest",
  }));
});

afterAll(async () => {
  await closeDb();
});

describe("PUT /api/v1/services/{slug}", () => {
  it("creates then updates a service", async () => {
    const created = await put("checkout", {
      name: "Checkout",
      description: "Card payments",
      requestMetric: "http_requests_total",
      errorMetric: "http_errors_total",
    });

    expect(created.response.status).toBe(201);
    expect(created.json.service).toMatchObject({
      slug: "checkout",
      name: "Checkout",
      requestMetric: "http_requests_total",
    });

    const updated = await put("checkout", { description: null });

    expect(updated.response.status).toBe(200);
    expect(await serviceRows()).toEqual([
      {
        slug: "checkout",
        name: "Checkout",
        description: null,
        request_metric: "http_requests_total",
        error_metric: "http_errors_total",
      },
    ]);
  });

  it("names a new service after its slug", async () => {
    const { response } = await put("billing", {});

    expect(response.status).toBe(201);
    expect((await serviceRows())[0].name).toBe("billing");
  });

  it("rejects an ingest token", async () => {
    const { response, json } = await put("checkout", {}, ingestToken);

    expect(response.status).toBe(403);
    expect(json.error.code).toBe("insufficient_scope");
    expect(await serviceRows()).toEqual([]);
  });

  it("rejects an invalid metric name", async () => {
    const { response, json } = await put("checkout", {
      errorMetric: "errors total",
    });

    expect(response.status).toBe(400);
    expect(json.error.field).toBe("errorMetric");
    expect(json.error.message).toMatch(
      /^errorMetric must be a Prometheus metric name/,
    );
    expect(await serviceRows()).toEqual([]);
  });

  it("rejects an invalid slug", async () => {
    const { response, json } = await put("Check_Out", {});

    expect(response.status).toBe(400);
    expect(json.error.field).toBe("slug");
    expect(await serviceRows()).toEqual([]);
  });

  it("limits a bound admin token", async () => {
    await put("checkout", {});
    const { rows } = await getPool().query("SELECT id FROM service");
    const bound = await createApiToken({
      name: "checkout admin",
      scope: "admin",
      serviceId: rows[0].id,
    });

    const own = await put("checkout", { name: "Own" }, bound.token);
    const other = await put("billing", {}, bound.token);

    expect(own.response.status).toBe(200);
    expect(other.response.status).toBe(403);
    expect(other.json.error.field).toBe("slug");
    expect((await serviceRows()).map((row) => row.slug)).toEqual(["checkout"]);
  });
});

describe("GET /api/v1/services", () => {
  it("lists services for any token", async () => {
    await put("checkout", { name: "Checkout" });
    await put("billing", {});

    const response = await listRoute(
      new Request("http://127.0.0.1/api/v1/services", {
        headers: { authorization: `Bearer ${ingestToken}` },
      }),
    );
    const json = await response.json();

    expect(response.status).toBe(200);
    expect(json.services.map((service: any) => service.slug)).toEqual([
      "billing",
      "checkout",
    ]);
  });

  it("returns one service or 404", async () => {
    await put("checkout", { name: "Checkout" });
    const get = (slug: string) =>
      getRoute(
        new Request(`http://127.0.0.1/api/v1/services/${slug}`, {
          headers: { authorization: `Bearer ${ingestToken}` },
        }),
        context(slug),
      );

    const found = await get("checkout");
    const missing = await get("nope");

    expect(found.status).toBe(200);
    expect((await found.json()).service.name).toBe("Checkout");
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.message).toBe(
      'service "nope" not found',
    );
  });
});
