import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// Short notification timeouts and retries, set before any Vigil module
// reads the config.
vi.hoisted(() => {
  process.env.VIGIL_PUBLIC_URL = "http://127.0.0.1:3500/vigil";
  process.env.VIGIL_NOTIFY_TIMEOUT_MS = "2000";
  process.env.VIGIL_NOTIFY_MAX_ATTEMPTS = "2";
  process.env.VIGIL_NOTIFY_RETRY_BASE_SECONDS = "0.2";
});

import type pg from "pg";

import { POST as alertmanagerPost } from "@/app/api/v1/alerts/alertmanager/route";
import { createApiToken } from "@/lib/auth/api-token";
import { resetClock, setClock } from "@/lib/clock";
import { closeDb, getPool, getPrisma } from "@/lib/db";
import { acknowledgeIncident, reopenIncident, resolveIncident } from "@/lib/incidents/actions";
import { logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import {
  escalationJobKey,
  rescheduleLostEscalations,
  resumeDeferredEscalations,
  runEscalation,
  scheduleEscalationJob,
  startEscalation,
} from "@/lib/oncall/escalation";
import { createPolicy, savePagingChannel, type LevelInput } from "@/lib/oncall/policies";
import { createSchedule } from "@/lib/oncall/schedules";
import { createWindow, endWindow } from "@/lib/oncall/windows";
import { truncateAll } from "@/tests/support/database";
import {
  startHttpPeer,
  startSmtpPeer,
  type HttpPeer,
  type SmtpPeer,
} from "@/tests/support/notification-peers";
import { startWorker, type WorkerHandle } from "@/workers/main";

// Escalation against PostgreSQL, a real SMTP server and a webhook receiver
// on 127.0.0.1, with the clock set by the test: level 1 pages the on-call
// user when the incident opens, level 2 fires after level 1's delay and not
// before, acknowledging or resolving stops it, two workers page once, and a
// maintenance window suppresses it with a timeline event.

const SMTP_USER = "vigil-pager";
const SMTP_PASSWORD = "pager-password-for-tests";
const MINUTE = 60_000;
const log = logger.child({ test: "escalation" });

type User = { id: number; name: string; email: string };

let smtp: SmtpPeer;
let hook: HttpPeer;
let ana: User;
let bo: User;
let serviceId: number;
let emailChannelId: number;
let webhookChannelId: number;
let scheduleId: number;
let t0: Date;
const workers: WorkerHandle[] = [];

const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);

beforeAll(async () => {
  smtp = await startSmtpPeer(SMTP_USER, SMTP_PASSWORD);
  hook = await startHttpPeer("ok");
});

afterAll(async () => {
  await smtp.close();
  await hook.close();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  smtp.mails.length = 0;
  hook.requests.length = 0;
  t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
  setClock(() => t0);

  const prisma = getPrisma();
  const user = (email: string, name: string) =>
    prisma.user.create({
      data: { email, name, passwordHash: "-", role: "responder" },
      select: { id: true, name: true, email: true },
    });
  ana = await user("ana@example.test", "Ana Pérez");
  bo = await user("bo@example.test", "Bo Lind");
  ({ id: serviceId } = await prisma.service.create({ data: { slug: "checkout", name: "Checkout" } }));

  const channels = await getPool().query<{ id: number }>(
    `INSERT INTO notification_channel (name, type, config, secret_config)
     VALUES ('pager', 'email', $1::jsonb, $2::jsonb),
            ('ops-hook', 'webhook', $3::jsonb, '{}')
     RETURNING id`,
    [
      JSON.stringify({
        host: smtp.host,
        port: smtp.port,
        secure: false,
        username: SMTP_USER,
        from: "vigil@example.test",
        to: ["team@example.test"],
      }),
      JSON.stringify({ password: SMTP_PASSWORD }),
      JSON.stringify({ url: hook.url }),
    ],
  );
  emailChannelId = channels.rows[0]!.id;
  webhookChannelId = channels.rows[1]!.id;
  await savePagingChannel(getPool(), emailChannelId);

  // Ana is always on call in "Primary": one member, daily turns.
  scheduleId = await createSchedule(getPool(), {
    name: "Primary",
    description: null,
    timeZone: "Europe/Madrid",
    layers: [
      {
        name: "weekly",
        rotationUnit: "days",
        rotationLength: 1,
        handoffTime: "09:00",
        startDate: "2026-01-01",
        endDate: null,
        members: [ana.id],
      },
    ],
  });
});

