import path from "node:path";

import { parse } from "csv-parse/sync";
import { simpleParser, type ParsedMail } from "mailparser";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// The config is read once per test file, so the session secret and the
// notification settings are set before any Vigil module loads. Three
// attempts with a 60 s base delay keep the retry cases short on the test
// clock.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "report-schedules-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  process.env.VIGIL_PUBLIC_URL = "http://127.0.0.1:3301";
  process.env.VIGIL_NOTIFY_TIMEOUT_MS = "2000";
  process.env.VIGIL_NOTIFY_MAX_ATTEMPTS = "3";
  process.env.VIGIL_NOTIFY_RETRY_BASE_SECONDS = "60";
  return secret;
});

import { POST as createChannelPost } from "@/app/api/v1/notification-channels/route";
import { PATCH as patchChannel } from "@/app/api/v1/notification-channels/[id]/route";
import {
  DELETE as deleteSchedule,
  GET as getSchedule,
  PATCH as patchSchedule,
} from "@/app/api/v1/report-schedules/[id]/route";
import { POST as sendNowPost } from "@/app/api/v1/report-schedules/[id]/send/route";
import { GET as listSchedules, POST as createSchedule } from "@/app/api/v1/report-schedules/route";
import { createApiToken } from "@/lib/auth/api-token";
import { now, resetClock, setClock } from "@/lib/clock";
import { closeDb, getPool } from "@/lib/db";
import { getKpis, type KpiSet } from "@/lib/kpi";
import { logger } from "@/lib/logger";
import { PERIOD_ROW_WEEK } from "@/lib/reports/csv";
import { REPORT_KPI_COLUMNS, REPORT_KPI_ORDER } from "@/lib/reports/format";
import { queueDueRuns, sendDueRuns, type RunOptions } from "@/lib/reports/schedule-runs";
import {
  lastRunAtOrBefore,
  nextRunAfter,
  reportPeriodFor,
  type ScheduleTiming,
} from "@/lib/reports/schedule-time";
import { truncateAll } from "@/tests/support/database";
import { startSmtpPeer, type SmtpPeer } from "@/tests/support/notification-peers";
import { callRoute, sessionCookieFor, type Json } from "@/tests/support/route-calls";
import { startWorker } from "@/workers/main";

// Scheduled reports against real PostgreSQL and SMTP servers on 127.0.0.1.
// A due schedule mails its PDF and CSVs for the right period, and two
// workers send a period once. Failed mail is retried with backoff. The
// other tests cover run times across daylight saving time changes,
// validation and roles.

const BASE = "http://127.0.0.1:3301";
const SMTP_USER = "report-mailer";
const SMTP_PASSWORD = "report-smtp-password";
const log = logger.child({ test: "report-schedules" });
const RUN_OPTIONS: RunOptions = { timeoutMs: 2000, maxAttempts: 3, retryBaseSeconds: 60 };

type Fixture = {
  adminToken: string;
  ingestToken: string;
  boundToken: string;
  managerCookie: string;
  responderCookie: string;
  viewerCookie: string;
  services: { checkout: number; orders: number };
};

let fixture: Fixture;
let smtp: SmtpPeer;
let dedup = 0;

function at(time: string): void {
  const fixed = new Date(time);
  setClock(() => fixed);
}

async function insertUser(email: string, role: string) {
  const { rows } = await getPool().query<{ id: number; name: string }>(
    `INSERT INTO user_account (email, name, password_hash, role)
     VALUES ($1, $2, '-', $3) RETURNING id, name`,
    [email, `User ${role}`, role],
  );
  return rows[0]!;
}

async function insertService(slug: string): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ($1, $2) RETURNING id",
    [slug, `Service ${slug}`],
  );
  return rows[0]!.id;
}

