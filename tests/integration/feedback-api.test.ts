import { encode } from "next-auth/jwt";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "feedback-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import { GET, POST } from "@/app/api/v1/incidents/[id]/feedback/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool, getPrisma } from "@/lib/db";
import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import { FeedbackError } from "@/lib/feedback/errors";
import { feedbackPrecision } from "@/lib/feedback/precision";
import { recordFeedback } from "@/lib/feedback/record";
import { thresholdFromFeedback } from "@/lib/feedback/threshold";
import { truncateAll } from "@/tests/support/database";

// POST /api/v1/incidents/{id}/feedback against the real database: status
// codes, what each request writes, and that a rejected or failed request
// writes nothing.

const STEP_MS = 5 * 60 * 1000;
const BASE_TIME = Date.UTC(2026, 10, 2, 8, 0, 0);
const HOST = "127.0.0.1:3410";

type Fixture = {
  serviceId: number;
  otherServiceId: number;
  seriesId: number;
  modelVersionId: number;
  /** Detector incidents A and B on the series, with their peak likelihoods. */
  incidentA: number;
  incidentB: number;
  peakA: number;
  peakB: number;
  alertIncident: number;
  responder: { id: number; name: string };
  viewer: { id: number; name: string };
  adminToken: string;
  ingestToken: string;
  boundAdminToken: string;
};

let fixture: Fixture;

const at = (step: number) => new Date(BASE_TIME + step * STEP_MS);

async function insertModelVersion(seriesId: number): Promise<number> {
  // A stored row, never loaded as a model: these tests score nothing.
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO model_version
       (series_id, version, status, kind, backend, code_version, window_size,
        trained_from, trained_to, point_count, topology, weight_specs,
        weights, normalization, metrics, threshold, training_ms)
     VALUES ($1, 1, 'active', 'dense-forecaster', 'cpu', '0.1.0', 12,
             $2, $3, 500, '{}', '[]', '\\x00', '{}', '{}', 1, 10)
     RETURNING id`,
    [seriesId, at(-500), at(-1)],
  );
  return rows[0]!.id;
}

/** Stores points 0..59 with a likelihood per step (0.5 where not given). */
async function insertScores(
  seriesId: number,
  modelVersionId: number,
  likelihoods: Record<number, number>,
): Promise<void> {
  const steps = Array.from({ length: 60 }, (_, step) => step);
  await getPool().query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, ts, 10 FROM unnest($2::timestamptz[]) AS ts`,
    [seriesId, steps.map(at)],
  );
  await getPool().query(
    `INSERT INTO anomaly_score
       (series_id, ts, model_version_id, error, score, is_anomaly,
        likelihood, deviation, expected_low, expected_high)
     SELECT $1, p.ts, $2, 0.1, 0.5, p.likelihood >= 0.9, p.likelihood, 1, 8, 12
       FROM unnest($3::timestamptz[], $4::float8[]) AS p(ts, likelihood)`,
    [
      seriesId,
      modelVersionId,
      steps.map(at),
      steps.map((step) => likelihoods[step] ?? 0.5),
    ],
  );
}

