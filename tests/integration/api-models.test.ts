import { encode } from "next-auth/jwt";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST as activateRoute } from "@/app/api/v1/series/[id]/models/[version]/activate/route";
import { GET as modelsRoute } from "@/app/api/v1/series/[id]/models/route";
import { POST as retrainRoute } from "@/app/api/v1/series/[id]/retrain/route";
import { createApiToken } from "@/lib/auth/api-token";
import { getConfig } from "@/lib/config";
import { closeDb } from "@/lib/db";
import { loadModel, scoreSeries } from "@/lib/detector/model";
import { loadModelVersion } from "@/lib/detector/model-store";
import { DEFAULT_RETRAIN_POLICY } from "@/lib/detector/retrain-policy";
import type { Role } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";
import { planHoldout } from "@/lib/models/holdout-plan";
import { upsertUser } from "@/lib/users";
import { truncateAll } from "@/tests/support/database";
import {
  createSeries,
  insertPoints,
  syntheticValues,
  toPoints,
} from "@/tests/support/model-series";
import { runScoreSeries } from "@/workers/score-series";
import { runTrainSeries } from "@/workers/train-series";

// The model routes called as Next.js calls them, with real API tokens and
// real next-auth session cookies, against a real database. The session
// secret must be set before the configuration is first read.