afterEach(async () => {
  while (workers.length > 0) await workers.pop()!.stop();
  resetClock();
});

const TWO_LEVELS = (): LevelInput[] => [
  { delayMinutes: 5, targets: [{ type: "schedule", scheduleId }] },
  { delayMinutes: 10, targets: [{ type: "user", userId: bo.id }, { type: "channel", channelId: webhookChannelId }] },
];

async function addPolicy(levels: LevelInput[] = TWO_LEVELS(), repeatCount = 0): Promise<number> {
  return createPolicy(getPool(), {
    name: "Checkout on call",
    service: "checkout",
    repeatCount,
    pageChannelId: null,
    levels,
  });
}

/** Opens an incident as the ingest paths do: row, event, notifications, one transaction. */
async function openIncident(labels?: Record<string, string>): Promise<number> {
  const client = await getPool().connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO incident (service_id, title, source, dedup_key, opened_at)
       VALUES ($1, 'Checkout p99 latency high', 'alert', $2, $3) RETURNING id`,
      [serviceId, `test:${Math.random()}`, t0],
    );
    const id = rows[0]!.id;
    await client.query(
      `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name, message, data)
       VALUES ($1, 'opened', 'system', 'test', 'Opened', $2::jsonb)`,
      [id, JSON.stringify(labels ? { labels } : {})],
    );
    await enqueueIncidentNotifications(client, id, "opened");
    await client.query("COMMIT");
    return id;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

async function escalate(incidentId: number, minutes: number) {
  const client = await getPool().connect();
  try {
    return await runEscalation(client, incidentId, at(minutes), log);
  } finally {
    client.release();
  }
}

async function events(incidentId: number, kind?: string): Promise<string[]> {
  const { rows } = await getPool().query<{ message: string }>(
    `SELECT message FROM incident_event
      WHERE incident_id = $1 AND ($2::text IS NULL OR kind = $2)
      ORDER BY id`,
    [incidentId, kind ?? null],
  );
  return rows.map((row) => row.message);
}

async function pages(incidentId: number) {
  const { rows } = await getPool().query<{
    escalation_level: number;
    recipient_name: string | null;
    recipient_email: string | null;
    channel_id: number;
    status: string;
  }>(
    `SELECT escalation_level, recipient_name, recipient_email, channel_id, status::text
       FROM notification_delivery
      WHERE incident_id = $1 AND event = 'escalation'
      ORDER BY escalation_level, id`,
    [incidentId],
  );
  return rows;
}

async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function worker(): Promise<WorkerHandle> {
  const handle = await startWorker({
    connectionString: process.env.DATABASE_URL,
    concurrency: 2,
    pollIntervalMs: 100,
  });
  workers.push(handle);
  return handle;
}

/** Moves the escalation job to run now, as if the queue's clock had reached its run_at. */
async function releaseJob(incidentId: number): Promise<void> {
  await scheduleEscalationJob(getPool(), incidentId, new Date());
}

describe("escalation timing", () => {
  it("pages level 1, then level 2 after the delay", async () => {
    await addPolicy();
    await worker();
    const id = await openIncident();

    // The worker runs the job queued at open: level 1 pages Ana by mail.
    const first = await waitFor(async () => smtp.mails.find((mail) => mail.to.includes(ana.email)));
    expect(first.raw).toContain("Escalation level 1, paging Ana");
    expect(await events(id, "escalated")).toEqual(["Escalated to level 1: Ana Pérez (Primary schedule)"]);

    // Four minutes later level 2 is not due yet.
    setClock(() => at(4));
    await releaseJob(id);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await events(id, "escalated")).toHaveLength(1);
    expect(smtp.mails.some((mail) => mail.to.includes(bo.email))).toBe(false);

    // At five minutes level 2 pages Bo by mail and the ops webhook.
    setClock(() => at(5));
    await releaseJob(id);
    await waitFor(async () => smtp.mails.find((mail) => mail.to.includes(bo.email)));
    await waitFor(async () => hook.requests.length > 0);
    const webhook = JSON.parse(hook.requests[0]!.body);
    expect(webhook.event).toBe("incident.escalation");
    expect(webhook.escalation).toEqual({ level: 2, recipientName: null });
    expect(await events(id, "escalated")).toEqual([
      "Escalated to level 1: Ana Pérez (Primary schedule)",
      "Escalated to level 2: Bo Lind, webhook channel ops-hook",
    ]);

    const log = await waitFor(async () => {
      const rows = await pages(id);
      return rows.every((row) => row.status === "sent") && rows.length === 3 ? rows : undefined;
    });
    expect(log.map((row) => [row.escalation_level, row.recipient_name])).toEqual([
      [1, "Ana Pérez"],
      [2, "Bo Lind"],
      [2, null],
    ]);
    const sent = await events(id, "notification_sent");
    expect(sent).toContain("Escalation page of level 1 to Ana Pérez sent to email channel pager");
  });

  it("fires level 2 by the clock alone", async () => {
    await addPolicy();
    const id = await openIncident();
    const first = await escalate(id, 0);
    expect(first).toMatchObject({ outcome: "escalated", level: 1, nextAt: at(5) });

    expect(await escalate(id, 4.99)).toEqual({ outcome: "waiting", nextAt: at(5) });
    const second = await escalate(id, 5);
    expect(second).toMatchObject({ outcome: "escalated", level: 2, nextAt: null });
    expect(await escalate(id, 60)).toEqual({ outcome: "inactive" });
  });

  it("repeats the policy when asked", async () => {
    await addPolicy([{ delayMinutes: 3, targets: [{ type: "user", userId: bo.id }] }], 1);
    const id = await openIncident();
    expect(await escalate(id, 0)).toMatchObject({ level: 1, cycle: 1 });
    expect(await escalate(id, 3)).toMatchObject({ level: 1, cycle: 2 });
    expect(await escalate(id, 6)).toEqual({ outcome: "inactive" });
    expect(await events(id, "escalated")).toEqual([
      "Escalated to level 1: Bo Lind",
      "Escalated to level 1 (repeat 1): Bo Lind",
    ]);
    expect(await pages(id)).toHaveLength(2);
  });
});

describe("escalation stops", () => {
  it("stops on acknowledge before the delay", async () => {
    await addPolicy();
    const id = await openIncident();
    await escalate(id, 0);

    setClock(() => at(2));
    const result = await acknowledgeIncident(id, { id: ana.id, name: ana.name });
    expect(result.outcome).toBe("applied");
    expect(await events(id, "escalation_stopped")).toEqual([
      "Escalation stopped: the incident was acknowledged before level 2 was notified",
    ]);

    expect(await escalate(id, 5)).toEqual({ outcome: "inactive" });
    expect(await escalate(id, 30)).toEqual({ outcome: "inactive" });
    expect((await pages(id)).map((row) => row.escalation_level)).toEqual([1]);
  });

  it("stops when the job finds it acknowledged", async () => {
    await addPolicy();
    const id = await openIncident();
    await escalate(id, 0);
    // An acknowledgement written without stopEscalation, as a direct update would.
    await getPool().query(
      "UPDATE incident SET status = 'acknowledged', acknowledged_at = now() WHERE id = $1",
      [id],
    );

    expect(await escalate(id, 5)).toEqual({ outcome: "stopped", reason: "acknowledged" });
    expect((await pages(id)).map((row) => row.escalation_level)).toEqual([1]);
    expect(await events(id, "escalation_stopped")).toEqual([
      "Escalation stopped: the incident was acknowledged before level 2 was notified",
    ]);
  });

  it("stops on resolve at once", async () => {
    await addPolicy();
    const id = await openIncident();
    await escalate(id, 0);
    const result = await resolveIncident(id, { id: bo.id, name: bo.name });
    expect(result.outcome).toBe("applied");

    expect(await events(id, "escalation_stopped")).toEqual([
      "Escalation stopped: the incident was resolved before level 2 was notified",
    ]);
    expect(await escalate(id, 5)).toEqual({ outcome: "inactive" });
    expect(await pages(id)).toHaveLength(1);
  });
});

describe("escalation from ingest", () => {
  it("starts when Alertmanager opens an incident", async () => {
    await addPolicy();
    const { token } = await createApiToken({ name: "alertmanager", scope: "ingest" });
    const response = await alertmanagerPost(
      new Request("http://127.0.0.1/api/v1/alerts/alertmanager", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          version: "4",
          status: "firing",
          receiver: "vigil",
          groupKey: '{}:{alertname="HighLatency"}',
          truncatedAlerts: 0,
          alerts: [
            {
              status: "firing",
              labels: { alertname: "HighLatency", service: "checkout", severity: "critical" },
              annotations: { summary: "p99 above 2 s" },
              startsAt: t0.toISOString(),
              endsAt: "0001-01-01T00:00:00Z",
              fingerprint: "aaaabbbbccccdddd",
            },
          ],
        }),
      }),
    );
    expect(response.status).toBe(200);
    const { rows } = await getPool().query<{ incident_id: number; next_level: number }>(
      "SELECT incident_id, next_level FROM incident_escalation",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.next_level).toBe(1);
    expect(await escalate(rows[0]!.incident_id, 0)).toMatchObject({ outcome: "escalated", level: 1 });
  });
});

describe("escalation restart", () => {
  it("restarts a reopened incident", async () => {
    await addPolicy();
    const id = await openIncident();
    await escalate(id, 0);
    await resolveIncident(id, { id: bo.id, name: bo.name });

    // Reopening starts the escalation again with cycle 2, once.
    setClock(() => at(10));
    const reopened = await reopenIncident(id, { id: ana.id, name: ana.name }, "still slow");
    expect(reopened.outcome).toBe("applied");
    expect(await startEscalation(getPool(), id, at(10))).toBe(false);
    expect(await escalate(id, 10)).toMatchObject({ outcome: "escalated", level: 1, cycle: 2 });
    // A reopen is no repeat: this policy repeats 0 times.
    expect(await events(id, "escalated")).toEqual([
      "Escalated to level 1: Ana Pérez (Primary schedule)",
      "Escalated to level 1: Ana Pérez (Primary schedule)",
    ]);
  });

  it("counts repeats from the reopen", async () => {
    await addPolicy([{ delayMinutes: 3, targets: [{ type: "user", userId: bo.id }] }], 1);
    const id = await openIncident();
    expect(await escalate(id, 0)).toMatchObject({ level: 1, cycle: 1 });
    expect(await escalate(id, 3)).toMatchObject({ level: 1, cycle: 2 });
    await resolveIncident(id, { id: bo.id, name: bo.name });
    await reopenIncident(id, { id: ana.id, name: ana.name }, "still slow");
    expect(await escalate(id, 10)).toMatchObject({ level: 1, cycle: 3 });
    expect(await escalate(id, 13)).toMatchObject({ level: 1, cycle: 4 });
    expect(await events(id, "escalated")).toEqual([
      "Escalated to level 1: Bo Lind",
      "Escalated to level 1 (repeat 1): Bo Lind",
      "Escalated to level 1: Bo Lind",
      "Escalated to level 1 (repeat 1): Bo Lind",
    ]);
  });

  it("does not start without a policy", async () => {
    const id = await openIncident();
    expect(await startEscalation(getPool(), id, at(0))).toBe(false);
    expect(await escalate(id, 0)).toEqual({ outcome: "inactive" });
  });
});

describe("escalation and incident actions", () => {
  it("never deadlocks with resolve and reopen", async () => {
    await addPolicy();
    const failures: unknown[] = [];
    const collect = (results: PromiseSettledResult<unknown>[]) => {
      for (const result of results) if (result.status === "rejected") failures.push(result.reason);
    };
    const actor = { id: bo.id, name: bo.name };
    for (let round = 0; round < 25; round += 1) {
      const id = await openIncident();
      collect(await Promise.allSettled([escalate(id, 0), resolveIncident(id, actor)]));
      collect(await Promise.allSettled([reopenIncident(id, actor, "flapping"), escalate(id, 5)]));
      collect(await Promise.allSettled([escalate(id, 5), escalate(id, 10), resolveIncident(id, actor)]));
    }
    expect(failures.map((failure) => String(failure))).toEqual([]);

    // Every incident ends resolved, and no escalation of it is still running.
    const { rows } = await getPool().query<{ status: string; escalation: string }>(
      `SELECT i.status::text, e.status::text AS escalation
         FROM incident i JOIN incident_escalation e ON e.incident_id = i.id`,
    );
    expect(rows).toHaveLength(25);
    for (const row of rows) {
      expect(row.status).toBe("resolved");
      expect(row.escalation).not.toBe("active");
    }
  });
});

describe("escalation exactly once", () => {
  it("pages once with concurrent runs", async () => {
    await addPolicy();
    const id = await openIncident();
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => escalate(id, 0)));
    expect(outcomes.filter((outcome) => outcome.outcome === "escalated")).toHaveLength(1);

    const later = await Promise.all(Array.from({ length: 6 }, () => escalate(id, 5)));
    expect(later.filter((outcome) => outcome.outcome === "escalated")).toHaveLength(1);

    const { rows } = await getPool().query<{ level: number; count: number }>(
      `SELECT level, count(*)::int AS count FROM escalation_step WHERE incident_id = $1
        GROUP BY level ORDER BY level`,
      [id],
    );
    expect(rows).toEqual([
      { level: 1, count: 1 },
      { level: 2, count: 1 },
    ]);
    expect(await pages(id)).toHaveLength(3);
    expect(await events(id, "escalated")).toHaveLength(2);
  });

  it("pages once with two workers", async () => {
    await addPolicy();
    await worker();
    await worker();
    const id = await openIncident();
    await waitFor(async () => smtp.mails.some((mail) => mail.to.includes(ana.email)));

    setClock(() => at(5));
    // Both workers poll the queue; each release re-adds the one keyed job.
    await Promise.all([releaseJob(id), releaseJob(id), releaseJob(id)]);
    await waitFor(async () => smtp.mails.some((mail) => mail.to.includes(bo.email)));
    await waitFor(async () => (await pages(id)).every((row) => row.status === "sent"));
    await new Promise((resolve) => setTimeout(resolve, 1000));

    expect(smtp.mails.filter((mail) => mail.to.includes(ana.email))).toHaveLength(1);
    expect(smtp.mails.filter((mail) => mail.to.includes(bo.email))).toHaveLength(1);
    expect(hook.requests).toHaveLength(1);
    expect(await events(id, "escalated")).toHaveLength(2);
  });

  it("schedules an escalation again when its job is lost or failed", async () => {
    await addPolicy();
    const id = await openIncident();
    expect(await escalate(id, 0)).toMatchObject({ outcome: "escalated", level: 1 });
    const job = async () => {
      const { rows } = await getPool().query<{ attempts: number; run_at: Date }>(
        "SELECT attempts, run_at FROM graphile_worker._private_jobs WHERE key = $1",
        [escalationJobKey(id)],
      );
      return rows[0];
    };

    // The job queued for level 2 is alive: nothing to do, before or after it is due.
    expect(await job()).toBeDefined();
    expect(await rescheduleLostEscalations(getPool(), at(5.5), 10)).toEqual([]);
    expect(await rescheduleLostEscalations(getPool(), at(7), 10)).toEqual([]);

    // The job failed all its attempts: the backstop adds it again, due now.
    await getPool().query(
      "UPDATE graphile_worker._private_jobs SET attempts = max_attempts WHERE key = $1",
      [escalationJobKey(id)],
    );
    expect(await rescheduleLostEscalations(getPool(), at(5.5), 10)).toEqual([]);
    expect(await rescheduleLostEscalations(getPool(), at(7), 10)).toEqual([id]);
    expect(await job()).toMatchObject({ attempts: 0, run_at: at(7) });

    // The job is gone altogether.
    await getPool().query("DELETE FROM graphile_worker._private_jobs WHERE key = $1", [
      escalationJobKey(id),
    ]);
    expect(await rescheduleLostEscalations(getPool(), at(8), 10)).toEqual([id]);
    expect(await escalate(id, 8)).toMatchObject({ outcome: "escalated", level: 2 });

    // A finished escalation needs no job.
    await getPool().query("DELETE FROM graphile_worker._private_jobs WHERE key = $1", [
      escalationJobKey(id),
    ]);
    expect(await rescheduleLostEscalations(getPool(), at(30), 10)).toEqual([]);
  });

  it("pages nobody when the commit fails", async () => {
    await addPolicy();
    const id = await openIncident();
    const client = await getPool().connect();
    // A worker that dies at COMMIT: the transaction rolls back.
    const crashing = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== "query") return Reflect.get(target, property, receiver);
        return (sql: unknown, ...rest: unknown[]) => {
          if (sql === "COMMIT") return Promise.reject(new Error("connection lost"));
          return (target.query as (...args: unknown[]) => unknown)(sql, ...rest);
        };
      },
    }) as pg.PoolClient;
    try {
      await expect(runEscalation(crashing, id, at(0), log)).rejects.toThrow("connection lost");
    } finally {
      client.release();
    }
    expect(await pages(id)).toHaveLength(0);
    expect(await events(id, "escalated")).toHaveLength(0);

    // The retried job pages level 1 once.
    expect(await escalate(id, 0)).toMatchObject({ outcome: "escalated", level: 1 });
    expect(await pages(id)).toHaveLength(1);
  });
});

describe("escalation suppression", () => {
  it("suppresses during maintenance and says so", async () => {
    await addPolicy();
    await getPool().query(
      `INSERT INTO notification_rule (channel_id, service_id) VALUES ($1, $2)`,
      [webhookChannelId, serviceId],
    );
    const window = await createWindow(
      getPool(),
      { service: "checkout", reason: "DB upgrade", startsAt: at(-10), endsAt: at(60) },
      { id: null, name: "test", type: "token" },
      at(0),
    );
    const until = at(60).toISOString().slice(0, 16).replace("T", " ");

    const id = await openIncident();
    const { rows } = await getPool().query(
      "SELECT 1 FROM notification_delivery WHERE incident_id = $1",
      [id],
    );
    expect(rows).toHaveLength(0);
    expect(await events(id, "notification_suppressed")).toEqual([
      `Notification of the opened event to webhook channel ops-hook suppressed: maintenance 'DB upgrade' until ${until} UTC`,
    ]);

    const outcome = await escalate(id, 0);
    expect(outcome.outcome).toBe("suppressed");
    await escalate(id, 1);
    expect(await events(id, "escalation_suppressed")).toEqual([
      `Escalation to level 1 suppressed: maintenance 'DB upgrade' until ${until} UTC`,
    ]);
    expect(await pages(id)).toHaveLength(0);

    // Ending the window early lets the deferred level 1 page at once.
    await endWindow(getPool(), window.id, at(20));
    expect(await resumeDeferredEscalations(getPool(), serviceId, at(20))).toBe(1);
    expect(await escalate(id, 20)).toMatchObject({ outcome: "escalated", level: 1, nextAt: at(25) });
  });

  it("silences alerts by label", async () => {
    await addPolicy();
    await getPool().query(
      `INSERT INTO silence (service_id, matchers, reason, starts_at, ends_at, created_by_name)
       VALUES (NULL, $1::jsonb, 'known disk alert', $2, $3, 'test')`,
      [JSON.stringify([{ name: "alertname", operator: "=", value: "DiskFull" }]), at(-1), at(30)],
    );
    const silenced = await openIncident({ alertname: "DiskFull", service: "checkout" });
    expect((await escalate(silenced, 0)).outcome).toBe("suppressed");
    expect(await events(silenced, "escalation_suppressed")).toHaveLength(1);

    const other = await openIncident({ alertname: "HighLatency", service: "checkout" });
    expect((await escalate(other, 0)).outcome).toBe("escalated");
  });

  it("reports people it cannot page", async () => {
    await addPolicy();
    await savePagingChannel(getPool(), null);
    const id = await openIncident();
    await escalate(id, 0);
    expect(await pages(id)).toHaveLength(0);
    const [failed] = await events(id, "escalation_failed");
    expect(failed).toContain("Level 1 could not page Ana Pérez: no email channel is set for paging");
  });
});