async function insertIncident(
  serviceId: number,
  seriesId: number | null,
  source: "detector" | "alert",
  openedStep: number,
  resolvedStep: number | null,
): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO incident
       (service_id, series_id, title, status, source, dedup_key, opened_at,
        resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING id`,
    [
      serviceId,
      seriesId,
      `${source} incident at step ${openedStep}`,
      resolvedStep === null ? "triggered" : "resolved",
      source,
      `test:${source}:${openedStep}`,
      at(openedStep),
      resolvedStep === null ? null : at(resolvedStep),
    ],
  );
  return rows[0]!.id;
}

async function createFixture(): Promise<Fixture> {
  const prisma = getPrisma();
  const service = await prisma.service.create({
    data: { slug: "checkout", name: "Checkout" },
  });
  const other = await prisma.service.create({
    data: { slug: "billing", name: "Billing" },
  });
  const series = await prisma.metricSeries.create({
    data: { serviceId: service.id, name: "cpu", labelsKey: "{}" },
  });
  const modelVersionId = await insertModelVersion(series.id);
  // Incident A spans steps 10-20 and peaks at 0.95; incident B is still
  // open from step 40 and peaks at 0.99. Step 30 lies between them.
  await insertScores(series.id, modelVersionId, {
    10: 0.91,
    12: 0.95,
    30: 0.999,
    40: 0.93,
    45: 0.99,
  });
  const incidentA = await insertIncident(service.id, series.id, "detector", 10, 20);
  const incidentB = await insertIncident(service.id, series.id, "detector", 40, null);
  const alertIncident = await insertIncident(service.id, null, "alert", 50, null);

  // These users never log in with a password; the tests send a session
  // cookie instead, so a placeholder replaces the bcrypt hash.
  const responder = await prisma.user.create({
    data: {
      email: "rui@example.test",
      name: "Rui Responder",
      passwordHash: "-",
      role: "responder",
    },
    select: { id: true, name: true },
  });
  const viewer = await prisma.user.create({
    data: {
      email: "vera@example.test",
      name: "Vera Viewer",
      passwordHash: "-",
      role: "viewer",
    },
    select: { id: true, name: true },
  });

  const adminToken = (await createApiToken({ name: "oncall-bot", scope: "admin" })).token;
  const ingestToken = (await createApiToken({ name: "exporter", scope: "ingest" })).token;
  const boundAdminToken = (
    await createApiToken({ name: "billing-bot", scope: "admin", serviceId: other.id })
  ).token;

  return {
    serviceId: service.id,
    otherServiceId: other.id,
    seriesId: series.id,
    modelVersionId,
    incidentA,
    incidentB,
    peakA: 0.95,
    peakB: 0.99,
    alertIncident,
    responder,
    viewer,
    adminToken,
    ingestToken,
    boundAdminToken,
  };
}

async function sessionCookie(user: { id: number; name: string }): Promise<string> {
  const token = await encode({
    token: { userId: user.id, name: user.name, sub: String(user.id) },
    secret: SESSION_SECRET,
  });
  return `next-auth.session-token=${token}`;
}

type Auth = { token?: string; cookie?: string; origin?: string };

async function post(
  incidentId: number | string,
  body: unknown,
  auth: Auth = { token: fixture.adminToken },
  contentType = "application/json",
) {
  const headers: Record<string, string> = { host: HOST, "content-type": contentType };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.origin) headers.origin = auth.origin;
  const response = await POST(
    new Request(`http://${HOST}/api/v1/incidents/${incidentId}/feedback`, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    { params: Promise.resolve({ id: String(incidentId) }) },
  );
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** Everything a feedback request may write, to compare before and after. */
async function writes() {
  const pool = getPool();
  const [feedback, events, threshold] = await Promise.all([
    pool.query("SELECT count(*)::int AS n FROM incident_feedback"),
    pool.query("SELECT count(*)::int AS n FROM incident_event"),
    pool.query<{ alarm_threshold: number | null }>(
      "SELECT alarm_threshold FROM metric_series WHERE id = $1",
      [fixture.seriesId],
    ),
  ]);
  return {
    feedback: feedback.rows[0].n as number,
    events: events.rows[0].n as number,
    threshold: threshold.rows[0]!.alarm_threshold,
  };
}

async function alarmThreshold(): Promise<number | null> {
  return (await writes()).threshold;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  fixture = await createFixture();
});

afterAll(async () => {
  await closeDb();
});