const SECRET = vi.hoisted(() => {
  const secret = "lifecycle-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

const log = logger.child({ test: "api-models" });
const BASE = "http://127.0.0.1:3420";

let db: pg.Client;
let cookies: Record<"admin" | "responder" | "viewer", string>;
let adminToken: string;
let ingestToken: string;

async function sessionCookie(userId: number, role: Role): Promise<string> {
  const jwt = await encode({ token: { userId, role }, secret: SECRET });
  return `next-auth.session-token=${jwt}`;
}

/** contentType defaults to application/json on a POST, as the Models page sends. */
type Auth = { cookie?: string; token?: string; origin?: string; contentType?: string };

function request(method: string, path: string, auth: Auth, body?: BodyInit) {
  const headers: Record<string, string> = {};
  if (method === "POST") headers["content-type"] = auth.contentType ?? "application/json";
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.origin) headers.origin = auth.origin;
  headers.host = "127.0.0.1:3420";
  return new Request(`${BASE}${path}`, { method, headers, body });
}

async function call(
  handler: (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>,
  req: Request,
  params: Record<string, string>,
) {
  const response = await handler(req, { params: Promise.resolve(params) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

function retrain(seriesId: number | string, auth: Auth, body?: BodyInit) {
  return call(
    retrainRoute,
    request("POST", `/api/v1/series/${seriesId}/retrain`, auth, body),
    { id: String(seriesId) },
  );
}

function activate(seriesId: number, version: number | string, auth: Auth) {
  return call(
    activateRoute,
    request("POST", `/api/v1/series/${seriesId}/models/${version}/activate`, auth),
    { id: String(seriesId), version: String(version) },
  );
}

function models(seriesId: number | string, auth: Auth) {
  return call(
    modelsRoute,
    request("GET", `/api/v1/series/${seriesId}/models`, auth),
    { id: String(seriesId) },
  );
}

async function countRows(table: string): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS count FROM ${table}`);
  return rows[0].count;
}

/**
 * Creates a series long enough to retrain, with its first model. By default
 * the first scoring job stops one point short of a retraining check, so
 * the worker queues no training of its own.
 */
async function trainedSeries(
  extraPoints = 0,
  scoredPoints = DEFAULT_RETRAIN_POLICY.checkEveryPoints - 1,
) {
  const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
  const values = syntheticValues({ count: minimum + scoredPoints + extraPoints });
  const points = toPoints(values);
  const seriesId = await createSeries(db, "cpu");
  const initialLength = values.length - extraPoints;
  await insertPoints(db, seriesId, points.slice(0, initialLength));
  await runScoreSeries(db, seriesId, log);
  return { seriesId, values, points, initialLength };
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const password = "correct-horse-battery";
  const admin = await upsertUser({ email: "ada@vigil.test", name: "Ada Admin", password, role: "admin" });
  const responder = await upsertUser({ email: "rui@vigil.test", name: "Rui Responder", password, role: "responder" });
  const viewer = await upsertUser({ email: "vera@vigil.test", name: "Vera Viewer", password, role: "viewer" });
  cookies = {
    admin: await sessionCookie(admin.id, "admin"),
    responder: await sessionCookie(responder.id, "responder"),
    viewer: await sessionCookie(viewer.id, "viewer"),
  };
  ({ token: adminToken } = await createApiToken({ name: "ops", scope: "admin" }));
  ({ token: ingestToken } = await createApiToken({ name: "exporter", scope: "ingest" }));
});

describe("POST /api/v1/series/{id}/retrain", () => {
  it("queues a job for a responder", async () => {
    const { seriesId } = await trainedSeries();

    const first = await retrain(seriesId, { cookie: cookies.responder });
    const second = await retrain(seriesId, { cookie: cookies.responder });

    expect(first.status).toBe(202);
    expect(first.json.created).toBe(true);
    expect(first.json.trainingJob.status).toBe("queued");
    expect(first.json.trainingJob.reason).toBe("request");
    expect(first.json.trainingJob.requestedByName).toBe("Rui Responder");
    expect(second.status).toBe(200);
    expect(second.json.created).toBe(false);
    expect(second.json.trainingJob.id).toBe(first.json.trainingJob.id);
    expect(await countRows("model_training_job")).toBe(1);
  });

  it("accepts an admin token", async () => {
    const { seriesId } = await trainedSeries();

    const response = await retrain(seriesId, { token: adminToken }, "{}");

    expect(response.status).toBe(202);
    expect(response.json.trainingJob.requestedByName).toBe("API token ops");
  });

  it("rejects viewers and ingest tokens", async () => {
    const { seriesId } = await trainedSeries();

    const viewer = await retrain(seriesId, { cookie: cookies.viewer });
    const ingest = await retrain(seriesId, { token: ingestToken });
    const anonymous = await retrain(seriesId, {});

    expect(viewer.status).toBe(403);
    expect(viewer.json.error.code).toBe("forbidden");
    expect(viewer.json.error.message).toBe(
      "this needs the responder role or above; your role is viewer",
    );
    expect(ingest.status).toBe(403);
    expect(ingest.json.error.code).toBe("insufficient_scope");
    expect(anonymous.status).toBe(401);
    expect(await countRows("model_training_job")).toBe(0);
  });

  it("rejects bad input without writing", async () => {
    const { seriesId } = await trainedSeries();
    const short = await createSeries(db, "short");
    await insertPoints(db, short, toPoints(syntheticValues({ count: 20 })));
    const tooShort = planHoldout(20, getConfig().VIGIL_MIN_TRAINING_POINTS).problem;

    const cases: Array<[Awaited<ReturnType<typeof retrain>>, number, string, string]> = [
      [await retrain("abc", { cookie: cookies.admin }), 400, "invalid_field", 'id must be a positive integer of at most 2147483647, got "abc"'],
      [await retrain(999999, { cookie: cookies.admin }), 404, "not_found", "series 999999 not found"],
      [await retrain(short, { cookie: cookies.admin }), 409, "not_enough_history", `series ${short}: ${tooShort}`],
      [await retrain(seriesId, { cookie: cookies.admin }, '{"epochs": 3}'), 400, "invalid_field", 'unknown field "epochs"; this request takes no fields'],
      [await retrain(seriesId, { cookie: cookies.admin }, "[1"), 400, "invalid_json", ""],
      [await retrain(seriesId, { cookie: cookies.admin, origin: "http://evil.test" }), 403, "forbidden", ""],
      [await retrain(seriesId, { cookie: cookies.admin, contentType: "text/plain" }, "{}"), 415, "unsupported_media_type", 'requests signed in with a session cookie must send Content-Type application/json, got "text/plain"'],
      [await retrain(seriesId, { cookie: cookies.admin, contentType: "application/x-www-form-urlencoded" }), 415, "unsupported_media_type", ""],
      [await retrain(seriesId, { cookie: cookies.admin }, new Uint8Array([0x7b, 0xff, 0x7d])), 400, "invalid_json", "request body is not valid UTF-8; send JSON encoded as UTF-8"],
      [await retrain(seriesId, { token: adminToken }, new Uint8Array([0xc3, 0x28])), 400, "invalid_json", "request body is not valid UTF-8; send JSON encoded as UTF-8"],
    ];
    for (const [response, status, code, message] of cases) {
      expect(response.status).toBe(status);
      expect(response.json.error.code).toBe(code);
      if (message) expect(response.json.error.message).toBe(message);
    }
    expect(await countRows("model_training_job")).toBe(0);
  });
});

describe("POST /api/v1/series/{id}/models/{version}/activate", () => {
  it("rolls back and scores the next points", async () => {
    const extra = 60;
    const { seriesId, values, points, initialLength } = await trainedSeries(extra);
    const { json } = await retrain(seriesId, { cookie: cookies.admin });
    const trained = await runTrainSeries(db, json.trainingJob.id, log, {
      params: { epochs: 4 },
      policy: { ...DEFAULT_RETRAIN_POLICY, tolerance: 1e6 },
    });
    expect(trained.outcome).toBe("activated");
    const stateBefore = await db.query(
      "SELECT detector_state FROM metric_series WHERE id = $1",
      [seriesId],
    );

    const response = await activate(seriesId, 1, { cookie: cookies.admin });

    expect(response.status).toBe(200);
    expect(response.json.modelVersion).toMatchObject({
      version: 3,
      sourceVersion: 1,
      status: "active",
      reason: "rollback",
    });
    const rows = await db.query(
      `SELECT version, status, reason, requested_by, source_version_id,
              activated_at, schedule_from
         FROM model_version WHERE series_id = $1 ORDER BY version`,
      [seriesId],
    );
    expect(rows.rows.map((row) => [row.version, row.status, row.reason])).toEqual([
      [1, "retired", "initial"],
      [2, "retired", "request"],
      [3, "active", "rollback"],
    ]);
    expect(rows.rows[2].requested_by).toBe("Ada Admin");
    expect(rows.rows[2].activated_at).toBeInstanceOf(Date);
    expect(rows.rows[2].schedule_from).toEqual(points[initialLength - 1]!.ts);
    const stateAfter = await db.query(
      "SELECT detector_state FROM metric_series WHERE id = $1",
      [seriesId],
    );
    expect(stateAfter.rows[0].detector_state).toEqual(stateBefore.rows[0].detector_state);

    // The next points are scored by the copy of version 1, with its weights.
    await insertPoints(db, seriesId, points);
    await runScoreSeries(db, seriesId, log);
    const scores = await db.query(
      `SELECT a.error, m.version FROM anomaly_score a
         JOIN model_version m ON m.id = a.model_version_id
        WHERE a.series_id = $1 AND a.ts > $2 ORDER BY a.ts`,
      [seriesId, points[initialLength - 1]!.ts],
    );
    expect(scores.rows).toHaveLength(extra);
    expect(new Set(scores.rows.map((row) => row.version))).toEqual(new Set([3]));
    const v1 = await loadModel((await loadModelVersion(db, seriesId, 1))!.record);
    const expected = scoreSeries(v1, values, initialLength).map((point) => point.error);
    scores.rows.forEach((row, index) => {
      expect(row.error).toBeCloseTo(expected[index]!, 6);
    });
  });

  it("cancels an open training job", async () => {
    const { seriesId } = await trainedSeries();
    const first = await retrain(seriesId, { cookie: cookies.admin });
    await runTrainSeries(db, first.json.trainingJob.id, log, {
      params: { epochs: 4 },
      policy: { ...DEFAULT_RETRAIN_POLICY, tolerance: 1e6 },
    });
    const open = await retrain(seriesId, { cookie: cookies.responder });
    expect(open.status).toBe(202);

    const response = await activate(seriesId, 1, { cookie: cookies.admin });

    expect(response.status).toBe(200);
    const job = await db.query(
      "SELECT status, message FROM model_training_job WHERE id = $1",
      [open.json.trainingJob.id],
    );
    expect(job.rows[0].status).toBe("failed");
    expect(job.rows[0].message).toBe(
      "cancelled: Ada Admin rolled back to version 1 (stored as version 3)",
    );
    const skipped = await runTrainSeries(db, open.json.trainingJob.id, log, {
      params: { epochs: 4 },
    });
    expect(skipped.outcome).toBe("skipped");
    expect(await countRows("model_version")).toBe(3);
  });

  it("is admin only", async () => {
    const { seriesId } = await trainedSeries();
    await db.query(
      `INSERT INTO model_version
         (series_id, version, status, kind, backend, code_version, window_size,
          trained_from, trained_to, point_count, topology, weight_specs,
          weights, normalization, metrics, threshold, training_ms)
       SELECT series_id, 2, 'retired', kind, backend, code_version, window_size,
              trained_from, trained_to, point_count, topology, weight_specs,
              weights, normalization, metrics, threshold, training_ms
         FROM model_version WHERE series_id = $1 AND version = 1`,
      [seriesId],
    );

    const responder = await activate(seriesId, 2, { cookie: cookies.responder });
    const ingest = await activate(seriesId, 2, { token: ingestToken });
    const token = await activate(seriesId, 2, { token: adminToken });

    expect(responder.status).toBe(403);
    expect(responder.json.error.message).toBe(
      "this needs the admin role or above; your role is responder",
    );
    expect(ingest.status).toBe(403);
    expect(token.status).toBe(200);
    expect(token.json.modelVersion.version).toBe(3);
  });

  it("rejects the active and unknown versions", async () => {
    const { seriesId } = await trainedSeries();

    const active = await activate(seriesId, 1, { cookie: cookies.admin });
    const unknown = await activate(seriesId, 7, { cookie: cookies.admin });
    const invalid = await activate(seriesId, "0", { cookie: cookies.admin });

    expect(active.status).toBe(409);
    expect(active.json.error.code).toBe("already_active");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toBe(`series ${seriesId} has no model version 7`);
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.field).toBe("version");
    expect(await countRows("model_version")).toBe(1);
  });
});

describe("service-bound API tokens", () => {
  it("reach only their service's series", async () => {
    const { seriesId } = await trainedSeries();
    const serviceId = async (slug: string) =>
      (
        await db.query<{ id: number }>(
          `INSERT INTO service (slug, name) VALUES ($1, $1)
           ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
          [slug],
        )
      ).rows[0]!.id;
    const billing = await serviceId("billing");
    const checkout = await serviceId("checkout");
    const { token: billingToken } = await createApiToken({
      name: "billing-bot",
      scope: "admin",
      serviceId: billing,
    });
    const { token: checkoutToken } = await createApiToken({
      name: "checkout-bot",
      scope: "admin",
      serviceId: checkout,
    });
    await db.query(
      `INSERT INTO model_version
         (series_id, version, status, kind, backend, code_version, window_size,
          trained_from, trained_to, point_count, topology, weight_specs,
          weights, normalization, metrics, threshold, training_ms)
       SELECT series_id, 2, 'retired', kind, backend, code_version, window_size,
              trained_from, trained_to, point_count, topology, weight_specs,
              weights, normalization, metrics, threshold, training_ms
         FROM model_version WHERE series_id = $1 AND version = 1`,
      [seriesId],
    );

    const read = await models(seriesId, { token: billingToken });
    const retrained = await retrain(seriesId, { token: billingToken });
    const activated = await activate(seriesId, 2, { token: billingToken });

    for (const response of [read, retrained, activated]) {
      expect(response.status).toBe(403);
      expect(response.json.error.code).toBe("forbidden");
      expect(response.json.error.message).toBe(
        `this API token is bound to another service than series ${seriesId}`,
      );
    }
    expect(await countRows("model_training_job")).toBe(0);
    expect(await countRows("model_version")).toBe(2);

    const ownRead = await models(seriesId, { token: checkoutToken });
    const ownRetrain = await retrain(seriesId, { token: checkoutToken });

    expect(ownRead.status).toBe(200);
    expect(ownRetrain.status).toBe(202);
  });
});

