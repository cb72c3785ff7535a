import pino from "pino";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import { apiRoute } from "@/lib/api/handler";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb } from "@/lib/db";
import { logger } from "@/lib/logger";
import { truncateAll } from "@/tests/support/database";

// The route wrapper on its own, with handlers written for the test.

let token: string;
let tokenId: number;
let logLines: string[] = [];
const streamSymbol = pino.symbols.streamSym as unknown as string;
const loggerStreams = logger as unknown as Record<string, unknown>;
const originalStream = loggerStreams[streamSymbol];

function request(headers: Record<string, string> = {}): Request {
  return new Request("http://127.0.0.1/api/v1/test", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, ...headers },
    body: "{}",
  });
}

function logEntries(): Array<Record<string, any>> {
  return logLines.map((line) => JSON.parse(line));
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token, id: tokenId } = await createApiToken({
    name: "handler test",
    scope: "ingest",
  }));
  logLines = [];
  loggerStreams[streamSymbol] = {
    write: (line: string) => logLines.push(line),
  };
});

afterEach(() => {
  loggerStreams[streamSymbol] = originalStream;
});

afterAll(async () => {
  await closeDb();
});

describe("apiRoute", () => {
  it("maps an unexpected error to 500", async () => {
    const route = apiRoute({ route: "POST /test", scope: "ingest" }, () => {
      throw new Error("database exploded");
    });

    const response = await route(request({ "x-request-id": "req-500" }));
    const body = await response.json();

    expect(response.status).toBe(500);
    expect(body).toEqual({
      error: {
        code: "internal_error",
        message: "internal error; report request id req-500 to the operator",
        requestId: "req-500",
      },
    });
    const errors = logEntries().filter((entry) => entry.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      requestId: "req-500",
      route: "POST /test",
      tokenId,
      msg: "API request failed",
    });
    expect(errors[0]!.err.stack).toContain("database exploded");
  });

  it("rejects an ingest token on an admin route", async () => {
    let ran = false;
    const route = apiRoute({ route: "PUT /test", scope: "admin" }, async () => {
      ran = true;
      return { body: {} };
    });

    const response = await route(request());
    const body = await response.json();

    expect(response.status).toBe(403);
    expect(body.error.code).toBe("insufficient_scope");
    expect(body.error.message).toBe(
      "this API token has scope ingest; the request needs scope admin",
    );
    expect(response.headers.get("www-authenticate")).toBe(
      'Bearer realm="vigil", error="insufficient_scope", scope="admin"',
    );
    expect(ran).toBe(false);
  });

  it("lets an admin token use an ingest route", async () => {
    const admin = await createApiToken({ name: "admin", scope: "admin" });
    const route = apiRoute(
      { route: "POST /test", scope: "ingest" },
      async ({ token: row }) => ({ status: 202, body: { scope: row.scope } }),
    );

    const response = await route(
      new Request("http://127.0.0.1/", {
        headers: { authorization: `Bearer ${admin.token}` },
      }),
    );

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ scope: "admin" });
  });

  it("passes route params to the handler", async () => {
    const route = apiRoute(
      { route: "GET /test/{slug}", scope: "ingest" },
      async ({ params }) => ({ body: params }),
    );

    const response = await route(request(), {
      params: Promise.resolve({ slug: "checkout" }),
    });

    expect(await response.json()).toEqual({ slug: "checkout" });
  });

  it("replaces an unsafe client request id", async () => {
    const route = apiRoute({ route: "POST /test", scope: "ingest" }, async () => ({
      body: {},
    }));

    const response = await route(request({ "x-request-id": "bad id\twith tab" }));

    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("returns an ApiError with its status and field", async () => {
    const route = apiRoute({ route: "POST /test", scope: "ingest" }, () => {
      throw new ApiError(409, "conflict", "name is taken", { field: "name" });
    });

    const response = await route(request({ "x-request-id": "req-409" }));

    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({
      error: {
        code: "conflict",
        message: "name is taken",
        field: "name",
        requestId: "req-409",
      },
    });
    const warnings = logEntries().filter((entry) => entry.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      requestId: "req-409",
      tokenId,
      status: 409,
      reason: "name is taken",
    });
  });
});
