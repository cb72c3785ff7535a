import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "runbook-steps-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import { POST as alertmanagerRoute } from "@/app/api/v1/alerts/alertmanager/route";
import { POST as createChannelRoute } from "@/app/api/v1/notification-channels/route";
import { GET as getRunRoute } from "@/app/api/v1/incidents/[id]/runbook-steps/[runId]/route";
import { GET as listStepsRoute, POST as runStepRoute } from "@/app/api/v1/incidents/[id]/runbook-steps/route";
import { createApiToken } from "@/lib/auth/api-token";
import { resetClock, setClock } from "@/lib/clock";
import { closeDb, getPool } from "@/lib/db";
import { recordEpisode, type ScoredPoint } from "@/lib/incidents/detector";
import { logger } from "@/lib/logger";
import { enqueueTestNotification } from "@/lib/notifications/enqueue";
import { enqueueAutomaticRunbooks } from "@/lib/runbooks/automatic";
import { checkDestination } from "@/lib/runbooks/allowlist";
import {
  runStepAttempt,
  TASK_RUN_RUNBOOK_STEP,
  type StepAttemptOutcome,
  type StepRunOptions,
} from "@/lib/runbooks/step-runs";
import { truncateAll } from "@/tests/support/database";
import {
  callRoute,
  sessionCookieFor,
  type Auth,
  type Json,
  type RouteHandler,
} from "@/tests/support/route-calls";
import { startStepPeer, type StepPeer } from "@/tests/support/step-peers";
import { startWorker } from "@/workers/main";

// Runbook steps against real HTTP peers on 127.0.0.1: the run API, one
// attempt per job with retries and timeouts, the allowlist checked on every
// attempt, automatic runbooks at most once per incident with two workers,
// and suppression by a maintenance window.

const BASE = "http://127.0.0.1:3261/api/v1";
const OPTIONS: StepRunOptions = { retryBaseSeconds: 0.2, publicUrl: "http://vigil.test:3000" };

const users: Record<"admin" | "responder" | "viewer", { id: number; name: string }> = {} as never;
let adminToken: string;
let ingestToken: string;
let serviceId: number;
let incidentId: number;
const peers: StepPeer[] = [];

function call(
  handler: RouteHandler,
  method: string,
  path: string,
  auth: Auth,
  body?: unknown,
  params: Record<string, string> = {},
) {
  return callRoute(handler, method, `${BASE}${path}`, auth, body, params);
}

function sessionCookie(user: { id: number; name: string }): Promise<string> {
  return sessionCookieFor(user, SESSION_SECRET);
}

async function peer(...script: Parameters<typeof startStepPeer>[0]): Promise<StepPeer> {
  const started = await startStepPeer(script);
  peers.push(started);
  return started;
}

async function allow(host: string, port: number | null = null): Promise<void> {
  await getPool().query(
    `INSERT INTO runbook_allowed_host (host, port, actor_type, actor_name)
     VALUES ($1, $2, 'system', 'test')`,
    [host, port],
  );
}

/** Adds a runbook with these steps and suggests it for the incident. */
async function addRunbook(
  slug: string,
  steps: unknown[],
  options: { automatic?: boolean; incident?: number } = {},
): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO runbook (slug, title, body, steps, automatic, current_version)
     VALUES ($1, $2, 'Do the thing.', $3::jsonb, $4, 1) RETURNING id`,
    [slug, `Runbook ${slug}`, JSON.stringify(steps), options.automatic ?? false],
  );
  const runbookId = rows[0]!.id;
  await getPool().query(
    `INSERT INTO incident_runbook (incident_id, runbook_id, score, reason)
     VALUES ($1, $2, 1, 'test')`,
    [options.incident ?? incidentId, runbookId],
  );
  return runbookId;
}

function step(id: string, url: string, extra: Json = {}): Json {
  return { id, title: `Step ${id}`, method: "POST", url, timeoutSeconds: 5, retries: 2, ...extra };
}

async function attempt(runId: number): Promise<StepAttemptOutcome> {
  const client = await getPool().connect();
  try {
    return await runStepAttempt(client, runId, OPTIONS, logger);
  } finally {
    client.release();
  }
}

async function runRow(runId: number): Promise<Json> {
  const { rows } = await getPool().query("SELECT * FROM runbook_step_run WHERE id = $1", [runId]);
  return rows[0]!;
}

async function events(kindPrefix = "runbook_step"): Promise<Json[]> {
  const { rows } = await getPool().query(
    `SELECT kind, actor_type, actor_name, message, data FROM incident_event
      WHERE incident_id = $1 AND kind LIKE $2 || '%' ORDER BY id`,
    [incidentId, kindPrefix],
  );
  return rows;
}

async function jobCount(): Promise<number> {
  const { rows } = await getPool().query<{ count: number }>(
    `SELECT count(*)::int AS count FROM graphile_worker.jobs WHERE task_identifier = $1`,
    [TASK_RUN_RUNBOOK_STEP],
  );
  return rows[0]!.count;
}

/** Queues a manual run as the responder and returns its id. */
async function runAsResponder(runbookId: number, stepId: string): Promise<number> {
  const response = await call(
    runStepRoute,
    "POST",
    `/incidents/${incidentId}/runbook-steps`,
    { cookie: await sessionCookie(users.responder) },
    { runbookId, stepId },
    { id: String(incidentId) },
  );
  expect(response.status, JSON.stringify(response.json)).toBe(202);
  return response.json.run.id as number;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  for (const role of ["admin", "responder", "viewer"] as const) {
    const { rows } = await getPool().query<{ id: number; name: string }>(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ($1, $2, '-', $3) RETURNING id, name`,
      [`${role}@example.test`, `Test ${role}`, role],
    );
    users[role] = rows[0]!;
  }
  adminToken = (await createApiToken({ name: "ops-bot", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "exporter", scope: "ingest" })).token;
  const service = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout') RETURNING id",
  );
  serviceId = service.rows[0]!.id;
  const incident = await getPool().query<{ id: number }>(
    `INSERT INTO incident (service_id, title, status, severity, source, dedup_key, opened_at)
     VALUES ($1, 'Latency "spike" on /pay & co', 'triggered', 'sev2', 'manual', 'steps-test', now())
     RETURNING id`,
    [serviceId],
  );
  incidentId = incident.rows[0]!.id;
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((started) => started.close()));
});