describe("GET /api/v1/series/{id}/models", () => {
  it("lists versions, jobs and drift", async () => {
    // One retraining check, which queues the young model's scheduled training.
    const { seriesId } = await trainedSeries(0, DEFAULT_RETRAIN_POLICY.checkEveryPoints);

    const viewer = await models(seriesId, { cookie: cookies.viewer });
    const ingest = await models(seriesId, { token: ingestToken });
    const anonymous = await models(seriesId, {});
    const unknown = await models(424242, { cookie: cookies.viewer });

    expect(viewer.status).toBe(200);
    expect(viewer.json.series.id).toBe(seriesId);
    expect(viewer.json.versions).toHaveLength(1);
    expect(viewer.json.versions[0].version).toBe(1);
    expect(viewer.json.versions[0].status).toBe("active");
    expect(viewer.json.versions[0]).not.toHaveProperty("weights");
    expect(viewer.json.trainingJobs).toHaveLength(1);
    expect(viewer.json.trainingJobs[0].reason).toBe("schedule");
    expect(viewer.json.drift).toHaveLength(1);
    expect(viewer.json.drift[0].retrainReason).toBe("schedule");
    expect(ingest.status).toBe(200);
    expect(anonymous.status).toBe(401);
    expect(unknown.status).toBe(404);
  });
});