describe("POST /api/v1/incidents/{id}/feedback", () => {
  it("records a false alarm and raises the threshold", async () => {
    const response = await post(fixture.incidentA, {
      verdict: "false_alarm",
      comment: "  Nightly batch job  ",
    });

    expect(response.status).toBe(201);
    expect(response.json.outcome).toBe("recorded");
    expect(response.json.previousVerdict).toBeNull();
    expect(response.json.feedback).toMatchObject({
      incidentId: fixture.incidentA,
      seriesId: fixture.seriesId,
      modelVersionId: fixture.modelVersionId,
      verdict: "false_alarm",
      comment: "Nightly batch job",
      peakLikelihood: fixture.peakA,
      actorName: "API token oncall-bot",
    });
    const expected = thresholdFromFeedback([
      { verdict: "false_alarm", peakLikelihood: fixture.peakA },
    ]);
    expect(expected).not.toBeNull();
    expect(expected!).toBeGreaterThan(fixture.peakA);
    expect(response.json.alarmThreshold).toEqual({ before: null, after: expected });
    expect(await alarmThreshold()).toBe(expected);

    const { rows: events } = await getPool().query(
      `SELECT kind, actor_type, actor_id, actor_name, message, data
         FROM incident_event WHERE incident_id = $1`,
      [fixture.incidentA],
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "feedback",
      actor_type: "token",
      actor_name: "API token oncall-bot",
    });
    expect(events[0].message).toContain(
      "API token oncall-bot marked this incident as a false alarm.",
    );
    expect(events[0].message).toContain("Comment: Nightly batch job.");
    expect(events[0].message).toContain(
      `changed from the default ${DEFAULT_SETTINGS.alarmThreshold.toFixed(4)} to ${expected!.toFixed(4)}.`,
    );
    expect(events[0].data).toMatchObject({
      verdict: "false_alarm",
      previousVerdict: null,
      peakLikelihood: fixture.peakA,
    });
  });

  it("repeats idempotently", async () => {
    const first = await post(fixture.incidentA, { verdict: "false_alarm" });
    const before = await writes();

    const second = await post(fixture.incidentA, { verdict: "false_alarm" });

    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.json.outcome).toBe("unchanged");
    expect(second.json.feedback.id).toBe(first.json.feedback.id);
    expect(second.json.alarmThreshold).toEqual({
      before: before.threshold,
      after: before.threshold,
    });
    expect(await writes()).toEqual(before);
  });

  it("records another actor's agreement", async () => {
    await post(fixture.incidentA, { verdict: "false_alarm" });
    const threshold = await alarmThreshold();

    const response = await post(
      fixture.incidentA,
      { verdict: "false_alarm" },
      { cookie: await sessionCookie(fixture.responder), origin: `http://${HOST}` },
    );

    expect(response.status).toBe(201);
    expect(response.json.feedback.actorName).toBe("Rui Responder");
    expect(await alarmThreshold()).toBe(threshold);
    expect((await writes()).feedback).toBe(2);
  });

  it("serialises verdicts on one series", async () => {
    // Both requests run at once. Each recomputation must include the other
    // verdict if it committed first, so the result covers both.
    const [first, second] = await Promise.all([
      post(fixture.incidentA, { verdict: "false_alarm" }),
      post(fixture.incidentB, { verdict: "false_alarm" }),
    ]);

    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(await alarmThreshold()).toBe(
      thresholdFromFeedback([
        { verdict: "false_alarm", peakLikelihood: fixture.peakA },
        { verdict: "false_alarm", peakLikelihood: fixture.peakB },
      ]),
    );
  });

  it("records a new comment as a new verdict", async () => {
    await post(fixture.incidentA, { verdict: "false_alarm" });
    const threshold = await alarmThreshold();

    const response = await post(fixture.incidentA, {
      verdict: "false_alarm",
      comment: "Confirmed with the batch team",
    });

    expect(response.status).toBe(201);
    expect(response.json.previousVerdict).toBe("false_alarm");
    expect(await alarmThreshold()).toBe(threshold);
    expect((await writes()).feedback).toBe(2);
  });

  it("trims before the length limit", async () => {
    const comment = "x".repeat(1990);

    const response = await post(fixture.incidentA, {
      verdict: "real",
      comment: `  ${comment}${" ".repeat(20)}`,
    });

    expect(response.status).toBe(201);
    expect(response.json.feedback.comment).toBe(comment);
  });

  it("changes the verdict and keeps history", async () => {
    await post(fixture.incidentA, { verdict: "false_alarm" });
    expect(await alarmThreshold()).not.toBeNull();

    const response = await post(fixture.incidentA, { verdict: "real" });

    expect(response.status).toBe(201);
    expect(response.json.previousVerdict).toBe("false_alarm");
    expect(response.json.alarmThreshold.after).toBeNull();
    expect(await alarmThreshold()).toBeNull();
    const { rows } = await getPool().query(
      "SELECT verdict FROM incident_feedback WHERE incident_id = $1 ORDER BY id",
      [fixture.incidentA],
    );
    expect(rows.map((row) => row.verdict)).toEqual(["false_alarm", "real"]);
    const { rows: events } = await getPool().query(
      "SELECT message FROM incident_event WHERE incident_id = $1 ORDER BY id",
      [fixture.incidentA],
    );
    expect(events).toHaveLength(2);
    expect(events[1].message).toContain(
      "changed the verdict from a false alarm to a real anomaly",
    );
  });

  it("gives the same threshold in any order", async () => {
    await post(fixture.incidentB, { verdict: "real" });
    await post(fixture.incidentA, { verdict: "false_alarm" });
    const forward = await alarmThreshold();

    await truncateAll(process.env.DATABASE_URL!);
    fixture = await createFixture();
    await post(fixture.incidentA, { verdict: "false_alarm" });
    await post(fixture.incidentB, { verdict: "real" });
    const backward = await alarmThreshold();

    expect(forward).not.toBeNull();
    expect(backward).toBe(forward);
    expect(forward).toBe(
      thresholdFromFeedback([
        { verdict: "false_alarm", peakLikelihood: fixture.peakA },
        { verdict: "real", peakLikelihood: fixture.peakB },
      ]),
    );
  });

  it("keeps the threshold at a real peak", async () => {
    // B (0.99) is a false alarm and A (0.95) real: the threshold may not
    // pass A's peak, or A would go undetected.
    await post(fixture.incidentA, { verdict: "real" });
    await post(fixture.incidentB, { verdict: "false_alarm" });

    expect(await alarmThreshold()).toBe(fixture.peakA);
  });

  it("takes an open incident's peak so far", async () => {
    const response = await post(fixture.incidentB, { verdict: "false_alarm" });

    expect(response.json.feedback.peakLikelihood).toBe(fixture.peakB);
  });

  it("accepts a responder's session", async () => {
    const response = await post(
      fixture.incidentA,
      { verdict: "real" },
      { cookie: await sessionCookie(fixture.responder), origin: `http://${HOST}` },
    );

    expect(response.status).toBe(201);
    expect(response.json.feedback.actorName).toBe("Rui Responder");
    const { rows } = await getPool().query(
      "SELECT user_id, token_id FROM incident_feedback",
    );
    expect(rows).toEqual([{ user_id: fixture.responder.id, token_id: null }]);
    const { rows: events } = await getPool().query(
      "SELECT actor_type, actor_id FROM incident_event",
    );
    expect(events).toEqual([{ actor_type: "user", actor_id: fixture.responder.id }]);
  });

  it("accepts the HTTPS session cookie", async () => {
    const cookie = (await sessionCookie(fixture.responder)).replace(
      "next-auth.session-token",
      "__Secure-next-auth.session-token",
    );

    const response = await post(fixture.incidentA, { verdict: "real" }, { cookie });

    expect(response.status).toBe(201);
    expect(response.json.feedback.actorName).toBe("Rui Responder");
  });

  it("rolls back when a write fails", async () => {
    // A trigger makes the timeline insert fail after the feedback row and
    // before the threshold update of the same transaction.
    await getPool().query(`
      CREATE FUNCTION fail_feedback_event() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER fail_feedback_event BEFORE INSERT ON incident_event
        FOR EACH ROW WHEN (NEW.kind = 'feedback')
        EXECUTE FUNCTION fail_feedback_event();`);
    try {
      const before = await writes();

      const response = await post(fixture.incidentA, { verdict: "false_alarm" });

      expect(response.status).toBe(500);
      expect(response.json.error.code).toBe("internal_error");
      expect(await writes()).toEqual(before);
    } finally {
      await getPool().query(`
        DROP TRIGGER fail_feedback_event ON incident_event;
        DROP FUNCTION fail_feedback_event();`);
    }
  });

  describe("rejections", () => {
    type Case = {
      name: string;
      request: () => Promise<{ status: number; json: Record<string, any> }>;
      status: number;
      code: string;
      field?: string;
      message: RegExp;
    };
    const cases: Case[] = [
      {
        name: "no credentials",
        request: () => post(fixture.incidentA, { verdict: "real" }, {}),
        status: 401,
        code: "unauthorized",
        message: /no valid session or API token/,
      },
      {
        name: "unknown token",
        request: () =>
          post(fixture.incidentA, { verdict: "real" }, { token: `vgl_${"A".repeat(43)}` }),
        status: 401,
        code: "unauthorized",
        message: /invalid API token/,
      },
      {
        name: "ingest token",
        request: () =>
          post(fixture.incidentA, { verdict: "real" }, { token: fixture.ingestToken }),
        status: 403,
        code: "insufficient_scope",
        message: /needs scope admin/,
      },
      {
        name: "token of another service",
        request: () =>
          post(fixture.incidentA, { verdict: "real" }, { token: fixture.boundAdminToken }),
        status: 403,
        code: "forbidden",
        message: /bound to another service/,
      },
      {
        name: "viewer session",
        request: async () =>
          post(
            fixture.incidentA,
            { verdict: "real" },
            { cookie: await sessionCookie(fixture.viewer) },
          ),
        status: 403,
        code: "forbidden",
        message: /your role \(viewer\) cannot give feedback/,
      },
      {
        name: "session from another origin",
        request: async () =>
          post(
            fixture.incidentA,
            { verdict: "real" },
            { cookie: await sessionCookie(fixture.responder), origin: "https://evil.example" },
          ),
        status: 403,
        code: "cross_origin",
        field: "Origin",
        message: /does not match host/,
      },
      {
        name: "session without JSON type",
        request: async () =>
          post(
            fixture.incidentA,
            "verdict=real",
            { cookie: await sessionCookie(fixture.responder) },
            "application/x-www-form-urlencoded",
          ),
        status: 415,
        code: "unsupported_media_type",
        field: "Content-Type",
        message: /Content-Type must be application\/json/,
      },
      {
        name: "unknown incident",
        request: () => post(999_999, { verdict: "real" }),
        status: 404,
        code: "not_found",
        field: "id",
        message: /incident 999999 not found/,
      },
      {
        name: "alert incident",
        request: () => post(fixture.alertIncident, { verdict: "false_alarm" }),
        status: 422,
        code: "not_a_detector_incident",
        field: "id",
        message: /opened by an alert, not by the anomaly detector/,
      },
      {
        name: "malformed incident id",
        request: () => post("12abc", { verdict: "real" }),
        status: 400,
        code: "invalid_field",
        field: "id",
        message: /incident id must be a positive integer/,
      },
      {
        name: "unknown verdict",
        request: () => post(fixture.incidentA, { verdict: "maybe" }),
        status: 400,
        code: "invalid_field",
        field: "verdict",
        message: /verdict must be one of real, false_alarm, got "maybe"/,
      },
      {
        name: "missing verdict",
        request: () => post(fixture.incidentA, { comment: "hm" }),
        status: 400,
        code: "invalid_field",
        field: "verdict",
        message: /verdict must be one of real, false_alarm, got nothing/,
      },
      {
        name: "unknown field",
        request: () => post(fixture.incidentA, { verdict: "real", note: "x" }),
        status: 400,
        code: "invalid_field",
        field: "note",
        message: /note is not a known field/,
      },
      {
        name: "comment too long",
        request: () =>
          post(fixture.incidentA, { verdict: "real", comment: "x".repeat(2001) }),
        status: 400,
        code: "invalid_field",
        field: "comment",
        message: /comment must contain at most 2000 characters/,
      },
      {
        name: "comment with NUL",
        request: () => post(fixture.incidentA, { verdict: "real", comment: "a\u0000b" }),
        status: 400,
        code: "invalid_field",
        field: "comment",
        message: /comment contains the NUL character \(U\+0000\) at position 1/,
      },
      {
        name: "comment with lone surrogate",
        request: () => post(fixture.incidentA, { verdict: "real", comment: "a\ud800b" }),
        status: 400,
        code: "invalid_field",
        field: "comment",
        message: /comment contains an unpaired UTF-16 surrogate \(U\+D800\) at position 1/,
      },
      {
        name: "invalid JSON",
        request: () => post(fixture.incidentA, "{verdict: real"),
        status: 400,
        code: "invalid_json",
        message: /JSON/,
      },
    ];

    for (const testCase of cases) {
      it(`rejects ${testCase.name}`, async () => {
        const before = await writes();

        const response = await testCase.request();

        expect(response.status).toBe(testCase.status);
        expect(response.json.error.code).toBe(testCase.code);
        expect(response.json.error.message).toMatch(testCase.message);
        if (testCase.field) {
          expect(response.json.error.field).toBe(testCase.field);
        }
        expect(await writes()).toEqual(before);
      });
    }
  });
});