async function insertIncident(serviceId: number, openedAt: string, resolvedAfterMin: number, severity = "sev2") {
  dedup += 1;
  const opened = new Date(openedAt);
  const resolved = new Date(opened.getTime() + resolvedAfterMin * 60_000);
  const acknowledged = new Date(opened.getTime() + 5 * 60_000);
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO incident (service_id, title, status, severity, source, dedup_key,
       opened_at, acknowledged_at, resolved_at)
     VALUES ($1, $2, 'resolved', $3, 'manual', $4, $5, $6, $7) RETURNING id`,
    [serviceId, `Incident ${dedup}`, severity, `schedule-${dedup}`, opened, acknowledged, resolved],
  );
  for (const [kind, time] of [
    ["opened", opened],
    ["acknowledged", acknowledged],
    ["resolved", resolved],
  ] as const) {
    await getPool().query(
      `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name, message, created_at)
       VALUES ($1, $2, 'user', 'Alice', $2, $3)`,
      [rows[0]!.id, kind, time],
    );
  }
}

async function seed(): Promise<Fixture> {
  const checkout = await insertService("checkout-api");
  const orders = await insertService("orders-db");
  // The week of 2026-11-16 in Europe/Berlin, the one before and the one after.
  await insertIncident(checkout, "2026-11-10T09:00:00Z", 30, "sev1");
  await insertIncident(checkout, "2026-11-16T10:00:00Z", 45, "sev1");
  await insertIncident(checkout, "2026-11-18T03:00:00Z", 120);
  await insertIncident(orders, "2026-11-20T12:00:00Z", 15, "sev3");
  // Sunday 23:30 UTC is Monday 00:30 in Berlin: after the Berlin week.
  await insertIncident(orders, "2026-11-22T23:30:00Z", 20);
  await insertIncident(orders, "2026-11-24T08:00:00Z", 60);
  for (const time of ["2026-11-16T09:00:00Z", "2026-11-19T14:00:00Z"]) {
    await getPool().query("INSERT INTO deployment (service_id, version, deployed_at) VALUES ($1, 'v1', $2)", [
      checkout,
      new Date(time),
    ]);
  }
  const manager = await insertUser("manager@schedules.test", "manager");
  const responder = await insertUser("responder@schedules.test", "responder");
  const viewer = await insertUser("viewer@schedules.test", "viewer");
  return {
    adminToken: (await createApiToken({ name: "schedules admin", scope: "admin" })).token,
    ingestToken: (await createApiToken({ name: "schedules ingest", scope: "ingest" })).token,
    boundToken: (await createApiToken({ name: "orders admin", scope: "admin", serviceId: orders })).token,
    managerCookie: await sessionCookieFor(manager, SESSION_SECRET),
    responderCookie: await sessionCookieFor(responder, SESSION_SECRET),
    viewerCookie: await sessionCookieFor(viewer, SESSION_SECRET),
    services: { checkout, orders },
  };
}

async function createEmailChannel(name: string, password = SMTP_PASSWORD): Promise<number> {
  const response = await createChannelPost(
    new Request(`${BASE}/api/v1/notification-channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${fixture.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        name,
        type: "email",
        config: {
          host: smtp.host,
          port: smtp.port,
          username: SMTP_USER,
          password,
          from: "vigil@example.test",
          to: [`${name.toLowerCase().replace(/\W+/g, "-")}@example.test`],
        },
      }),
    }),
  );
  const json = (await response.json()) as Json;
  expect(response.status, JSON.stringify(json)).toBe(201);
  return json.channel.id;
}