afterAll(async () => {
  await closeDb();
});

describe("manual step runs", () => {
  it("sends the rendered request and records the response", async () => {
    const receiver = await peer({ status: 200, body: "restarted 3 pods" });
    await allow("127.0.0.1", receiver.port);
    const runbookId = await addRunbook("restart", [
      step("restart", `${receiver.origin}/restart/{{incident.id}}?service={{service.slug}}&title={{incident.title}}`, {
        headers: { "X-Incident": "{{incident.severity}}" },
        body: {
          incident: "{{incident.id}}",
          title: "{{incident.title}}",
          link: "{{incident.url}}",
          nested: ["{{service.name}}"],
        },
      }),
    ]);

    const runId = await runAsResponder(runbookId, "restart");
    expect(await jobCount()).toBe(1);
    const queued = await runRow(runId);
    expect(queued.status).toBe("queued");
    expect(queued.actor_type).toBe("user");
    expect(queued.actor_name).toBe("Test responder");
    expect(queued.runbook_version).toBe(1);

    const outcome = await attempt(runId);
    expect(outcome).toMatchObject({ outcome: "succeeded", attempt: 1, status: 200 });

    expect(receiver.requests).toHaveLength(1);
    const received = receiver.requests[0]!;
    expect(received.method).toBe("POST");
    expect(received.path).toBe(
      `/restart/${incidentId}?service=checkout&title=${encodeURIComponent('Latency "spike" on /pay & co')}`,
    );
    expect(received.headers["x-incident"]).toBe("sev2");
    expect(received.headers["content-type"]).toBe("application/json");
    expect(received.headers["user-agent"]).toBe("Vigil runbook step");
    expect(JSON.parse(received.body)).toEqual({
      incident: String(incidentId),
      title: 'Latency "spike" on /pay & co',
      link: `http://vigil.test:3000/incidents/${incidentId}`,
      nested: ["Checkout"],
    });

    const finished = await runRow(runId);
    expect(finished.status).toBe("succeeded");
    expect(finished.attempts).toBe(1);
    expect(finished.response_status).toBe(200);
    expect(finished.response_body).toBe("restarted 3 pods");
    expect(finished.finished_at).not.toBeNull();

    const timeline = await events();
    expect(timeline.map((event) => event.kind)).toEqual(["runbook_step_queued", "runbook_step_succeeded"]);
    expect(timeline[0]!.actor_name).toBe("Test responder");
    expect(timeline[1]!.actor_type).toBe("worker");
    expect(timeline[1]!.message).toContain("HTTP 200");
    expect(timeline[1]!.message).toContain("restarted 3 pods");
    expect(timeline[1]!.data.responseStatus).toBe(200);
  });

  it("retries a 500 with backoff, then succeeds", async () => {
    const flaky = await peer({ status: 500, body: "database locked" }, { status: 200, body: "ok now" });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("flaky", [step("flush", `${flaky.origin}/flush`)]);
    const runId = await runAsResponder(runbookId, "flush");

    const first = await attempt(runId);
    expect(first).toEqual({ outcome: "retrying", attempt: 1, retryInSeconds: 0.2 });
    const retrying = await runRow(runId);
    expect(retrying.status).toBe("running");
    expect(retrying.response_status).toBe(500);
    expect(retrying.response_body).toBe("database locked");
    expect(retrying.next_attempt_at).not.toBeNull();
    const { rows: jobs } = await getPool().query<{ run_at: Date; key: string }>(
      `SELECT run_at, key FROM graphile_worker.jobs WHERE task_identifier = $1`,
      [TASK_RUN_RUNBOOK_STEP],
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.key).toBe(`runbook-step-run:${runId}`);

    const second = await attempt(runId);
    expect(second).toMatchObject({ outcome: "succeeded", attempt: 2 });
    expect(flaky.requests).toHaveLength(2);

    const { rows: attempts } = await getPool().query(
      "SELECT attempt, succeeded, response_status FROM runbook_step_run_attempt WHERE run_id = $1 ORDER BY attempt",
      [runId],
    );
    expect(attempts).toEqual([
      { attempt: 1, succeeded: false, response_status: 500 },
      { attempt: 2, succeeded: true, response_status: 200 },
    ]);
    const timeline = await events();
    expect(timeline.map((event) => event.kind)).toEqual(["runbook_step_queued", "runbook_step_succeeded"]);
    expect(timeline[1]!.message).toContain("after 2 attempts");

    const again = await attempt(runId);
    expect(again).toEqual({ outcome: "skipped", reason: "already succeeded" });
    expect(flaky.requests).toHaveLength(2);
  });

  it("gives up after the last retry", async () => {
    const broken = await peer({ status: 503, body: "down" });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("broken", [step("ping", `${broken.origin}/ping`, { retries: 1 })]);
    const runId = await runAsResponder(runbookId, "ping");

    expect((await attempt(runId)).outcome).toBe("retrying");
    expect(await attempt(runId)).toMatchObject({ outcome: "failed", attempt: 2, status: 503 });
    expect(broken.requests).toHaveLength(2);
    const run = await runRow(runId);
    expect(run.status).toBe("failed");
    expect(run.error).toBe("HTTP 503");
    const timeline = await events();
    expect(timeline.at(-1)!.kind).toBe("runbook_step_failed");
    expect(timeline.at(-1)!.message).toContain("failed after 2 attempts: HTTP 503; response: down");
  });

  it("does not retry a 4xx response", async () => {
    const rejecting = await peer({ status: 422, body: "unknown pod" });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("rejecting", [step("kill", `${rejecting.origin}/kill`)]);
    const runId = await runAsResponder(runbookId, "kill");
    expect(await attempt(runId)).toMatchObject({ outcome: "failed", attempt: 1, status: 422 });
    expect(rejecting.requests).toHaveLength(1);
    expect(await jobCount()).toBe(1);
  });

  it("times out a hanging peer", async () => {
    const hanging = await peer("hang");
    await allow("127.0.0.1");
    const runbookId = await addRunbook("hang", [
      step("wait", `${hanging.origin}/wait`, { timeoutSeconds: 1, retries: 0 }),
    ]);
    const runId = await runAsResponder(runbookId, "wait");

    const startedAt = Date.now();
    expect(await attempt(runId)).toMatchObject({ outcome: "failed", attempt: 1, status: null });
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5000);
    expect(hanging.requests).toHaveLength(1);
    const run = await runRow(runId);
    expect(run.status).toBe("failed");
    expect(run.error).toBe("timed out after 1 s");
    expect(run.duration_ms).toBeGreaterThanOrEqual(950);
  });

  it("keeps only the first 4 KB of a response", async () => {
    const verbose = await peer({ status: 200, body: "x".repeat(100_000) });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("verbose", [step("dump", `${verbose.origin}/dump`, { method: "GET" })]);
    const runId = await runAsResponder(runbookId, "dump");
    expect((await attempt(runId)).outcome).toBe("succeeded");
    const run = await runRow(runId);
    expect(run.response_body).toHaveLength(4096);
    expect(verbose.requests[0]!.method).toBe("GET");
  });

  it("stores a response with NUL bytes", async () => {
    const binary = await peer({ status: 200, body: "ok\u0000done" });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("binary", [step("dump", `${binary.origin}/dump`)]);
    const runId = await runAsResponder(runbookId, "dump");
    expect((await attempt(runId)).outcome).toBe("succeeded");
    expect((await runRow(runId)).response_body).toBe("ok\uFFFDdone");
  });

  it("sends a title outside Latin-1 in a header", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    await getPool().query("UPDATE incident SET title = 'Checkout down 🔥\nnow' WHERE id = $1", [incidentId]);
    const runbookId = await addRunbook("unicode", [
      step("tag", `${receiver.origin}/tag?t={{incident.title}}`, {
        headers: { "X-Title": "{{incident.title}}" },
        body: { title: "{{incident.title}}" },
      }),
    ]);
    const runId = await runAsResponder(runbookId, "tag");
    expect((await attempt(runId)).outcome).toBe("succeeded");
    const received = receiver.requests[0]!;
    expect(received.headers["x-title"]).toBe("Checkout down ?? now");
    expect(JSON.parse(received.body)).toEqual({ title: "Checkout down 🔥\nnow" });
    expect(new URL(received.path, "http://x").searchParams.get("t")).toBe("Checkout down 🔥\nnow");
  });

  it.each([
    [".", "%2E"],
    ["..", "%2E%2E"],
  ])("keeps the title %s as a path segment", async (title, encoded) => {
    await getPool().query("UPDATE incident SET title = $2 WHERE id = $1", [incidentId, title]);
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1", receiver.port);
    const runbookId = await addRunbook("ack", [
      step("ack", `${receiver.origin}/api/v1/incidents/{{incident.title}}/ack?title={{incident.title}}`),
    ]);

    const outcome = await attempt(await runAsResponder(runbookId, "ack"));

    expect(outcome.outcome).toBe("succeeded");
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.path).toBe(`/api/v1/incidents/${encoded}/ack?title=${encoded}`);
  });

  it("form-encodes the title in a form body", async () => {
    const title = "FormTest: x&action=drop_database&confirm=yes";
    await getPool().query("UPDATE incident SET title = $2 WHERE id = $1", [incidentId, title]);
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1", receiver.port);
    const runbookId = await addRunbook("form", [
      step("restart", `${receiver.origin}/restart`, {
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "incident={{incident.title}}&action=restart",
      }),
    ]);

    const outcome = await attempt(await runAsResponder(runbookId, "restart"));

    expect(outcome.outcome).toBe("succeeded");
    const form = new URLSearchParams(receiver.requests[0]!.body);
    expect(form.get("incident")).toBe(title);
    expect(form.getAll("action")).toEqual(["restart"]);
    expect(form.has("confirm")).toBe(false);
  });

  it("rejects a stored text body with variables", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1", receiver.port);
    // A row written before the schema rejected such a body.
    const runbookId = await addRunbook("plain", [
      step("restart", `${receiver.origin}/restart`, { body: "incident={{incident.title}}&action=restart" }),
    ]);

    const response = await call(
      runStepRoute,
      "POST",
      `/incidents/${incidentId}/runbook-steps`,
      { cookie: await sessionCookie(users.responder) },
      { runbookId, stepId: "restart" },
      { id: String(incidentId) },
    );

    expect(response.status).toBe(409);
    expect(response.json.error.message).toContain("steps[0].body uses template variables");
    expect(await jobCount()).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });

  it("does not follow a redirect", async () => {
    const target = await peer({ status: 200, body: "should not be reached" });
    const redirecting = await peer({ status: 302, headers: { location: `${target.origin}/elsewhere` } });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("redirect", [step("go", `${redirecting.origin}/go`)]);
    const runId = await runAsResponder(runbookId, "go");

    expect(await attempt(runId)).toMatchObject({ outcome: "failed", attempt: 1, status: 302 });
    expect(redirecting.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    const run = await runRow(runId);
    expect(run.error).toContain(`redirect to ${target.origin}/elsewhere not followed`);
  });
});