// The Feedback card's server action passes its arguments to recordFeedback
// unparsed, so these cases reach it without the route's checks.
describe("recordFeedback input", () => {
  type Case = { name: string; incidentId: () => number; comment: string; field: string; message: RegExp };
  const cases: Case[] = [
    {
      name: "id above the int4 range",
      incidentId: () => 2_147_483_648,
      comment: "",
      field: "id",
      message: /incident id must be a positive integer up to 2147483647, got 2147483648/,
    },
    {
      name: "twelve-digit id",
      incidentId: () => 999_999_999_999,
      comment: "",
      field: "id",
      message: /incident id must be a positive integer up to 2147483647/,
    },
    {
      name: "comment with NUL",
      incidentId: () => fixture.incidentA,
      comment: "a\u0000b",
      field: "comment",
      message: /NUL character/,
    },
    {
      name: "comment with lone surrogate",
      incidentId: () => fixture.incidentA,
      comment: "a\udc00b",
      field: "comment",
      message: /unpaired UTF-16 surrogate \(U\+DC00\)/,
    },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, async () => {
      const before = await writes();

      const result = recordFeedback({
        incidentId: testCase.incidentId(),
        verdict: "real",
        comment: testCase.comment,
        actor: { kind: "user", id: fixture.responder.id, name: fixture.responder.name },
      });

      const error = await result.then(
        () => null,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(FeedbackError);
      expect((error as FeedbackError).status).toBe(400);
      expect((error as FeedbackError).field).toBe(testCase.field);
      expect((error as FeedbackError).message).toMatch(testCase.message);
      expect(await writes()).toEqual(before);
    });
  }

  it("keeps surrogate pairs", async () => {
    const result = await recordFeedback({
      incidentId: fixture.incidentA,
      verdict: "real",
      comment: "ok 😀",
      actor: { kind: "user", id: fixture.responder.id, name: fixture.responder.name },
    });

    expect(result.outcome).toBe("recorded");
    expect(result.feedback.comment).toBe("ok 😀");
  });
});

