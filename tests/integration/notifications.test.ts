import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The config is read once per test file, so the notification settings are
// set before any Vigil module loads: a short timeout and backoff keep the
// failure cases quick.
vi.hoisted(() => {
  process.env.VIGIL_PUBLIC_URL = "http://127.0.0.1:3500/vigil";
  process.env.VIGIL_NOTIFY_TIMEOUT_MS = "1000";
  process.env.VIGIL_NOTIFY_MAX_ATTEMPTS = "3";
  process.env.VIGIL_NOTIFY_RETRY_BASE_SECONDS = "0.2";
});

import { POST as alertmanagerPost } from "@/app/api/v1/alerts/alertmanager/route";
import { POST as createChannelPost } from "@/app/api/v1/notification-channels/route";
import { POST as createRulePost } from "@/app/api/v1/routing-rules/route";
import { createApiToken } from "@/lib/auth/api-token";
import { getConfig } from "@/lib/config";
import { closeDb, getPool } from "@/lib/db";
import { reopenIncident, resolveIncident } from "@/lib/incidents/actions";
import { recordEpisode, type SeriesContext } from "@/lib/incidents/detector";
import { recordRecovery } from "@/lib/incidents/recovery";
import { logger } from "@/lib/logger";
import { runDelivery, type DeliveryOutcome } from "@/lib/notifications/deliver";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { deliveryOptions } from "@/lib/notifications/settings";
import { truncateAll } from "@/tests/support/database";
import {
  startHttpPeer,
  startSmtpPeer,
  type HttpPeer,
  type SmtpPeer,
} from "@/tests/support/notification-peers";
import { startWorker } from "@/workers/main";

// Incident notifications against real peers on 127.0.0.1: what each channel
// type sends, routing, retries with backoff, a hanging peer, and reruns.

type Json = Record<string, any>;

const SMTP_USER = "vigil-mailer";
const SMTP_PASSWORD = "smtp-password-for-tests";

let adminToken: string;
let ingestToken: string;
const peers: Array<{ close: () => Promise<void> }> = [];

async function httpPeer(mode: "ok" | "fail" | "hang"): Promise<HttpPeer> {
  const peer = await startHttpPeer(mode);
  peers.push(peer);
  return peer;
}

async function smtpPeer(): Promise<SmtpPeer> {
  const peer = await startSmtpPeer(SMTP_USER, SMTP_PASSWORD);
  peers.push(peer);
  return peer;
}