async function createWebhookChannel(): Promise<number> {
  const response = await createChannelPost(
    new Request(`${BASE}/api/v1/notification-channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${fixture.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Hook", type: "webhook", config: { url: "http://127.0.0.1:9/hook" } }),
    }),
  );
  expect(response.status).toBe(201);
  return ((await response.json()) as Json).channel.id;
}

function weeklyBody(channels: number[], extra: Json = {}): Json {
  return {
    name: "Weekly reliability",
    cadence: "weekly",
    dayOfWeek: 1,
    timeOfDay: "08:00",
    timeZone: "Europe/Berlin",
    services: ["checkout-api", "orders-db"],
    formats: ["pdf", "csv"],
    channels,
    ...extra,
  };
}

async function create(body: Json, cookie = fixture.managerCookie) {
  return callRoute(createSchedule, "POST", `${BASE}/api/v1/report-schedules`, { cookie }, body);
}

/** Queues and sends what is due at the test clock's time, as one task run does. */
async function runTask(): Promise<void> {
  await queueDueRuns(getPool(), now(), log);
  await sendDueRuns(getPool(), now(), RUN_OPTIONS, log);
}

async function parseMail(index: number): Promise<ParsedMail> {
  return simpleParser(smtp.mails[index]!.raw);
}

function attachment(mail: ParsedMail, prefix: string, extension: string) {
  const found = mail.attachments.find(
    (file) => file.filename?.startsWith(prefix) && file.filename.endsWith(`.${extension}`),
  );
  expect(found, `${prefix}*.${extension} in ${mail.attachments.map((file) => file.filename).join(", ")}`).toBeDefined();
  return found!;
}

function expectRowMatches(row: Record<string, string>, kpis: KpiSet, label: string): void {
  for (const name of REPORT_KPI_ORDER) {
    const column = REPORT_KPI_COLUMNS[name];
    const value = kpis[name].value;
    expect(row[column.csvColumn], `${label} ${column.csvColumn}`).toBe(value === null ? "" : String(value));
    expect(Number(row[column.csvSampleColumn]), `${label} ${column.csvSampleColumn}`).toBe(kpis[name].sampleSize);
  }
}

async function pdfText(bytes: Buffer): Promise<string> {
  const document = await getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: `${path.resolve("node_modules/pdfjs-dist/standard_fonts")}/`,
  }).promise;
  const pages: string[] = [];
  for (let number = 1; number <= document.numPages; number += 1) {
    const content = await (await document.getPage(number)).getTextContent();
    pages.push(content.items.map((item) => ("str" in item ? item.str : "")).join(" "));
  }
  await document.destroy();
  return pages.join("\n").replace(/\s+/g, " ");
}

async function runRows(scheduleId: number) {
  const { rows } = await getPool().query(
    `SELECT id, period_start, period_end, status, attempts, error, next_attempt_at, sent_at
       FROM report_schedule_run WHERE schedule_id = $1 ORDER BY period_start`,
    [scheduleId],
  );
  return rows;
}

beforeAll(async () => {
  smtp = await startSmtpPeer(SMTP_USER, SMTP_PASSWORD);
});

beforeEach(async () => {
  resetClock();
  await truncateAll(process.env.DATABASE_URL!);
  fixture = await seed();
  smtp.mails.length = 0;
});

afterEach(() => {
  resetClock();
});

afterAll(async () => {
  await smtp.close();
  await closeDb();
});

describe("scheduled report runs", () => {
  it("mails a due weekly report", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-11-23T06:00:00Z"); // Monday 07:00 in Berlin
    const created = await create(weeklyBody([channel]));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const schedule = created.json.schedule;
    expect(schedule.nextRunAt).toBe("2026-11-23T07:00:00.000Z");

    at("2026-11-23T06:59:00Z");
    await runTask();
    expect(smtp.mails).toHaveLength(0);

    at("2026-11-23T07:00:30Z");
    await runTask();
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.to).toEqual(["ops-mail@example.test"]);

    // Monday 2026-11-16 00:00 to Monday 2026-11-23 00:00 in Berlin (UTC+1).
    const from = new Date("2026-11-15T23:00:00Z");
    const to = new Date("2026-11-22T23:00:00Z");
    const mail = await parseMail(0);
    expect(mail.subject).toBe('Vigil reliability report "Weekly reliability", 2026-11-15 to 2026-11-22');
    expect(mail.text).toContain("2026-11-15 23:00 UTC to 2026-11-22 23:00 UTC");
    // Each KPI line has a space between the title and the value.
    expect(mail.text).toMatch(/^ {2}Lead time for changes: \S/m);
    expect(mail.text).toMatch(/^ {2}Uptime: +\S/m);

    const csv = attachment(mail, "vigil-reliability-", "csv");
    const rows = parse(csv.content.toString("utf8"), { columns: true }) as Record<string, string>[];
    const periodRows = rows.filter((row) => row.week === PERIOD_ROW_WEEK);
    expect(periodRows.map((row) => row.service)).toEqual(["checkout-api", "orders-db", ""]);
    for (const row of periodRows) {
      expect(row.start).toBe(from.toISOString());
      expect(row.end).toBe(to.toISOString());
    }
    const ids = fixture.services;
    expectRowMatches(periodRows[0]!, await getKpis({ from, to, serviceIds: [ids.checkout] }), "checkout-api");
    expectRowMatches(periodRows[1]!, await getKpis({ from, to, serviceIds: [ids.orders] }), "orders-db");
    expectRowMatches(periodRows[2]!, await getKpis({ from, to, serviceIds: [ids.checkout, ids.orders] }), "selection");
    // Three incidents opened in the period: 16 Nov 10:00, 18 Nov 03:00 and 20 Nov 12:00 UTC.
    expect(periodRows[2]![REPORT_KPI_COLUMNS.incidentFrequency.csvSampleColumn]).toBe("3");

    const incidents = parse(attachment(mail, "vigil-incidents-", "csv").content.toString("utf8"), {
      columns: true,
    }) as Record<string, string>[];
    expect(incidents.map((row) => row.opened_at)).toEqual([
      "2026-11-16T10:00:00.000Z",
      "2026-11-18T03:00:00.000Z",
      "2026-11-20T12:00:00.000Z",
    ]);

    const pdf = attachment(mail, "vigil-reliability-", "pdf");
    expect(pdf.content.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(await pdfText(pdf.content)).toContain("2026-11-15 23:00 UTC to 2026-11-22 23:00 UTC");

    const runs = await runRows(schedule.id);
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe("sent");
    expect(runs[0].attempts).toBe(1);
    expect(runs[0].period_start.toISOString()).toBe(from.toISOString());

    const read = await callRoute(getSchedule, "GET", `${BASE}/api/v1/report-schedules/${schedule.id}`, {
      cookie: fixture.managerCookie,
    }, undefined, { id: String(schedule.id) });
    expect(read.status).toBe(200);
    expect(read.json.schedule.nextRunAt).toBe("2026-11-30T07:00:00.000Z");
    expect(read.json.schedule.lastRunAt).toBe("2026-11-23T07:00:00.000Z");
    expect(read.json.schedule.lastRun.status).toBe("sent");
    expect(read.json.schedule.runs).toHaveLength(1);

    // The same minute again sends nothing more.
    await runTask();
    expect(smtp.mails).toHaveLength(1);
  });

  it("sends a period once with two workers", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-11-23T06:00:00Z");
    const created = await create(weeklyBody([channel], { formats: ["csv"] }));
    expect(created.status).toBe(201);

    at("2026-11-23T07:05:00Z");
    await Promise.all([runTask(), runTask(), runTask()]);
    expect(smtp.mails).toHaveLength(1);
    const runs = await runRows(created.json.schedule.id);
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe("sent");

    // A run row for the period blocks a second one even if nextRunAt is
    // set back, as after a crash between the two writes.
    await getPool().query("UPDATE report_schedule SET next_run_at = '2026-11-23T07:00:00Z'");
    await runTask();
    expect(smtp.mails).toHaveLength(1);
    expect(await runRows(created.json.schedule.id)).toHaveLength(1);
  });

  it("retries a failed channel only", async () => {
    const good = await createEmailChannel("Ops mail");
    const bad = await createEmailChannel("Board mail", "wrong-password");
    at("2026-11-23T06:00:00Z");
    const created = await create(weeklyBody([good, bad], { formats: ["csv"] }));
    const id = created.json.schedule.id;

    at("2026-11-23T07:01:00Z");
    await runTask();
    expect(smtp.mails.map((mail) => mail.to[0])).toEqual(["ops-mail@example.test"]);
    let runs = await runRows(id);
    expect(runs[0].status).toBe("retrying");
    expect(runs[0].attempts).toBe(1);
    expect(runs[0].error).toContain('channel "Board mail": SMTP EAUTH');
    expect(runs[0].next_attempt_at.toISOString()).toBe("2026-11-23T07:02:00.000Z");

    // Not due again before the backoff has passed.
    at("2026-11-23T07:01:59Z");
    await runTask();
    expect(smtp.mails).toHaveLength(1);

    const fixed = await callRoute(patchChannel, "PATCH", `${BASE}/api/v1/notification-channels/${bad}`, {
      token: fixture.adminToken,
    }, { config: { password: SMTP_PASSWORD } }, { id: String(bad) });
    expect(fixed.status).toBe(200);

    at("2026-11-23T07:02:00Z");
    await runTask();
    expect(smtp.mails.map((mail) => mail.to[0])).toEqual(["ops-mail@example.test", "board-mail@example.test"]);
    runs = await runRows(id);
    expect(runs[0].status).toBe("sent");
    expect(runs[0].attempts).toBe(2);
    expect(runs[0].error).toBeNull();
  });

  it("records a failure after the last attempt", async () => {
    const bad = await createEmailChannel("Board mail", "wrong-password");
    at("2026-11-23T06:00:00Z");
    const created = await create(weeklyBody([bad], { formats: ["pdf"] }));
    const id = created.json.schedule.id;

    // Attempts at 07:00, then after 60 s and 120 s of backoff.
    for (const time of ["2026-11-23T07:00:00Z", "2026-11-23T07:01:00Z", "2026-11-23T07:03:00Z"]) {
      at(time);
      await runTask();
    }
    const runs = await runRows(id);
    expect(runs[0].status).toBe("failed");
    expect(runs[0].attempts).toBe(3);
    expect(runs[0].error).toMatch(/^channel "Board mail": SMTP EAUTH/);
    expect(smtp.mails).toHaveLength(0);

    at("2026-11-23T09:00:00Z");
    await runTask();
    expect((await runRows(id))[0].attempts).toBe(3);

    const list = await callRoute(listSchedules, "GET", `${BASE}/api/v1/report-schedules`, { cookie: fixture.managerCookie });
    expect(list.json.schedules[0].lastRun.status).toBe("failed");
    expect(list.json.schedules[0].lastRun.error).toContain("SMTP EAUTH");
  });

  it("fails a run whose service was deleted", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-11-23T06:00:00Z");
    const created = await create(weeklyBody([channel], { services: ["orders-db"] }));
    await getPool().query("DELETE FROM service WHERE slug = 'orders-db'");
    at("2026-11-23T07:00:00Z");
    await runTask();
    const runs = await runRows(created.json.schedule.id);
    expect(runs[0].status).toBe("failed");
    expect(runs[0].attempts).toBe(1);
    expect(runs[0].error).toContain("no longer exist");
    expect(smtp.mails).toHaveLength(0);
  });

  it("selects a team's services at send time", async () => {
    const channel = await createEmailChannel("Ops mail");
    const { rows } = await getPool().query<{ id: number }>(
      "INSERT INTO team (slug, name) VALUES ('payments', 'Payments') RETURNING id",
    );
    await getPool().query("UPDATE service SET team_id = $1 WHERE slug = 'checkout-api'", [rows[0]!.id]);
    at("2026-11-23T06:00:00Z");
    const created = await create(weeklyBody([channel], { services: [], teams: ["payments"], formats: ["csv"] }));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.schedule.teams.map((team: Json) => team.slug)).toEqual(["payments"]);
    expect(created.json.schedule.allServices).toBe(false);

    await getPool().query("UPDATE service SET team_id = $1 WHERE slug = 'orders-db'", [rows[0]!.id]);
    at("2026-11-23T07:00:00Z");
    await runTask();
    const mail = await parseMail(0);
    const csv = parse(attachment(mail, "vigil-reliability-", "csv").content.toString("utf8"), {
      columns: true,
    }) as Record<string, string>[];
    const services = [...new Set(csv.map((row) => row.service))];
    expect(services).toEqual(["checkout-api", "orders-db", ""]);
  });

  it("rejects an edit that drops a deleted team", async () => {
    const channel = await createEmailChannel("Ops mail");
    await getPool().query("INSERT INTO team (slug, name) VALUES ('payments', 'Payments')");
    const created = await create(weeklyBody([channel], { services: [], teams: ["payments"] }));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = String(created.json.schedule.id);
    const url = `${BASE}/api/v1/report-schedules/${id}`;
    const auth = { cookie: fixture.managerCookie };
    await getPool().query("DELETE FROM team WHERE slug = 'payments'");

    const renamed = await callRoute(patchSchedule, "PATCH", url, auth, { name: "Renamed" }, { id });
    expect(renamed.status, JSON.stringify(renamed.json)).toBe(409);
    expect(renamed.json.error.field).toBe("teams");
    const { rows } = await getPool().query(
      "SELECT name, all_services, cardinality(team_ids) AS teams FROM report_schedule WHERE id = $1",
      [id],
    );
    expect(rows[0]).toEqual({ name: "Weekly reliability", all_services: false, teams: 1 });

    const chosen = await callRoute(patchSchedule, "PATCH", url, auth, { teams: [], services: ["orders-db"] }, { id });
    expect(chosen.status, JSON.stringify(chosen.json)).toBe(200);
    expect(chosen.json.schedule.allServices).toBe(false);
    expect(chosen.json.schedule.services.map((service: Json) => service.slug)).toEqual(["orders-db"]);
  });

  it("rejects an edit that drops a deleted service", async () => {
    const channel = await createEmailChannel("Ops mail");
    await getPool().query("INSERT INTO service (slug, name) VALUES ('old-batch', 'Old batch')");
    const created = await create(weeklyBody([channel], { services: ["old-batch"] }));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = String(created.json.schedule.id);
    const url = `${BASE}/api/v1/report-schedules/${id}`;
    await getPool().query("DELETE FROM service WHERE slug = 'old-batch'");

    const renamed = await callRoute(patchSchedule, "PATCH", url, { cookie: fixture.managerCookie }, { name: "Renamed" }, { id });
    expect(renamed.status, JSON.stringify(renamed.json)).toBe(409);
    expect(renamed.json.error.field).toBe("services");
    const { rows } = await getPool().query("SELECT all_services FROM report_schedule WHERE id = $1", [id]);
    expect(rows[0].all_services).toBe(false);
  });

  it("skips an overlapping period after a zone change", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-11-20T00:00:00Z");
    const created = await create(
      weeklyBody([channel], { timeZone: "Asia/Tokyo", timeOfDay: "00:00", formats: ["csv"] }),
    );
    const id = String(created.json.schedule.id);
    expect(created.json.schedule.nextRunAt).toBe("2026-11-22T15:00:00.000Z");
    at("2026-11-22T15:00:30Z");
    await runTask();
    expect(smtp.mails).toHaveLength(1);

    at("2026-11-22T16:00:00Z");
    const url = `${BASE}/api/v1/report-schedules/${id}`;
    const utc = await callRoute(patchSchedule, "PATCH", url, { cookie: fixture.managerCookie }, { timeZone: "UTC" }, { id });
    expect(utc.status, JSON.stringify(utc.json)).toBe(200);
    // The UTC week of 11-16 to 11-23 overlaps the Tokyo week already sent.
    expect(utc.json.schedule.nextRunAt).toBe("2026-11-30T00:00:00.000Z");

    // The worker also skips the overlapping period when nextRunAt reaches it.
    await getPool().query("UPDATE report_schedule SET next_run_at = '2026-11-23T00:00:00Z' WHERE id = $1", [id]);
    at("2026-11-23T00:00:30Z");
    await runTask();
    expect(smtp.mails).toHaveLength(1);
    const runs = await runRows(Number(id));
    expect(runs).toHaveLength(1);
    at("2026-11-30T00:00:30Z");
    await runTask();
    expect(smtp.mails).toHaveLength(2);
    const periods = (await runRows(Number(id))).map((run) => (run.period_start as Date).toISOString());
    expect(periods).toEqual(["2026-11-15T15:00:00.000Z", "2026-11-23T00:00:00.000Z"]);
  });

  it("runs as a worker task", async () => {
    const channel = await createEmailChannel("Ops mail");
    const created = await create(weeklyBody([channel], { formats: ["csv"] }));
    expect(created.status).toBe(201);
    // Due now on the system clock, which the worker reads.
    await getPool().query("UPDATE report_schedule SET next_run_at = now() - interval '1 minute'");
    const worker = await startWorker({ connectionString: process.env.DATABASE_URL!, pollIntervalMs: 200, concurrency: 2 });
    try {
      await getPool().query("SELECT graphile_worker.add_job('send-scheduled-reports')");
      const deadline = Date.now() + 20_000;
      while (smtp.mails.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await worker.stop();
    }
    expect(smtp.mails).toHaveLength(1);
    const runs = await runRows(created.json.schedule.id);
    expect(runs[0].status).toBe("sent");
  });
});

describe("report schedule run times", () => {
  const weekly = (dayOfWeek: number, timeOfDay: string, timeZone = "Europe/Berlin"): ScheduleTiming => ({
    cadence: "weekly",
    dayOfWeek,
    dayOfMonth: null,
    lastDayOfMonth: false,
    timeOfDay,
    timeZone,
  });
  const monthly = (dayOfMonth: number | "last", timeOfDay: string, timeZone: string): ScheduleTiming => ({
    cadence: "monthly",
    dayOfWeek: null,
    dayOfMonth: dayOfMonth === "last" ? null : dayOfMonth,
    lastDayOfMonth: dayOfMonth === "last",
    timeOfDay,
    timeZone,
  });
  const next = (timing: ScheduleTiming, time: string) => nextRunAfter(timing, new Date(time)).toISOString();

  it("moves a skipped time forward in spring", () => {
    // 2026-03-29 02:30 does not exist in Berlin; the run is at 03:30 CEST.
    expect(next(weekly(7, "02:30"), "2026-03-28T12:00:00Z")).toBe("2026-03-29T01:30:00.000Z");
    expect(next(weekly(7, "02:30"), "2026-03-29T01:30:00Z")).toBe("2026-04-05T00:30:00.000Z");
  });

  it("runs a repeated time once in autumn", () => {
    // 02:30 occurs twice on 2026-10-25 in Berlin; the run is at the second, in CET.
    expect(next(weekly(7, "02:30"), "2026-10-24T12:00:00Z")).toBe("2026-10-25T01:30:00.000Z");
    expect(next(weekly(7, "02:30"), "2026-10-25T01:30:00Z")).toBe("2026-11-01T01:30:00.000Z");
  });

  it("keeps local time across a change", () => {
    expect(next(weekly(1, "08:00"), "2026-10-19T06:00:00Z")).toBe("2026-10-26T07:00:00.000Z");
    expect(next(weekly(1, "08:00", "America/New_York"), "2026-03-02T13:00:00Z")).toBe("2026-03-09T12:00:00.000Z");
    expect(lastRunAtOrBefore(weekly(1, "08:00"), new Date("2026-10-28T00:00:00Z")).toISOString()).toBe(
      "2026-10-26T07:00:00.000Z",
    );
  });

  it("reports a week with a change", () => {
    const period = reportPeriodFor(weekly(1, "08:00"), new Date("2026-10-26T07:00:00Z"));
    expect(period.from.toISOString()).toBe("2026-10-18T22:00:00.000Z");
    expect(period.to.toISOString()).toBe("2026-10-25T23:00:00.000Z");
    // 7 days and the hour that the clocks went back.
    expect(period.to.getTime() - period.from.getTime()).toBe((7 * 24 + 1) * 3_600_000);
  });

  it("reports the previous calendar month", () => {
    const timing = monthly(1, "06:00", "Europe/Berlin");
    expect(next(timing, "2026-03-15T00:00:00Z")).toBe("2026-04-01T04:00:00.000Z");
    const period = reportPeriodFor(timing, new Date("2026-04-01T04:00:00Z"));
    expect(period.from.toISOString()).toBe("2026-02-28T23:00:00.000Z");
    expect(period.to.toISOString()).toBe("2026-03-31T22:00:00.000Z");
  });

  it("runs on the last day of the month", () => {
    const timing = monthly("last", "09:00", "America/New_York");
    expect(next(timing, "2026-02-10T00:00:00Z")).toBe("2026-02-28T14:00:00.000Z");
    expect(next(timing, "2028-02-10T00:00:00Z")).toBe("2028-02-29T14:00:00.000Z");
    expect(next(timing, "2026-02-28T14:00:00Z")).toBe("2026-03-31T13:00:00.000Z");
  });

  it("computes nextRunAt in a change week through the API", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-03-28T12:00:00Z");
    const created = await create(weeklyBody([channel], { dayOfWeek: 7, timeOfDay: "02:30" }));
    expect(created.json.schedule.nextRunAt).toBe("2026-03-29T01:30:00.000Z");
  });
});

describe("report schedule API", () => {
  it("rejects invalid fields by name", async () => {
    const channel = await createEmailChannel("Ops mail");
    const hook = await createWebhookChannel();
    const cases: [Json, number, string][] = [
      [weeklyBody([channel], { dayOfWeek: undefined }), 400, "dayOfWeek"],
      [weeklyBody([channel], { dayOfWeek: 8 }), 400, "dayOfWeek"],
      [weeklyBody([channel], { dayOfMonth: 3 }), 400, "dayOfMonth"],
      [weeklyBody([channel], { cadence: "monthly", dayOfWeek: null, dayOfMonth: 29 }), 400, "dayOfMonth"],
      [weeklyBody([channel], { cadence: "daily" }), 400, "cadence"],
      [weeklyBody([channel], { timeOfDay: "24:00" }), 400, "timeOfDay"],
      [weeklyBody([channel], { timeZone: "Mars/Olympus" }), 400, "timeZone"],
      [weeklyBody([channel], { formats: [] }), 400, "formats"],
      [weeklyBody([channel], { formats: ["pdf", "pdf"] }), 400, "formats"],
      [weeklyBody([channel], { formats: ["xlsx"] }), 400, "formats[0]"],
      [weeklyBody([], {}), 400, "channels"],
      [weeklyBody([hook]), 422, "channels"],
      [weeklyBody([999999]), 404, "channels"],
      [weeklyBody([2147483648]), 400, "channels[0]"],
      [weeklyBody([99999999999]), 400, "channels[0]"],
      [weeklyBody([channel], { services: ["no-such-service"] }), 400, "services"],
      [weeklyBody([channel], { teams: ["no-such-team"] }), 400, "teams"],
      [weeklyBody([channel], { name: " " }), 400, "name"],
      [weeklyBody([channel], { name: "a\u0000" }), 400, "name"],
      [weeklyBody([channel], { name: "a\ud800" }), 400, "name"],
      [weeklyBody([channel], { name: "x\r\nBcc: evil@x.test" }), 400, "name"],
      [weeklyBody([channel], { name: "x\u001b[31m" }), 400, "name"],
      [weeklyBody([channel], { owner: "me" }), 400, "owner"],
    ];
    for (const [body, status, field] of cases) {
      const response = await create(body);
      expect(response.status, `${field}: ${JSON.stringify(response.json)}`).toBe(status);
      expect(response.json.error.field, JSON.stringify(response.json)).toBe(field);
    }
    const { rows } = await getPool().query("SELECT count(*)::int AS count FROM report_schedule");
    expect(rows[0].count).toBe(0);

    const lowerCase = await create(weeklyBody([channel], { timeZone: "europe/berlin" }));
    expect(lowerCase.status).toBe(201);
    expect(lowerCase.json.schedule.timeZone).toBe("Europe/Berlin");
    await getPool().query("DELETE FROM report_schedule");

    expect((await create(weeklyBody([channel]))).status).toBe(201);
    const taken = await create(weeklyBody([channel]));
    expect(taken.status).toBe(409);
    expect(taken.json.error.field).toBe("name");
  });

  it("edits, disables and deletes a schedule", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-11-23T06:00:00Z");
    const created = await create(weeklyBody([channel]));
    const id = String(created.json.schedule.id);
    const url = `${BASE}/api/v1/report-schedules/${id}`;
    const auth = { cookie: fixture.managerCookie };

    const monthly = await callRoute(patchSchedule, "PATCH", url, auth, { cadence: "monthly", dayOfMonth: "last" }, { id });
    expect(monthly.status, JSON.stringify(monthly.json)).toBe(200);
    expect(monthly.json.schedule.dayOfWeek).toBeNull();
    expect(monthly.json.schedule.dayOfMonth).toBe("last");
    expect(monthly.json.schedule.nextRunAt).toBe("2026-11-30T07:00:00.000Z");
    expect(monthly.json.schedule.services.map((service: Json) => service.slug)).toEqual(["checkout-api", "orders-db"]);

    // A rename after the run time keeps the run that the worker has not sent yet.
    at("2026-11-30T07:00:30Z");
    const renamed = await callRoute(patchSchedule, "PATCH", url, auth, { name: "Month end" }, { id });
    expect(renamed.status).toBe(200);
    expect(renamed.json.schedule.nextRunAt).toBe("2026-11-30T07:00:00.000Z");

    const disabled = await callRoute(patchSchedule, "PATCH", url, auth, { enabled: false }, { id });
    expect(disabled.json.schedule.nextRunAt).toBeNull();

    const invalid = await callRoute(patchSchedule, "PATCH", url, auth, { timeZone: "Nowhere/Town" }, { id });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.field).toBe("timeZone");

    const removed = await callRoute(deleteSchedule, "DELETE", url, auth, {}, { id });
    expect(removed.status).toBe(200);
    const gone = await callRoute(getSchedule, "GET", url, auth, undefined, { id });
    expect(gone.status).toBe(404);
  });

  it("sends the last period now", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-11-25T12:00:00Z");
    const created = await create(weeklyBody([channel], { formats: ["csv"] }));
    const id = String(created.json.schedule.id);
    const sent = await callRoute(sendNowPost, "POST", `${BASE}/api/v1/report-schedules/${id}/send`, {
      cookie: fixture.managerCookie,
    }, {}, { id });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect(sent.json.period).toEqual({ from: "2026-11-15T23:00:00.000Z", to: "2026-11-22T23:00:00.000Z" });
    expect(sent.json.sent).toEqual([{ channelId: channel, name: "Ops mail" }]);
    expect(smtp.mails).toHaveLength(1);
    expect(await runRows(Number(id))).toHaveLength(0);

    const bad = await createEmailChannel("Board mail", "wrong-password");
    await callRoute(patchSchedule, "PATCH", `${BASE}/api/v1/report-schedules/${id}`, {
      cookie: fixture.managerCookie,
    }, { channels: [channel, bad] }, { id });
    at("2026-11-25T12:01:00Z");
    const failed = await callRoute(sendNowPost, "POST", `${BASE}/api/v1/report-schedules/${id}/send`, {
      cookie: fixture.managerCookie,
    }, {}, { id });
    expect(failed.status).toBe(502);
    expect(failed.json.error.field).toBe("channels");
    expect(failed.json.error.message).toContain('"Board mail"');

    await getPool().query("DELETE FROM notification_channel");
    at("2026-11-25T12:02:00Z");
    const none = await callRoute(sendNowPost, "POST", `${BASE}/api/v1/report-schedules/${id}/send`, {
      cookie: fixture.managerCookie,
    }, {}, { id });
    expect(none.status).toBe(409);
    expect(none.json.error.field).toBe("channels");
  });

  it("limits Send now to one a minute", async () => {
    const channel = await createEmailChannel("Ops mail");
    at("2026-11-25T12:00:00Z");
    const created = await create(weeklyBody([channel], { formats: ["csv"] }));
    const id = String(created.json.schedule.id);
    const url = `${BASE}/api/v1/report-schedules/${id}/send`;
    const send = () =>
      sendNowPost(
        new Request(url, {
          method: "POST",
          headers: { cookie: fixture.managerCookie, "content-type": "application/json" },
          body: "{}",
        }),
        { params: Promise.resolve({ id }) },
      );

    expect((await send()).status).toBe(200);
    at("2026-11-25T12:00:40Z");
    const early = await send();
    expect(early.status).toBe(429);
    expect(early.headers.get("retry-after")).toBe("20");
    expect(((await early.json()) as Json).error.code).toBe("too_many_requests");
    expect(smtp.mails).toHaveLength(1);

    at("2026-11-25T12:01:00Z");
    expect((await send()).status).toBe(200);
    expect(smtp.mails).toHaveLength(2);

    // Parallel requests mail once.
    at("2026-11-25T12:02:30Z");
    const statuses = (await Promise.all([send(), send(), send()])).map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 429)).toHaveLength(2);
    expect(smtp.mails).toHaveLength(3);

    // A call that mails nothing does not start the minute.
    await getPool().query("DELETE FROM notification_channel");
    at("2026-11-25T12:04:00Z");
    expect((await send()).status).toBe(409);
    expect((await send()).status).toBe(409);
  });

  it("lets only managers and admins in", async () => {
    const channel = await createEmailChannel("Ops mail");
    const url = `${BASE}/api/v1/report-schedules`;
    expect((await callRoute(listSchedules, "GET", url, {})).status).toBe(401);
    expect((await callRoute(listSchedules, "GET", url, { cookie: fixture.viewerCookie })).status).toBe(403);
    expect((await callRoute(listSchedules, "GET", url, { cookie: fixture.responderCookie })).status).toBe(403);
    expect((await callRoute(listSchedules, "GET", url, { token: fixture.ingestToken })).status).toBe(403);
    expect((await callRoute(listSchedules, "GET", url, { token: fixture.boundToken })).status).toBe(403);
    expect((await create(weeklyBody([channel]), fixture.responderCookie)).status).toBe(403);
    expect((await create(weeklyBody([channel]), fixture.viewerCookie)).status).toBe(403);

    const byToken = await callRoute(createSchedule, "POST", url, { token: fixture.adminToken }, weeklyBody([channel]));
    expect(byToken.status).toBe(201);
    expect(byToken.json.schedule.createdBy).toBe("API token schedules admin");
    const list = await callRoute(listSchedules, "GET", url, { cookie: fixture.managerCookie });
    expect(list.status).toBe(200);
    expect(list.json.schedules).toHaveLength(1);
  });
});