describe("GET /api/v1/incidents/{id}/feedback", () => {
  async function get(incidentId: number, auth: Auth) {
    const headers: Record<string, string> = { host: HOST };
    if (auth.token) headers.authorization = `Bearer ${auth.token}`;
    if (auth.cookie) headers.cookie = auth.cookie;
    const response = await GET(
      new Request(`http://${HOST}/api/v1/incidents/${incidentId}/feedback`, {
        headers,
      }),
      { params: Promise.resolve({ id: String(incidentId) }) },
    );
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  }

  it("returns verdicts, threshold and precision", async () => {
    await post(fixture.incidentA, { verdict: "real" });
    await post(fixture.incidentA, { verdict: "false_alarm", comment: "Batch job" });

    const response = await get(fixture.incidentA, { token: fixture.ingestToken });

    expect(response.status).toBe(200);
    expect(response.json.verdict).toBe("false_alarm");
    expect(response.json.seriesId).toBe(fixture.seriesId);
    expect(response.json.history.map((entry: any) => entry.verdict)).toEqual([
      "false_alarm",
      "real",
    ]);
    expect(response.json.history[0].comment).toBe("Batch job");
    expect(response.json.alarmThreshold).toEqual({
      value: await alarmThreshold(),
      fromFeedback: true,
    });
    expect(response.json.likelihood.onset.likelihood).toBe(0.91);
    expect(response.json.likelihood.peak.likelihood).toBe(fixture.peakA);
    expect(response.json.precision.series).toEqual({
      seriesId: fixture.seriesId,
      real: 0,
      falseAlarm: 1,
      precision: 0,
    });
    expect(response.json.precision.modelVersion.modelVersionId).toBe(
      fixture.modelVersionId,
    );
  });

  it("lets a viewer read", async () => {
    const response = await get(fixture.incidentB, {
      cookie: await sessionCookie(fixture.viewer),
    });

    expect(response.status).toBe(200);
    expect(response.json.verdict).toBeNull();
    expect(response.json.alarmThreshold.fromFeedback).toBe(false);
    expect(response.json.alarmThreshold.value).toBe(DEFAULT_SETTINGS.alarmThreshold);
  });

  it("rejects unknown and alert incidents", async () => {
    const unknown = await get(999_999, { token: fixture.ingestToken });
    const alert = await get(fixture.alertIncident, { token: fixture.ingestToken });
    const anonymous = await get(fixture.incidentA, {});

    expect(unknown.status).toBe(404);
    expect(alert.status).toBe(422);
    expect(anonymous.status).toBe(401);
  });
});