async function createChannel(body: Json): Promise<number> {
  const response = await createChannelPost(
    new Request("http://127.0.0.1/api/v1/notification-channels", {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  const json = (await response.json()) as Json;
  expect(response.status, JSON.stringify(json)).toBe(201);
  return json.channel.id;
}

async function createRule(body: Json): Promise<void> {
  const response = await createRulePost(
    new Request("http://127.0.0.1/api/v1/routing-rules", {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
}

function alertBody(
  status: "firing" | "resolved",
  options: { service?: string; severity?: string; fingerprint?: string; alertname?: string } = {},
): Json {
  return {
    version: "4",
    status,
    receiver: "vigil",
    groupKey: '{}:{alertname="HighLatency"}',
    truncatedAlerts: 0,
    alerts: [
      {
        status,
        labels: {
          alertname: options.alertname ?? "HighLatency",
          service: options.service ?? "checkout",
          severity: options.severity ?? "critical",
        },
        annotations: { summary: "p99 above 2 s", description: "Checkout requests are slow" },
        startsAt: "2026-12-04T10:00:00Z",
        endsAt: status === "resolved" ? "2026-12-04T10:30:00Z" : "0001-01-01T00:00:00Z",
        generatorURL: "http://127.0.0.1:9090/graph",
        fingerprint: options.fingerprint ?? "1111222233334444",
      },
    ],
  };
}

/** Sends an Alertmanager delivery and returns the incident id of its one alert. */
async function sendAlert(body: Json): Promise<number> {
  const response = await alertmanagerPost(
    new Request("http://127.0.0.1/api/v1/alerts/alertmanager", {
      method: "POST",
      headers: { authorization: `Bearer ${ingestToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  const json = (await response.json()) as Json;
  expect(response.status, JSON.stringify(json)).toBe(200);
  return json.alerts[0].incidentId;
}

type DeliveryRow = {
  id: number;
  channel_id: number;
  incident_id: number | null;
  event: string;
  status: string;
  attempts: number;
  last_error: string | null;
};

async function deliveries(): Promise<DeliveryRow[]> {
  const { rows } = await getPool().query<DeliveryRow>(
    `SELECT id, channel_id, incident_id, event, status::text, attempts, last_error
       FROM notification_delivery ORDER BY id`,
  );
  return rows;
}

async function queuedJobs(): Promise<Array<{ key: string | null; run_at: Date }>> {
  const { rows } = await getPool().query<{ key: string | null; run_at: Date }>(
    `SELECT j.key, j.run_at
       FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = 'notify-incident'
      ORDER BY j.id`,
  );
  return rows;
}

/** Runs one attempt of a delivery the way the notify-incident job does. */
async function attempt(deliveryId: number): Promise<DeliveryOutcome> {
  const client = await getPool().connect();
  try {
    return await runDelivery(client, deliveryId, deliveryOptions(getConfig()), logger);
  } finally {
    client.release();
  }
}

/** Runs every delivery until each is sent or failed, without waiting for backoff. */
async function drainDeliveries(): Promise<void> {
  for (let round = 0; round < 10; round += 1) {
    const open = (await deliveries()).filter(
      (row) => row.status === "pending" || row.status === "retrying",
    );
    if (open.length === 0) return;
    for (const row of open) await attempt(row.id);
  }
  throw new Error("deliveries still open after 10 rounds");
}

async function eventKinds(incidentId: number): Promise<string[]> {
  const { rows } = await getPool().query<{ kind: string }>(
    "SELECT kind FROM incident_event WHERE incident_id = $1 ORDER BY id",
    [incidentId],
  );
  return rows.map((row) => row.kind);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  adminToken = (await createApiToken({ name: "admin-bot", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "alerts", scope: "ingest" })).token;
  await getPool().query(
    "INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout'), ('billing', 'Billing')",
  );
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

afterAll(async () => {
  await closeDb();
});

describe("incident notifications", () => {
  it("webhook receives incident JSON", async () => {
    const peer = await httpPeer("ok");
    const channelId = await createChannel({ name: "ops hook", type: "webhook", config: { url: peer.url } });
    await createRule({ channelId });

    const incidentId = await sendAlert(alertBody("firing"));
    const queued = await deliveries();
    expect(queued).toHaveLength(1);
    expect(queued[0]!.event).toBe("opened");
    expect(queued[0]!.status).toBe("pending");
    // The alert's transaction added the job with the delivery.
    expect((await queuedJobs()).map((job) => job.key)).toEqual([`notify-delivery:${queued[0]!.id}`]);

    await drainDeliveries();
    expect(peer.requests).toHaveLength(1);
    const request = peer.requests[0]!;
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(request.body) as Json;
    expect(body.event).toBe("incident.opened");
    expect(body.incident.id).toBe(incidentId);
    expect(body.incident.title).toBe("HighLatency: p99 above 2 s");
    expect(body.incident.status).toBe("triggered");
    expect(body.incident.severity).toBe("sev1");
    expect(body.incident.source).toBe("alert");
    expect(body.incident.summary).toBe("Checkout requests are slow");
    expect(body.incident.service).toEqual({ slug: "checkout", name: "Checkout" });
    expect(body.incident.url).toBe(`http://127.0.0.1:3500/vigil/incidents/${incidentId}`);

    const [sent] = await deliveries();
    expect(sent!.status).toBe("sent");
    expect(sent!.attempts).toBe(1);
    const { rows: attempts } = await getPool().query(
      "SELECT attempt, succeeded, http_status, error FROM notification_attempt",
    );
    expect(attempts).toEqual([{ attempt: 1, succeeded: true, http_status: 200, error: null }]);
    expect(await eventKinds(incidentId)).toContain("notification_sent");

    // Resolving the alert sends the resolved event.
    await sendAlert(alertBody("resolved"));
    await drainDeliveries();
    expect(peer.requests).toHaveLength(2);
    const resolved = JSON.parse(peer.requests[1]!.body) as Json;
    expect(resolved.event).toBe("incident.resolved");
    expect(resolved.incident.status).toBe("resolved");
    expect(resolved.incident.resolvedAt).toBe("2026-12-04T10:30:00.000Z");
  });

  it("Slack payload has text and attachment", async () => {
    const peer = await httpPeer("ok");
    const channelId = await createChannel({ name: "slack", type: "slack", config: { url: peer.url } });
    await createRule({ channelId });
    const incidentId = await sendAlert(alertBody("firing"));
    await drainDeliveries();

    expect(peer.requests).toHaveLength(1);
    const body = JSON.parse(peer.requests[0]!.body) as Json;
    const link = `http://127.0.0.1:3500/vigil/incidents/${incidentId}`;
    expect(body.text).toBe(`[SEV1] Incident opened: HighLatency: p99 above 2 s <${link}|open in Vigil>`);
    expect(body.attachments).toHaveLength(1);
    const attachment = body.attachments[0];
    expect(attachment.title).toBe("HighLatency: p99 above 2 s");
    expect(attachment.title_link).toBe(link);
    expect(attachment.text).toBe("Checkout requests are slow");
    expect(attachment.fields).toEqual([
      { title: "Service", value: "Checkout", short: true },
      { title: "Severity", value: "sev1", short: true },
      { title: "Status", value: "triggered", short: true },
      { title: "Source", value: "alert", short: true },
    ]);
  });

  it("SMTP server receives the mail", async () => {
    const smtp = await smtpPeer();
    const channelId = await createChannel({
      name: "oncall mail",
      type: "email",
      config: {
        host: smtp.host,
        port: smtp.port,
        username: SMTP_USER,
        password: SMTP_PASSWORD,
        from: "vigil@example.test",
        to: ["oncall@example.test", "lead@example.test"],
      },
    });
    await createRule({ channelId });
    const incidentId = await sendAlert(alertBody("firing"));
    await drainDeliveries();

    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.user).toBe(SMTP_USER);
    expect(mail.from).toBe("vigil@example.test");
    expect(mail.to).toEqual(["oncall@example.test", "lead@example.test"]);
    expect(mail.raw).toContain("Subject: [SEV1] Incident opened: HighLatency: p99 above 2 s");
    expect(mail.raw).toContain("Service:  Checkout (checkout)");
    expect(mail.raw).toContain("Checkout requests are slow");
    expect(mail.raw).toContain(`http://127.0.0.1:3500/vigil/incidents/${incidentId}`);

    const { rows } = await getPool().query<{ smtp_response: string }>(
      "SELECT smtp_response FROM notification_attempt",
    );
    expect(rows[0]!.smtp_response).toMatch(/^250 /);
  });

  it("wrong SMTP password fails the attempt", async () => {
    const smtp = await smtpPeer();
    const channelId = await createChannel({
      name: "bad login",
      type: "email",
      config: {
        host: smtp.host,
        port: smtp.port,
        username: SMTP_USER,
        password: "not-the-password",
        from: "vigil@example.test",
        to: ["oncall@example.test"],
      },
    });
    await createRule({ channelId });
    await sendAlert(alertBody("firing"));
    const [delivery] = await deliveries();
    const outcome = await attempt(delivery!.id);
    expect(outcome.outcome).toBe("retrying");
    expect(smtp.mails).toHaveLength(0);
    const { rows } = await getPool().query<{ error: string; smtp_response: string | null }>(
      "SELECT error, smtp_response FROM notification_attempt",
    );
    expect(rows[0]!.error).toContain("EAUTH");
    expect(rows[0]!.error).not.toContain("not-the-password");
  });

  it("failing peer retries with backoff, then gives up", async () => {
    const peer = await httpPeer("fail");
    const channelId = await createChannel({ name: "broken", type: "webhook", config: { url: peer.url } });
    await createRule({ channelId });
    const incidentId = await sendAlert(alertBody("firing"));
    const [delivery] = await deliveries();

    const first = await attempt(delivery!.id);
    expect(first).toEqual({ outcome: "retrying", attempt: 1, retryInSeconds: 0.2 });
    const second = await attempt(delivery!.id);
    expect(second).toEqual({ outcome: "retrying", attempt: 2, retryInSeconds: 0.4 });

    // Each retry is a job scheduled at the delay after the attempt; the
    // delivery row records the same time.
    const { rows: schedule } = await getPool().query<{ delay_ms: number; job_delay_ms: number }>(
      `SELECT round(extract(epoch FROM d.next_attempt_at - a.created_at) * 1000)::int AS delay_ms,
              round(extract(epoch FROM j.run_at - a.created_at) * 1000)::int AS job_delay_ms
         FROM notification_delivery d
         JOIN notification_attempt a ON a.delivery_id = d.id AND a.attempt = d.attempts
         JOIN graphile_worker._private_jobs j ON j.key = 'notify-delivery:' || d.id
        WHERE d.id = $1`,
      [delivery!.id],
    );
    expect(schedule).toEqual([{ delay_ms: 400, job_delay_ms: 400 }]);
    expect((await deliveries())[0]!.status).toBe("retrying");

    const third = await attempt(delivery!.id);
    expect(third).toEqual({ outcome: "failed", attempt: 3 });
    expect(peer.requests).toHaveLength(3);

    const [failed] = await deliveries();
    expect(failed!.status).toBe("failed");
    expect(failed!.attempts).toBe(3);
    expect(failed!.last_error).toBe("HTTP 500: receiver is broken");
    const { rows: attempts } = await getPool().query(
      "SELECT attempt, succeeded, http_status FROM notification_attempt ORDER BY attempt",
    );
    expect(attempts).toEqual([
      { attempt: 1, succeeded: false, http_status: 500 },
      { attempt: 2, succeeded: false, http_status: 500 },
      { attempt: 3, succeeded: false, http_status: 500 },
    ]);
    const { rows: nextAttempt } = await getPool().query(
      "SELECT next_attempt_at FROM notification_delivery",
    );
    expect(nextAttempt[0]!.next_attempt_at).toBeNull();
    expect(await eventKinds(incidentId)).toContain("notification_failed");
    const { rows: events } = await getPool().query<{ message: string }>(
      "SELECT message FROM incident_event WHERE kind = 'notification_failed'",
    );
    expect(events[0]!.message).toContain("failed after 3 attempts: HTTP 500");
    // The secret path of the webhook URL stays out of the timeline.
    expect(events[0]!.message).not.toContain("secret-token");
  });

  it("hanging peer times out, others deliver", async () => {
    const hanging = await httpPeer("hang");
    const healthy = await httpPeer("ok");
    const smtp = await smtpPeer();
    const hangId = await createChannel({ name: "hangs", type: "webhook", config: { url: hanging.url } });
    const okId = await createChannel({ name: "works", type: "slack", config: { url: healthy.url } });
    const mailId = await createChannel({
      name: "mail",
      type: "email",
      config: {
        host: smtp.host,
        port: smtp.port,
        username: SMTP_USER,
        password: SMTP_PASSWORD,
        from: "vigil@example.test",
        to: ["oncall@example.test"],
      },
    });
    for (const channelId of [hangId, okId, mailId]) await createRule({ channelId });
    await sendAlert(alertBody("firing"));
    expect(await queuedJobs()).toHaveLength(3);

    // The real worker runs the three jobs, and the retries of the hanging
    // channel, until every delivery is finished.
    const worker = await startWorker({
      connectionString: process.env.DATABASE_URL,
      concurrency: 2,
      pollIntervalMs: 100,
    });
    try {
      await waitFor(async () => {
        const rows = await deliveries();
        return rows.every((row) => row.status === "sent" || row.status === "failed")
          ? rows
          : undefined;
      }, 30_000);
    } finally {
      await worker.stop();
    }

    const byChannel = new Map((await deliveries()).map((row) => [row.channel_id, row]));
    expect(byChannel.get(okId)!.status).toBe("sent");
    expect(byChannel.get(mailId)!.status).toBe("sent");
    expect(byChannel.get(hangId)!.status).toBe("failed");
    expect(byChannel.get(hangId)!.attempts).toBe(3);
    expect(byChannel.get(hangId)!.last_error).toBe("timed out after 1000 ms");
    expect(healthy.requests).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    expect(hanging.requests).toHaveLength(3);
  });

  it("routes by service and severity", async () => {
    const peer = await httpPeer("ok");
    const checkoutCritical = await createChannel({ name: "checkout sev1-2", type: "webhook", config: { url: peer.url } });
    const everything = await createChannel({ name: "all", type: "webhook", config: { url: peer.url } });
    const billingOnly = await createChannel({ name: "billing", type: "webhook", config: { url: peer.url } });
    const noRules = await createChannel({ name: "no rules", type: "webhook", config: { url: peer.url } });
    const disabled = await createChannel({ name: "off", type: "webhook", enabled: false, config: { url: peer.url } });
    await createRule({ channelId: checkoutCritical, service: "checkout", minSeverity: "sev2" });
    await createRule({ channelId: everything });
    await createRule({ channelId: billingOnly, service: "billing" });
    // Two matching rules still give one delivery.
    await createRule({ channelId: billingOnly, service: "billing", minSeverity: "sev1" });
    await createRule({ channelId: disabled });

    const channelsFor = async (incidentId: number) =>
      (await deliveries())
        .filter((row) => row.incident_id === incidentId)
        .map((row) => row.channel_id)
        .sort((a, b) => a - b);

    const checkoutSev1 = await sendAlert(alertBody("firing", { severity: "critical", fingerprint: "a1" }));
    expect(await channelsFor(checkoutSev1)).toEqual([checkoutCritical, everything]);

    // Another alertname, because an alert of the same name and start would
    // join the sev1 incident (alert grouping).
    const checkoutSev3 = await sendAlert(
      alertBody("firing", { severity: "warning", fingerprint: "a2", alertname: "HighErrorRate" }),
    );
    expect(await channelsFor(checkoutSev3)).toEqual([everything]);

    const billingSev1 = await sendAlert(
      alertBody("firing", { service: "billing", severity: "critical", fingerprint: "a3" }),
    );
    expect(await channelsFor(billingSev1)).toEqual([everything, billingOnly]);

    const all = await deliveries();
    expect(all.some((row) => row.channel_id === noRules)).toBe(false);
    expect(all.some((row) => row.channel_id === disabled)).toBe(false);
  });

  it("no duplicate on a rerun", async () => {
    const peer = await httpPeer("ok");
    const channelId = await createChannel({ name: "hook", type: "webhook", config: { url: peer.url } });
    await createRule({ channelId });
    const incidentId = await sendAlert(alertBody("firing"));
    const [delivery] = await deliveries();
    expect(await attempt(delivery!.id)).toEqual({ outcome: "sent", attempt: 1 });

    // A second run of the same job, and a second enqueue of the event.
    expect(await attempt(delivery!.id)).toEqual({ outcome: "skipped", reason: "already sent" });
    expect(await enqueueIncidentNotifications(getPool(), incidentId, "opened")).toBe(0);
    // A retried alert delivery joins the incident and adds nothing.
    await sendAlert(alertBody("firing"));

    expect(peer.requests).toHaveLength(1);
    expect(await deliveries()).toHaveLength(1);
    expect((await eventKinds(incidentId)).filter((kind) => kind === "notification_sent")).toHaveLength(1);
  });

  it("detector open and recovery notify", async () => {
    const peer = await httpPeer("ok");
    const channelId = await createChannel({ name: "hook", type: "webhook", config: { url: peer.url } });
    await createRule({ channelId, service: "checkout" });
    const pool = getPool();
    const { rows: created } = await pool.query<{ id: number; service_id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       SELECT id, 'cpu_utilization', '{}', '{}' FROM service WHERE slug = 'checkout'
       RETURNING id, service_id`,
    );
    const series: SeriesContext = {
      seriesId: created[0]!.id,
      serviceId: created[0]!.service_id,
      serviceSlug: "checkout",
      serviceName: "Checkout",
      metricName: "cpu_utilization",
      labels: {},
    };
    const point = (iso: string, score: number) => ({
      ts: new Date(iso),
      value: 97.5,
      score,
      likelihood: 0.99,
      isAnomaly: score > 1,
      expectedLow: 10,
      expectedHigh: 40,
    });
    const onset = point("2026-12-04T10:00:00Z", 1.2);

    const client = await pool.connect();
    let incidentId: number;
    try {
      await client.query("BEGIN");
      const opened = await recordEpisode(client, series, { continuesPrevious: false, onset, peak: onset });
      await client.query("COMMIT");
      expect(opened.outcome).toBe("opened");
      incidentId = (opened as { incidentId: number }).incidentId;

      await client.query("BEGIN");
      const recovered = await recordRecovery(client, series, point("2026-12-04T11:00:00Z", 0.1), {
        autoResolve: true,
      });
      await client.query("COMMIT");
      expect(recovered.outcome).toBe("resolved");
    } finally {
      client.release();
    }

    expect((await deliveries()).map((row) => row.event)).toEqual(["opened", "resolved"]);
    await drainDeliveries();
    const bodies = peer.requests.map((request) => JSON.parse(request.body) as Json);
    expect(bodies.map((body) => body.event)).toEqual(["incident.opened", "incident.resolved"]);
    expect(bodies[0]!.incident.id).toBe(incidentId);
    expect(bodies[0]!.incident.source).toBe("detector");
    expect(bodies[0]!.incident.title).toBe("Anomaly in cpu_utilization on Checkout");
  });

  it("manual resolve notifies", async () => {
    const peer = await httpPeer("ok");
    const channelId = await createChannel({ name: "hook", type: "webhook", config: { url: peer.url } });
    await createRule({ channelId });
    const incidentId = await sendAlert(alertBody("firing"));
    const { rows } = await getPool().query<{ id: number }>(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ('rui@example.test', 'Rui', '-', 'responder') RETURNING id`,
    );
    const result = await resolveIncident(incidentId, { id: rows[0]!.id, name: "Rui" });
    expect(result.outcome).toBe("applied");
    expect((await deliveries()).map((row) => row.event)).toEqual(["opened", "resolved"]);
    await drainDeliveries();
    expect(peer.requests.map((request) => (JSON.parse(request.body) as Json).event)).toEqual([
      "incident.opened",
      "incident.resolved",
    ]);
  });

  it("a more severe alert joining the incident notifies the channels that now match", async () => {
    const everything = await httpPeer("ok");
    const critical = await httpPeer("ok");
    const everythingId = await createChannel({ name: "all", type: "webhook", config: { url: everything.url } });
    const criticalId = await createChannel({ name: "sev1", type: "webhook", config: { url: critical.url } });
    await createRule({ channelId: everythingId });
    await createRule({ channelId: criticalId, minSeverity: "sev1" });

    const incidentId = await sendAlert(alertBody("firing", { severity: "warning" }));
    const joined = await sendAlert(
      alertBody("firing", { severity: "critical", fingerprint: "5555666677778888" }),
    );
    expect(joined).toBe(incidentId);
    // Sent again, the joined alert changes nothing.
    await sendAlert(alertBody("firing", { severity: "critical", fingerprint: "5555666677778888" }));

    const { rows } = await getPool().query<{ message: string; actor_type: string }>(
      "SELECT message, actor_type::text FROM incident_event WHERE incident_id = $1 AND kind = 'severity_changed'",
      [incidentId],
    );
    expect(rows).toEqual([
      {
        message: "Severity raised from SEV3 to SEV1: alert HighLatency joined with severity SEV1",
        actor_type: "token",
      },
    ]);
    await drainDeliveries();
    expect(everything.requests).toHaveLength(1);
    expect(critical.requests).toHaveLength(1);
    const body = JSON.parse(critical.requests[0]!.body) as Json;
    expect(body.event).toBe("incident.opened");
    expect(body.incident.severity).toBe("sev1");
  });

  it("a reopen notifies, and so does the next resolve", async () => {
    const peer = await httpPeer("ok");
    const channelId = await createChannel({ name: "hook", type: "webhook", config: { url: peer.url } });
    await createRule({ channelId });
    const incidentId = await sendAlert(alertBody("firing"));
    const { rows } = await getPool().query<{ id: number }>(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ('rui@example.test', 'Rui', '-', 'responder') RETURNING id`,
    );
    const rui = { id: rows[0]!.id, name: "Rui" };
    expect((await resolveIncident(incidentId, rui)).outcome).toBe("applied");
    expect((await reopenIncident(incidentId, rui, "errors are back")).outcome).toBe("applied");
    // A second reopen of an open incident changes nothing and sends nothing.
    expect((await reopenIncident(incidentId, rui, "again")).outcome).toBe("unchanged");
    expect((await resolveIncident(incidentId, rui)).outcome).toBe("applied");
    expect((await resolveIncident(incidentId, rui)).outcome).toBe("unchanged");

    const { rows: keys } = await getPool().query<{ event: string; page_key: string }>(
      "SELECT event, page_key FROM notification_delivery ORDER BY id",
    );
    expect(keys).toEqual([
      { event: "opened", page_key: "" },
      { event: "resolved", page_key: "" },
      { event: "reopened", page_key: "reopen 1" },
      { event: "resolved", page_key: "reopen 1" },
    ]);
    await drainDeliveries();
    const bodies = peer.requests.map((request) => JSON.parse(request.body) as Json);
    expect(bodies.map((body) => body.event)).toEqual([
      "incident.opened",
      "incident.resolved",
      "incident.reopened",
      "incident.resolved",
    ]);
  });
});