describe("allowlist at run time", () => {
  it("refuses a port not on the allowlist", async () => {
    const allowed = await peer({ status: 200 });
    const other = await peer({ status: 200 });
    await allow("127.0.0.1", allowed.port);
    const runbookId = await addRunbook("ports", [step("call", `${other.origin}/call`)]);
    const runId = await runAsResponder(runbookId, "call");

    const outcome = await attempt(runId);
    expect(outcome.outcome).toBe("refused");
    expect(other.requests).toHaveLength(0);
    expect(allowed.requests).toHaveLength(0);
    const run = await runRow(runId);
    expect(run.status).toBe("refused");
    expect(run.attempts).toBe(0);
    expect(run.error).toBe(`127.0.0.1:${other.port} is not on the runbook allowlist; an admin can add it under Settings, Runbook allowlist`);
    const timeline = await events();
    expect(timeline.map((event) => event.kind)).toEqual(["runbook_step_queued", "runbook_step_refused"]);
    expect(timeline[1]!.message).toContain("is not on the runbook allowlist");
  });

  it("refuses a host name that is not listed", async () => {
    const receiver = await peer({ status: 200 });
    // localhost resolves to the allowed address, but the name itself is
    // not on the list.
    await allow("127.0.0.1");
    const runbookId = await addRunbook("by-name", [step("call", `http://localhost:${receiver.port}/call`)]);
    const runId = await runAsResponder(runbookId, "call");
    expect((await attempt(runId)).outcome).toBe("refused");
    expect(receiver.requests).toHaveLength(0);
  });

  it("refuses the retry after the host is removed", async () => {
    const flaky = await peer({ status: 500 }, { status: 200 });
    await allow("127.0.0.1", flaky.port);
    const runbookId = await addRunbook("removed", [step("call", `${flaky.origin}/call`)]);
    const runId = await runAsResponder(runbookId, "call");

    expect((await attempt(runId)).outcome).toBe("retrying");
    await getPool().query("DELETE FROM runbook_allowed_host");
    expect((await attempt(runId)).outcome).toBe("refused");
    expect(flaky.requests).toHaveLength(1);
    const run = await runRow(runId);
    expect(run.status).toBe("refused");
    expect(run.attempts).toBe(1);
  });

  it("refuses a name resolving to a metadata address", async () => {
    await allow("metadata.example.test");
    const resolve = async () => [{ address: "169.254.169.254", family: 4 }];
    const refused = await checkDestination(getPool(), new URL("http://metadata.example.test/latest"), resolve);
    expect(refused.allowed).toBe(false);
    expect(refused.allowed === false && refused.reason).toContain("169.254.169.254, a link-local or cloud metadata address");

    const mapped = async () => [{ address: "::ffff:169.254.169.254", family: 6 }];
    const refusedMapped = await checkDestination(getPool(), new URL("http://metadata.example.test/"), mapped);
    expect(refusedMapped.allowed).toBe(false);

    const linkLocalV6 = async () => [{ address: "fe80::1", family: 6 }];
    const refusedV6 = await checkDestination(getPool(), new URL("http://metadata.example.test/"), linkLocalV6);
    expect(refusedV6.allowed).toBe(false);

    const nat64 = async () => [{ address: "64:ff9b::a9fe:a9fe", family: 6 }];
    const refusedNat64 = await checkDestination(getPool(), new URL("http://metadata.example.test/"), nat64);
    expect(refusedNat64.allowed).toBe(false);

    const compatible = async () => [{ address: "::a9fe:a9fe", family: 6 }];
    const refusedCompatible = await checkDestination(getPool(), new URL("http://metadata.example.test/"), compatible);
    expect(refusedCompatible.allowed).toBe(false);
  });

  it("refuses a listed metadata address", async () => {
    // Rows written before the API rejected such hosts, or written directly.
    await allow("169.254.169.254");
    await allow("fe80::1");
    await allow("64:ff9b::a9fe:a9fe");
    const urls = [
      "http://169.254.169.254/latest/meta-data/",
      "http://2852039166/latest",
      "http://0xa9.0xfe.0xa9.0xfe/latest",
      "http://[fe80::1]/",
      "http://[64:ff9b::a9fe:a9fe]/",
    ];
    for (const url of urls) {
      const result = await checkDestination(getPool(), new URL(url));
      expect(result.allowed, url).toBe(false);
      expect(result.allowed === false && result.reason, url).toContain(
        "is a link-local or cloud metadata address, which steps may never call, even when it is on the allowlist",
      );
    }
  });

  it("reports a host that does not resolve as retryable", async () => {
    await allow("nowhere.invalid");
    const failing = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" });
    };
    const result = await checkDestination(getPool(), new URL("https://nowhere.invalid/x"), failing);
    expect(result).toEqual({ allowed: "unresolved", reason: "could not resolve nowhere.invalid: ENOTFOUND" });
  });

  it("tries each checked address in turn", async () => {
    const receiver = await peer({ status: 200, body: "second address" });
    await allow("hooks.example.test", receiver.port);
    const runbookId = await addRunbook("fallback", [step("call", `http://hooks.example.test:${receiver.port}/call`)]);
    const runId = await runAsResponder(runbookId, "call");
    const client = await getPool().connect();
    try {
      // Nothing listens on ::1 at the peer's port, so the connection falls
      // back to 127.0.0.1, which the peer listens on.
      const outcome = await runStepAttempt(
        client,
        runId,
        {
          ...OPTIONS,
          resolve: async () => [
            { address: "::1", family: 6 },
            { address: "127.0.0.1", family: 4 },
          ],
        },
        logger,
      );
      expect(outcome.outcome).toBe("succeeded");
    } finally {
      client.release();
    }
    expect(receiver.requests).toHaveLength(1);
  });

  it("refuses when any address is link-local", async () => {
    const receiver = await peer({ status: 200 });
    await allow("hooks.example.test", receiver.port);
    const runbookId = await addRunbook("mixed", [step("call", `http://hooks.example.test:${receiver.port}/call`)]);
    const runId = await runAsResponder(runbookId, "call");
    const client = await getPool().connect();
    try {
      const outcome = await runStepAttempt(
        client,
        runId,
        {
          ...OPTIONS,
          resolve: async () => [
            { address: "127.0.0.1", family: 4 },
            { address: "169.254.169.254", family: 4 },
          ],
        },
        logger,
      );
      expect(outcome.outcome).toBe("refused");
    } finally {
      client.release();
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it("connects to the address it checked", async () => {
    const receiver = await peer({ status: 200, body: "pinned" });
    await allow("hooks.example.test", receiver.port);
    const runbookId = await addRunbook("pinned", [step("call", `http://hooks.example.test:${receiver.port}/call`)]);
    const runId = await runAsResponder(runbookId, "call");
    const client = await getPool().connect();
    try {
      const outcome = await runStepAttempt(
        client,
        runId,
        { ...OPTIONS, resolve: async () => [{ address: "127.0.0.1", family: 4 }] },
        logger,
      );
      expect(outcome.outcome).toBe("succeeded");
    } finally {
      client.release();
    }
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers.host).toBe(`hooks.example.test:${receiver.port}`);
  });
});

describe("HTTPS steps", () => {
  it("rejects a self-signed certificate", async () => {
    // A certificate for the step's host name that no trusted CA signed: the
    // request must fail the TLS check, after sending the host name as SNI
    // to the address the allowlist check resolved.
    const dir = mkdtempSync(path.join(os.tmpdir(), "vigil-step-tls-"));
    const serverNames: string[] = [];
    const requests: string[] = [];
    let server: https.Server | undefined;
    try {
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=hooks.example.test",
        "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
      ], { stdio: "ignore" });
      const key = readFileSync(path.join(dir, "key.pem"));
      const cert = readFileSync(path.join(dir, "cert.pem"));
      server = https.createServer(
        {
          key,
          cert,
          SNICallback: (name, callback) => {
            serverNames.push(name);
            callback(null, undefined);
          },
        },
        (request, response) => {
          requests.push(request.url ?? "");
          response.end("should not be reached");
        },
      );
      await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;

      await allow("hooks.example.test", port);
      const runbookId = await addRunbook("tls", [
        step("call", `https://hooks.example.test:${port}/call`, { retries: 0 }),
      ]);
      const runId = await runAsResponder(runbookId, "call");
      const client = await getPool().connect();
      let outcome: StepAttemptOutcome;
      try {
        outcome = await runStepAttempt(
          client,
          runId,
          { ...OPTIONS, resolve: async () => [{ address: "127.0.0.1", family: 4 }] },
          logger,
        );
      } finally {
        client.release();
      }
      expect(outcome.outcome).toBe("failed");
      expect(serverNames).toEqual(["hooks.example.test"]);
      expect(requests).toHaveLength(0);
      const run = await runRow(runId);
      expect(run.error).toBe("request failed: DEPTH_ZERO_SELF_SIGNED_CERT");
    } finally {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("runbook steps API", () => {
  it("rejects bad requests and writes nothing", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("api", [step("go", `${receiver.origin}/go`)]);
    const responder = { cookie: await sessionCookie(users.responder) };
    const path = `/incidents/${incidentId}/runbook-steps`;
    const params = { id: String(incidentId) };

    const cases: Array<[string, Auth, unknown, Record<string, string>, number, string | undefined]> = [
      ["missing stepId", responder, { runbookId }, params, 400, "stepId"],
      ["string runbookId", responder, { runbookId: "1", stepId: "go" }, params, 400, "runbookId"],
      ["unknown field", responder, { runbookId, stepId: "go", force: true }, params, 400, "force"],
      ["unknown step", responder, { runbookId, stepId: "nope" }, params, 404, "stepId"],
      ["runbook not suggested", responder, { runbookId: runbookId + 100, stepId: "go" }, params, 404, "runbookId"],
      ["unknown incident", responder, { runbookId, stepId: "go" }, { id: "999999" }, 404, "id"],
      ["invalid incident id", responder, { runbookId, stepId: "go" }, { id: "abc" }, 400, "id"],
      ["viewer session", { cookie: await sessionCookie(users.viewer) }, { runbookId, stepId: "go" }, params, 403, undefined],
      ["ingest token", { token: ingestToken }, { runbookId, stepId: "go" }, params, 403, undefined],
      ["no credentials", {}, { runbookId, stepId: "go" }, params, 401, undefined],
    ];
    for (const [name, auth, body, routeParams, status, field] of cases) {
      const response = await call(runStepRoute, "POST", path, auth, body, routeParams);
      expect(response.status, name).toBe(status);
      expect(response.json.error.field, name).toBe(field);
      expect(typeof response.json.error.message, name).toBe("string");
    }
    const { rows } = await getPool().query("SELECT count(*)::int AS count FROM runbook_step_run");
    expect(rows[0]!.count).toBe(0);
    expect(await jobCount()).toBe(0);
    expect((await events()).length).toBe(0);
  });

  it("names the existing run on a double click", async () => {
    await allow("127.0.0.1");
    const runbookId = await addRunbook("double", [step("go", "http://127.0.0.1:9/go")]);
    const firstId = await runAsResponder(runbookId, "go");
    const second = await call(
      runStepRoute,
      "POST",
      `/incidents/${incidentId}/runbook-steps`,
      { token: adminToken },
      { runbookId, stepId: "go" },
      { id: String(incidentId) },
    );
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe("step_run_in_progress");
    expect(second.json.error.message).toContain(`run ${firstId}, started by Test responder`);
    expect(await jobCount()).toBe(1);
  });

  it("runs again once the first run finished", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("again", [step("go", `${receiver.origin}/go`)]);
    const firstId = await runAsResponder(runbookId, "go");
    await attempt(firstId);
    const secondId = await runAsResponder(runbookId, "go");
    expect(secondId).not.toBe(firstId);
  });

  it("rejects a run of an archived runbook", async () => {
    const runbookId = await addRunbook("archived", [step("go", "http://127.0.0.1:9/go")]);
    await getPool().query("UPDATE runbook SET archived_at = now() WHERE id = $1", [runbookId]);
    const response = await call(
      runStepRoute,
      "POST",
      `/incidents/${incidentId}/runbook-steps`,
      { token: adminToken },
      { runbookId, stepId: "go" },
      { id: String(incidentId) },
    );
    expect(response.status).toBe(409);
    expect(response.json.error.code).toBe("runbook_archived");
    expect(await jobCount()).toBe(0);
  });

  it("rejects a token bound to another service", async () => {
    const other = await getPool().query<{ id: number }>(
      "INSERT INTO service (slug, name) VALUES ('search', 'Search') RETURNING id",
    );
    const bound = await createApiToken({ name: "search-bot", scope: "admin", serviceId: other.rows[0]!.id });
    const runbookId = await addRunbook("bound", [step("go", "http://127.0.0.1:9/go")]);
    const response = await call(
      runStepRoute,
      "POST",
      `/incidents/${incidentId}/runbook-steps`,
      { token: bound.token },
      { runbookId, stepId: "go" },
      { id: String(incidentId) },
    );
    expect(response.status).toBe(403);
    expect(response.json.error.field).toBe("id");
    const list = await call(listStepsRoute, "GET", `/incidents/${incidentId}/runbook-steps`, { token: bound.token }, undefined, {
      id: String(incidentId),
    });
    expect(list.status).toBe(403);
    expect(await jobCount()).toBe(0);
  });

  it("rejects a run on a resolved incident", async () => {
    const runbookId = await addRunbook("resolved", [step("go", "http://127.0.0.1:9/go")]);
    await getPool().query("UPDATE incident SET status = 'resolved', resolved_at = now() WHERE id = $1", [incidentId]);
    const response = await call(
      runStepRoute,
      "POST",
      `/incidents/${incidentId}/runbook-steps`,
      { token: adminToken },
      { runbookId, stepId: "go" },
      { id: String(incidentId) },
    );
    expect(response.status).toBe(409);
    expect(response.json.error.code).toBe("incident_resolved");
  });

  it("token runs are named after the token", async () => {
    const runbookId = await addRunbook("token", [step("go", "http://127.0.0.1:9/go")]);
    const response = await call(
      runStepRoute,
      "POST",
      `/incidents/${incidentId}/runbook-steps`,
      { token: adminToken },
      { runbookId, stepId: "go" },
      { id: String(incidentId) },
    );
    expect(response.status).toBe(202);
    expect(response.json.run.actor).toMatchObject({ type: "token", name: "API token ops-bot" });
    expect(response.json.run.status).toBe("queued");
  });

  it("lists steps and runs for a viewer", async () => {
    const receiver = await peer({ status: 200, body: "done" });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("listed", [step("go", `${receiver.origin}/go`), step("check", `${receiver.origin}/check`)]);
    const runId = await runAsResponder(runbookId, "go");
    await attempt(runId);

    const viewer = { cookie: await sessionCookie(users.viewer) };
    const list = await call(listStepsRoute, "GET", `/incidents/${incidentId}/runbook-steps`, viewer, undefined, {
      id: String(incidentId),
    });
    expect(list.status).toBe(200);
    expect(list.json.runbooks).toHaveLength(1);
    expect(list.json.runbooks[0].steps.map((entry: Json) => entry.id)).toEqual(["go", "check"]);
    expect(list.json.runs).toHaveLength(1);
    expect(list.json.runs[0]).toMatchObject({ id: runId, status: "succeeded", responseStatus: 200, responseBody: "done" });

    const one = await call(getRunRoute, "GET", `/incidents/${incidentId}/runbook-steps/${runId}`, { token: ingestToken }, undefined, {
      id: String(incidentId),
      runId: String(runId),
    });
    expect(one.status).toBe(200);
    expect(one.json.attempts).toHaveLength(1);
    expect(one.json.attempts[0]).toMatchObject({ attempt: 1, succeeded: true, responseStatus: 200 });

    const wrongIncident = await call(getRunRoute, "GET", `/incidents/${incidentId + 1}/runbook-steps/${runId}`, viewer, undefined, {
      id: String(incidentId + 1),
      runId: String(runId),
    });
    expect(wrongIncident.status).toBe(404);
  });
});

describe("step runner", () => {
  async function waitUntil(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(message);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("does not delay notification jobs", async () => {
    const hanging = await peer("hang");
    const pager = await peer({ status: 200, body: "paged" });
    await allow("127.0.0.1", hanging.port);
    const stepIds = ["first", "second", "third"];
    const runbookId = await addRunbook(
      "hangs",
      stepIds.map((id) => step(id, `${hanging.origin}/${id}`, { timeoutSeconds: 4, retries: 0 })),
    );
    for (const id of stepIds) await runAsResponder(runbookId, id);
    const channel = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, {
      name: "pager",
      type: "webhook",
      config: { url: `${pager.origin}/page` },
    });
    expect(channel.status, JSON.stringify(channel.json)).toBe(201);

    // One slot for each runner: before step jobs had their own runner, the
    // notification job waited behind all three steps (12 s).
    const worker = await startWorker({
      connectionString: process.env.DATABASE_URL,
      concurrency: 1,
      stepConcurrency: 1,
      pollIntervalMs: 100,
    });
    try {
      await waitUntil(() => hanging.requests.length >= 1, 10_000, "no step reached the hanging peer within 10 s");
      const enqueuedAt = Date.now();
      await enqueueTestNotification(getPool(), channel.json.channel.id);
      await waitUntil(() => pager.requests.length >= 1, 20_000, "the notification was not delivered within 20 s");
      const delayMs = Date.now() - enqueuedAt;

      expect(delayMs).toBeLessThan(3000);
      expect(hanging.requests).toHaveLength(1);

      // Stopping the worker while a step job is in its final transaction
      // once left that transaction open and blocked the next test, so wait
      // for all three runs to finish first.
      const finished = async () => {
        const { rows } = await getPool().query<{ count: number }>(
          "SELECT count(*)::int AS count FROM runbook_step_run WHERE finished_at IS NOT NULL",
        );
        return rows[0]!.count;
      };
      const deadline = Date.now() + 25_000;
      while ((await finished()) < stepIds.length) {
        if (Date.now() > deadline) throw new Error("the three step runs did not finish within 25 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await worker.stop();
    }
  }, 45_000);
});

describe("automatic runbooks", () => {
  it("queues each step once per incident", async () => {
    await allow("127.0.0.1");
    await addRunbook("auto", [step("one", "http://127.0.0.1:9/one"), step("two", "http://127.0.0.1:9/two")], {
      automatic: true,
    });
    await addRunbook("manual-only", [step("three", "http://127.0.0.1:9/three")]);

    const first = await enqueueAutomaticRunbooks(getPool(), incidentId);
    const second = await enqueueAutomaticRunbooks(getPool(), incidentId);
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(0);
    const { rows } = await getPool().query(
      "SELECT step_id, automatic, actor_type, actor_name FROM runbook_step_run ORDER BY id",
    );
    expect(rows).toEqual([
      { step_id: "one", automatic: true, actor_type: "worker", actor_name: "automatic runbook" },
      { step_id: "two", automatic: true, actor_type: "worker", actor_name: "automatic runbook" },
    ]);
    expect(await jobCount()).toBe(2);
    expect((await events()).map((event) => event.kind)).toEqual(["runbook_step_queued", "runbook_step_queued"]);
  });

  it("runs once with two workers at once", async () => {
    const receiver = await peer({ status: 200, body: "scaled" });
    await allow("127.0.0.1", receiver.port);
    await addRunbook("auto-scale", [step("scale", `${receiver.origin}/scale`), step("verify", `${receiver.origin}/verify`)], {
      automatic: true,
    });

    // Two transactions queue the same incident's automatic runbooks at the
    // same time, as two workers opening it would.
    const clients = await Promise.all([getPool().connect(), getPool().connect()]);
    try {
      await Promise.all(clients.map((client) => client.query("BEGIN")));
      const firstInsert = enqueueAutomaticRunbooks(clients[0]!, incidentId);
      const secondInsert = enqueueAutomaticRunbooks(clients[1]!, incidentId);
      const firstIds = await firstInsert;
      await clients[0]!.query("COMMIT");
      const secondIds = await secondInsert;
      await clients[1]!.query("COMMIT");
      expect(firstIds.length + secondIds.length).toBe(2);
    } finally {
      clients.forEach((client) => client.release());
    }

    const workers = await Promise.all([
      startWorker({ connectionString: process.env.DATABASE_URL, concurrency: 2, pollIntervalMs: 100 }),
      startWorker({ connectionString: process.env.DATABASE_URL, concurrency: 2, pollIntervalMs: 100 }),
    ]);
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await getPool().query<{ count: number }>(
          "SELECT count(*)::int AS count FROM runbook_step_run WHERE status = 'succeeded'",
        );
        if (rows[0]!.count === 2) break;
        if (Date.now() > deadline) throw new Error("automatic steps did not finish within 20 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // A late duplicate would arrive within this pause.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }

    expect(receiver.requests.map((request) => request.path).sort()).toEqual(["/scale", "/verify"]);
    const { rows } = await getPool().query("SELECT count(*)::int AS count FROM runbook_step_run");
    expect(rows[0]!.count).toBe(2);
    const succeeded = (await events()).filter((event) => event.kind === "runbook_step_succeeded");
    expect(succeeded).toHaveLength(2);
    expect(succeeded[0]!.message).toMatch(/^Automatic step/);
  });

  it("is suppressed during maintenance", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    await addRunbook("auto-maint", [step("restart", `${receiver.origin}/restart`)], { automatic: true });
    await getPool().query(
      `INSERT INTO maintenance_window (service_id, reason, starts_at, ends_at, created_by_name)
       VALUES ($1, 'DB upgrade', now() - interval '5 minutes', now() + interval '1 hour', 'test')`,
      [serviceId],
    );
    const [runId] = await enqueueAutomaticRunbooks(getPool(), incidentId);

    const outcome = await attempt(runId!);
    expect(outcome.outcome).toBe("suppressed");
    expect(receiver.requests).toHaveLength(0);
    const run = await runRow(runId!);
    expect(run.status).toBe("suppressed");
    expect(run.error).toMatch(/^maintenance 'DB upgrade' until /);
    const timeline = await events();
    expect(timeline.map((event) => event.kind)).toEqual(["runbook_step_queued", "runbook_step_suppressed"]);
    expect(timeline[1]!.message).toContain("suppressed by maintenance 'DB upgrade'");
    expect(timeline[1]!.data.suppression).toMatchObject({ kind: "maintenance", name: "DB upgrade" });
  });

  it("is suppressed by the window the clock is in", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    await addRunbook("auto-later", [step("restart", `${receiver.origin}/restart`)], { automatic: true });
    await getPool().query(
      `INSERT INTO maintenance_window (service_id, reason, starts_at, ends_at, created_by_name)
       VALUES ($1, 'Friday deploy freeze', '2031-05-02T10:00:00Z', '2031-05-02T18:00:00Z', 'test')`,
      [serviceId],
    );
    const [runId] = await enqueueAutomaticRunbooks(getPool(), incidentId);
    setClock(() => new Date("2031-05-02T12:00:00Z"));
    try {
      expect((await attempt(runId!)).outcome).toBe("suppressed");
    } finally {
      resetClock();
    }
    expect(receiver.requests).toHaveLength(0);
    expect((await runRow(runId!)).error).toBe("maintenance 'Friday deploy freeze' until 2031-05-02 18:00 UTC");
  });

  it("runs outside the window", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    await addRunbook("auto-outside", [step("restart", `${receiver.origin}/restart`)], { automatic: true });
    await getPool().query(
      `INSERT INTO maintenance_window (service_id, reason, starts_at, ends_at, created_by_name)
       VALUES ($1, 'Friday deploy freeze', '2031-05-02T10:00:00Z', '2031-05-02T18:00:00Z', 'test')`,
      [serviceId],
    );
    const [runId] = await enqueueAutomaticRunbooks(getPool(), incidentId);
    expect((await attempt(runId!)).outcome).toBe("succeeded");
    expect(receiver.requests).toHaveLength(1);
  });

  it("manual runs ignore maintenance", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    const runbookId = await addRunbook("manual-maint", [step("restart", `${receiver.origin}/restart`)]);
    await getPool().query(
      `INSERT INTO maintenance_window (service_id, reason, starts_at, ends_at, created_by_name)
       VALUES ($1, 'DB upgrade', now() - interval '5 minutes', now() + interval '1 hour', 'test')`,
      [serviceId],
    );
    const runId = await runAsResponder(runbookId, "restart");
    expect((await attempt(runId)).outcome).toBe("succeeded");
    expect(receiver.requests).toHaveLength(1);
  });
});

describe("automatic runbooks when an incident opens", () => {
  async function automaticRuns(): Promise<Json[]> {
    const { rows } = await getPool().query(
      `SELECT run.incident_id, run.step_id, run.status, incident.source
         FROM runbook_step_run run JOIN incident ON incident.id = run.incident_id
        WHERE run.automatic ORDER BY run.id`,
    );
    return rows;
  }

  it("queues steps when the detector opens an incident", async () => {
    await getPool().query(
      `INSERT INTO runbook (slug, title, body, services, steps, automatic, current_version)
       VALUES ('auto-detector', 'Restart checkout', 'Restart it.', '{checkout}', $1::jsonb, true, 1)`,
      [JSON.stringify([step("restart", "http://127.0.0.1:9/restart")])],
    );
    const series = await getPool().query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       VALUES ($1, 'http_latency_p99', '{}', '{}') RETURNING id`,
      [serviceId],
    );
    const point: ScoredPoint = {
      ts: new Date(),
      value: 2.5,
      score: 1.5,
      likelihood: 0.99,
      isAnomaly: true,
      expectedLow: 0.1,
      expectedHigh: 0.5,
    };
    const context = {
      seriesId: series.rows[0]!.id,
      serviceId,
      serviceSlug: "checkout",
      serviceName: "Checkout",
      metricName: "http_latency_p99",
      labels: {},
    };
    const client = await getPool().connect();
    try {
      await client.query("BEGIN");
      await recordEpisode(client, context, { continuesPrevious: false, onset: point, peak: point });
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const runs = await automaticRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ step_id: "restart", status: "queued", source: "detector" });
    expect(await jobCount()).toBe(1);
  });

  it("suppresses steps of a detector incident under a silence on its metric", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    await getPool().query(
      `INSERT INTO runbook (slug, title, body, services, steps, automatic, current_version)
       VALUES ('auto-silenced', 'Flush cache', 'Flush it.', '{checkout}', $1::jsonb, true, 1)`,
      [JSON.stringify([step("flush", `${receiver.origin}/flush`)])],
    );
    await getPool().query(
      `INSERT INTO silence (service_id, matchers, reason, ends_at, created_by_name)
       VALUES ($1, '[{"name": "__name__", "operator": "=", "value": "queue_depth"}]', 'queue migration', now() + interval '1 hour', 'test')`,
      [serviceId],
    );
    const series = await getPool().query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       VALUES ($1, 'queue_depth', '{"queue": "orders"}', '{"queue": "orders"}') RETURNING id`,
      [serviceId],
    );
    const point: ScoredPoint = {
      ts: new Date(),
      value: 900,
      score: 1.5,
      likelihood: 0.99,
      isAnomaly: true,
      expectedLow: 10,
      expectedHigh: 50,
    };
    const client = await getPool().connect();
    try {
      await client.query("BEGIN");
      await recordEpisode(
        client,
        {
          seriesId: series.rows[0]!.id,
          serviceId,
          serviceSlug: "checkout",
          serviceName: "Checkout",
          metricName: "queue_depth",
          labels: { queue: "orders" },
        },
        { continuesPrevious: false, onset: point, peak: point },
      );
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const { rows } = await getPool().query<{ id: number }>(
      "SELECT id FROM runbook_step_run WHERE step_id = 'flush'",
    );
    expect(rows).toHaveLength(1);
    expect((await attempt(rows[0]!.id)).outcome).toBe("suppressed");
    expect(receiver.requests).toHaveLength(0);
    expect((await runRow(rows[0]!.id)).error).toMatch(/^silence 'queue migration' until /);
  });

  it("suppresses steps of an alert under a silence", async () => {
    const receiver = await peer({ status: 200 });
    await allow("127.0.0.1");
    await getPool().query(
      `INSERT INTO runbook (slug, title, body, alert_names, steps, automatic, current_version)
       VALUES ('auto-alert', 'Shed load', 'Shed it.', '{HighLatency}', $1::jsonb, true, 1)`,
      [JSON.stringify([step("shed", `${receiver.origin}/shed`)])],
    );
    await getPool().query(
      `INSERT INTO silence (service_id, matchers, reason, ends_at, created_by_name)
       VALUES ($1, '[{"name": "alertname", "operator": "=", "value": "HighLatency"}]', 'load test', now() + interval '1 hour', 'test')`,
      [serviceId],
    );
    const { token } = await createApiToken({ name: "alerts", scope: "ingest" });
    const response = await alertmanagerRoute(
      new Request(`${BASE}/alerts/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
          version: "4",
          status: "firing",
          receiver: "vigil",
          groupKey: "{}:{alertname=\"HighLatency\"}",
          truncatedAlerts: 0,
          alerts: [
            {
              status: "firing",
              labels: { alertname: "HighLatency", service: "checkout", severity: "critical" },
              annotations: { summary: "p99 above 2 s" },
              startsAt: new Date().toISOString(),
              endsAt: "0001-01-01T00:00:00Z",
              generatorURL: "http://prometheus.example/graph",
              fingerprint: "1111222233334444",
            },
          ],
        }),
      }),
    );
    expect(response.status).toBe(200);
    const runs = await automaticRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ step_id: "shed", status: "queued", source: "alert" });

    const { rows } = await getPool().query<{ id: number }>("SELECT id FROM runbook_step_run");
    expect((await attempt(rows[0]!.id)).outcome).toBe("suppressed");
    expect(receiver.requests).toHaveLength(0);
    const run = await runRow(rows[0]!.id);
    expect(run.error).toMatch(/^silence 'load test' until /);
  });
});