describe("feedbackPrecision", () => {
  it("counts newest verdicts per series and model", async () => {
    await post(fixture.incidentA, { verdict: "real" });
    await post(fixture.incidentA, { verdict: "false_alarm" });
    await post(fixture.incidentB, { verdict: "real" });

    const precision = await feedbackPrecision(getPool());

    expect(precision.total).toEqual({ real: 1, falseAlarm: 1, precision: 0.5 });
    expect(precision.series).toEqual([
      { seriesId: fixture.seriesId, real: 1, falseAlarm: 1, precision: 0.5 },
    ]);
    expect(precision.modelVersions).toEqual([
      {
        modelVersionId: fixture.modelVersionId,
        seriesId: fixture.seriesId,
        version: 1,
        real: 1,
        falseAlarm: 1,
        precision: 0.5,
      },
    ]);
  });

  it("filters by series and model version", async () => {
    await post(fixture.incidentA, { verdict: "false_alarm" });

    const other = await feedbackPrecision(getPool(), { seriesIds: [fixture.seriesId + 1] });
    const byModel = await feedbackPrecision(getPool(), {
      modelVersionIds: [fixture.modelVersionId],
    });

    expect(other.series).toEqual([]);
    expect(other.total.precision).toBeNull();
    expect(byModel.total).toEqual({ real: 0, falseAlarm: 1, precision: 0 });
  });

  it("rejects ids that are not integers", async () => {
    await expect(feedbackPrecision(getPool(), { seriesIds: [1.5] })).rejects.toThrow(
      /seriesIds must contain positive integers only/,
    );
  });
});
