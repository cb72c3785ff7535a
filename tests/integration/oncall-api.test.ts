import { afterAll, beforeEach, describe, expect, it } from "vitest";

import * as overrideItemRoute from "@/app/api/v1/schedules/[id]/overrides/[overrideId]/route";
import * as overridesRoute from "@/app/api/v1/schedules/[id]/overrides/route";
import * as scheduleRoute from "@/app/api/v1/schedules/[id]/route";
import * as schedulesRoute from "@/app/api/v1/schedules/route";
import * as policyRoute from "@/app/api/v1/escalation-policies/[id]/route";
import * as policiesRoute from "@/app/api/v1/escalation-policies/route";
import * as windowEndRoute from "@/app/api/v1/maintenance-windows/[id]/end/route";
import * as windowsRoute from "@/app/api/v1/maintenance-windows/route";
import * as oncallRoute from "@/app/api/v1/oncall/route";
import * as settingsRoute from "@/app/api/v1/oncall/settings/route";
import * as silenceEndRoute from "@/app/api/v1/silences/[id]/end/route";
import * as silencesRoute from "@/app/api/v1/silences/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool, getPrisma } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

// The on-call API through its route handlers: roles, validation that names
// the field, conflicts, and no partial writes.

type Json = Record<string, any>;
type Handler = (request: Request, context?: { params?: Promise<Record<string, string>> }) => Promise<Response>;

let adminToken: string;
let ingestToken: string;
let boundAdminToken: string;
let ana: { id: number };
let bo: { id: number };
let emailChannelId: number;
let webhookChannelId: number;

async function call(
  handler: Handler,
  options: { method?: string; token?: string | null; body?: unknown; params?: Record<string, string>; query?: string } = {},
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = options.token === undefined ? adminToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const request = new Request(`http://127.0.0.1/api/v1/test${options.query ?? ""}`, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const response = await handler(request, { params: Promise.resolve(options.params ?? {}) });
  return { status: response.status, json: (await response.json()) as Json };
}

function scheduleBody(overrides: Json = {}): Json {
  return {
    name: "Primary",
    timeZone: "Europe/Madrid",
    layers: [
      {
        name: "weekly",
        rotationUnit: "weeks",
        rotationLength: 1,
        handoffTime: "09:00",
        startDate: "2026-01-05",
        members: [ana.id, bo.id],
      },
    ],
    ...overrides,
  };
}

async function countRows(table: string): Promise<number> {
  const { rows } = await getPool().query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`);
  return rows[0]!.count;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const prisma = getPrisma();
  ana = await prisma.user.create({ data: { email: "ana@example.test", name: "Ana Pérez", passwordHash: "-" } });
  bo = await prisma.user.create({ data: { email: "bo@example.test", name: "Bo Lind", passwordHash: "-" } });
  const service = await prisma.service.create({ data: { slug: "checkout", name: "Checkout" } });
  adminToken = (await createApiToken({ name: "admin", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "ingest", scope: "ingest" })).token;
  boundAdminToken = (await createApiToken({ name: "bound", scope: "admin", serviceId: service.id })).token;
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO notification_channel (name, type, config)
     VALUES ('pager', 'email', '{"host":"127.0.0.1","port":2525,"secure":false,"username":null,"from":"v@example.test","to":["t@example.test"]}'),
            ('hook', 'webhook', '{"url":"http://127.0.0.1:9/hook"}')
     RETURNING id`,
  );
  emailChannelId = rows[0]!.id;
  webhookChannelId = rows[1]!.id;
});

afterAll(async () => {
  await closeDb();
});

describe("schedules API", () => {
  it("creates and reads a schedule", async () => {
    const created = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.schedule.layers[0].members.map((member: Json) => member.name)).toEqual([
      "Ana Pérez",
      "Bo Lind",
    ]);
    expect(created.json.schedule.onCall).not.toBeNull();
    expect(created.json.schedule.nextHandoff.at).toMatch(/T0[78]:00:00.000Z$/);

    const read = await call(scheduleRoute.GET, { token: ingestToken, params: { id: String(created.json.schedule.id) } });
    expect(read.status).toBe(200);
    expect(read.json.schedule.name).toBe("Primary");
  });

  it("names the invalid field", async () => {
    const cases: Array<[Json, string]> = [
      [scheduleBody({ timeZone: "Mars/Olympus" }), "timeZone"],
      [scheduleBody({ layers: [] }), "layers"],
      [scheduleBody({ layers: [{ ...scheduleBody().layers[0], handoffTime: "9am" }] }), "layers[0].handoffTime"],
      [scheduleBody({ layers: [{ ...scheduleBody().layers[0], startDate: "2026-02-30" }] }), "layers[0].startDate"],
      [scheduleBody({ layers: [{ ...scheduleBody().layers[0], endDate: "2025-01-01" }] }), "layers[0].endDate"],
      [scheduleBody({ layers: [{ ...scheduleBody().layers[0], rotationUnit: "months" }] }), "layers[0].rotationUnit"],
      [scheduleBody({ colour: "red" }), "colour"],
    ];
    for (const [body, field] of cases) {
      const response = await call(schedulesRoute.POST, { method: "POST", body });
      expect(response.status, field).toBe(400);
      expect(response.json.error.field, field).toBe(field);
    }
  });

  it("writes nothing for an unknown member", async () => {
    const body = scheduleBody({ layers: [{ ...scheduleBody().layers[0], members: [ana.id, 999_999] }] });
    const response = await call(schedulesRoute.POST, { method: "POST", body });
    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("layers[0].members[1]");
    expect(await countRows("oncall_schedule")).toBe(0);
    expect(await countRows("oncall_layer")).toBe(0);
  });

  it("rejects a duplicate name", async () => {
    expect((await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() })).status).toBe(201);
    const again = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    expect(again.status).toBe(409);
    expect(again.json.error.field).toBe("name");
  });

  it("checks roles", async () => {
    expect((await call(schedulesRoute.GET, { token: null })).status).toBe(401);
    expect((await call(schedulesRoute.GET, { token: ingestToken })).status).toBe(200);
    expect((await call(schedulesRoute.POST, { method: "POST", token: ingestToken, body: scheduleBody() })).status).toBe(403);
    expect((await call(schedulesRoute.POST, { method: "POST", token: boundAdminToken, body: scheduleBody() })).status).toBe(403);
    expect(await countRows("oncall_schedule")).toBe(0);
  });

  it("replaces layers and deletes", async () => {
    const created = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    const id = String(created.json.schedule.id);
    const patched = await call(scheduleRoute.PATCH, {
      method: "PATCH",
      params: { id },
      body: { name: "Secondary", layers: [{ ...scheduleBody().layers[0], members: [bo.id] }] },
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json.schedule.name).toBe("Secondary");
    expect(patched.json.schedule.onCall.name).toBe("Bo Lind");

    expect((await call(scheduleRoute.DELETE, { method: "DELETE", params: { id } })).status).toBe(200);
    expect((await call(scheduleRoute.GET, { params: { id } })).status).toBe(404);
    expect((await call(scheduleRoute.GET, { params: { id: "abc" } })).status).toBe(400);
  });
});

describe("overrides API", () => {
  it("adds, lists and deletes an override", async () => {
    const created = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody({ layers: [{ ...scheduleBody().layers[0], members: [ana.id] }] }) });
    const id = String(created.json.schedule.id);
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();

    const override = await call(overridesRoute.POST, {
      method: "POST",
      params: { id },
      body: { userId: bo.id, startsAt, endsAt, reason: "swap" },
    });
    expect(override.status, JSON.stringify(override.json)).toBe(201);
    const schedule = await call(scheduleRoute.GET, { params: { id } });
    expect(schedule.json.schedule.onCall.name).toBe("Bo Lind");
    expect(schedule.json.schedule.onCall.source).toBe("override");

    const listed = await call(overridesRoute.GET, { params: { id } });
    expect(listed.json.overrides).toHaveLength(1);

    const overrideId = String(override.json.override.id);
    expect((await call(overrideItemRoute.DELETE, { method: "DELETE", params: { id, overrideId } })).status).toBe(200);
    expect((await call(overrideItemRoute.DELETE, { method: "DELETE", params: { id, overrideId } })).status).toBe(404);
    expect((await call(scheduleRoute.GET, { params: { id } })).json.schedule.onCall.name).toBe("Ana Pérez");
  });

  it("validates the override period", async () => {
    const created = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    const id = String(created.json.schedule.id);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const cases: Array<[Json, string]> = [
      [{ userId: bo.id, startsAt: later, endsAt: later }, "endsAt"],
      [{ userId: bo.id, startsAt: "2020-01-01T00:00:00Z", endsAt: "2020-01-02T00:00:00Z" }, "endsAt"],
      [{ userId: bo.id, startsAt: "tomorrow", endsAt: later }, "startsAt"],
      [{ userId: 999_999, startsAt: new Date().toISOString(), endsAt: later }, "userId"],
    ];
    for (const [body, field] of cases) {
      const response = await call(overridesRoute.POST, { method: "POST", params: { id }, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.error.field).toBe(field);
    }
    expect(await countRows("oncall_override")).toBe(0);
    const missing = await call(overridesRoute.POST, {
      method: "POST",
      params: { id: "999999" },
      body: { userId: bo.id, startsAt: new Date().toISOString(), endsAt: later },
    });
    expect(missing.status).toBe(404);
  });
});

describe("escalation policies API", () => {
  async function scheduleId(): Promise<number> {
    return (await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() })).json.schedule.id;
  }

  function policyBody(schedule: number, overrides: Json = {}): Json {
    return {
      name: "Checkout on call",
      service: "checkout",
      levels: [
        { delayMinutes: 5, targets: [{ type: "schedule", scheduleId: schedule }] },
        { delayMinutes: 15, targets: [{ type: "user", userId: bo.id }, { type: "channel", channelId: webhookChannelId }] },
      ],
      ...overrides,
    };
  }

  it("creates, replaces and deletes a policy", async () => {
    const schedule = await scheduleId();
    const created = await call(policiesRoute.POST, { method: "POST", body: policyBody(schedule) });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.policy.levels.map((level: Json) => level.targets.map((target: Json) => target.name))).toEqual([
      ["Primary"],
      ["Bo Lind", "hook"],
    ]);
    const id = String(created.json.policy.id);

    const replaced = await call(policyRoute.PUT, {
      method: "PUT",
      params: { id },
      body: policyBody(schedule, { repeatCount: 2, pageChannelId: emailChannelId, levels: [{ delayMinutes: 3, targets: [{ type: "user", userId: ana.id }] }] }),
    });
    expect(replaced.status, JSON.stringify(replaced.json)).toBe(200);
    expect(replaced.json.policy.levels).toHaveLength(1);
    expect(replaced.json.policy.pageChannelName).toBe("pager");

    const overview = await call(oncallRoute.GET, { token: ingestToken });
    expect(overview.json.services[0].onCall.map((person: Json) => person.name)).toEqual(["Ana Pérez"]);

    expect((await call(policyRoute.DELETE, { method: "DELETE", params: { id } })).status).toBe(200);
    expect((await call(policyRoute.GET, { params: { id } })).status).toBe(404);
  });

  it("names invalid references and writes nothing", async () => {
    const schedule = await scheduleId();
    const cases: Array<[Json, string]> = [
      [policyBody(schedule, { service: "nope" }), "service"],
      [policyBody(999_999), "levels[0].targets[0].scheduleId"],
      [policyBody(schedule, { pageChannelId: webhookChannelId }), "pageChannelId"],
      [policyBody(schedule, { levels: [] }), "levels"],
      [policyBody(schedule, { levels: [{ delayMinutes: 0, targets: [{ type: "user", userId: ana.id }] }] }), "levels[0].delayMinutes"],
      [policyBody(schedule, { levels: [{ delayMinutes: 5, targets: [{ type: "team", id: 1 }] }] }), "levels[0].targets[0].type"],
    ];
    for (const [body, field] of cases) {
      const response = await call(policiesRoute.POST, { method: "POST", body });
      expect(response.status, field).toBe(400);
      expect(response.json.error.field, JSON.stringify(response.json)).toBe(field);
    }
    expect(await countRows("escalation_policy")).toBe(0);
    expect(await countRows("escalation_level")).toBe(0);
  });

  it("allows one policy per service", async () => {
    const schedule = await scheduleId();
    expect((await call(policiesRoute.POST, { method: "POST", body: policyBody(schedule) })).status).toBe(201);
    const second = await call(policiesRoute.POST, { method: "POST", body: policyBody(schedule, { name: "Other" }) });
    expect(second.status).toBe(409);
    expect(second.json.error.field).toBe("service");
  });

  it("keeps a schedule a policy targets", async () => {
    const schedule = await scheduleId();
    await call(policiesRoute.POST, { method: "POST", body: policyBody(schedule) });
    const response = await call(scheduleRoute.DELETE, { method: "DELETE", params: { id: String(schedule) } });
    expect(response.status).toBe(409);
    expect(response.json.error.message).toContain("Checkout on call");
  });

  it("sets the paging channel", async () => {
    const bad = await call(settingsRoute.PUT, { method: "PUT", body: { pagingChannelId: webhookChannelId } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe("pagingChannelId");
    const good = await call(settingsRoute.PUT, { method: "PUT", body: { pagingChannelId: emailChannelId } });
    expect(good.status).toBe(200);
    expect(good.json.settings).toEqual({ pagingChannelId: emailChannelId, pagingChannelName: "pager" });
    expect((await call(settingsRoute.GET, { token: ingestToken })).json.settings.pagingChannelName).toBe("pager");
  });
});

describe("maintenance windows and silences API", () => {
  const inOneHour = () => new Date(Date.now() + 3_600_000).toISOString();

  it("creates and ends a window", async () => {
    const created = await call(windowsRoute.POST, {
      method: "POST",
      body: { service: "checkout", reason: "DB upgrade", endsAt: inOneHour() },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.maintenanceWindow.state).toBe("active");
    expect(created.json.maintenanceWindow.createdByName).toBe("API token admin");
    const id = String(created.json.maintenanceWindow.id);

    const listed = await call(windowsRoute.GET, { token: ingestToken });
    expect(listed.json.maintenanceWindows).toHaveLength(1);

    const ended = await call(windowEndRoute.POST, { method: "POST", params: { id } });
    expect(ended.status, JSON.stringify(ended.json)).toBe(200);
    expect(ended.json.maintenanceWindow.state).toBe("over");
    expect((await call(windowEndRoute.POST, { method: "POST", params: { id } })).status).toBe(409);
    expect((await call(windowsRoute.GET)).json.maintenanceWindows).toHaveLength(0);
    expect((await call(windowsRoute.GET, { query: "?include=over" })).json.maintenanceWindows).toHaveLength(1);
  });

  it("validates windows", async () => {
    const cases: Array<[Json, string]> = [
      [{ service: "nope", reason: "x", endsAt: inOneHour() }, "service"],
      [{ service: "checkout", reason: "", endsAt: inOneHour() }, "reason"],
      [{ service: "checkout", reason: "x", endsAt: "2020-01-01T00:00:00Z" }, "endsAt"],
      [{ service: "checkout", reason: "x", endsAt: "2099-01-01T00:00:00Z" }, "endsAt"],
      [{ service: "checkout", reason: "x" }, "endsAt"],
    ];
    for (const [body, field] of cases) {
      const response = await call(windowsRoute.POST, { method: "POST", body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.error.field).toBe(field);
    }
    expect(await countRows("maintenance_window")).toBe(0);
    expect((await call(windowsRoute.POST, { method: "POST", token: ingestToken, body: cases[0]![0] })).status).toBe(403);
  });

  it("creates, validates and ends silences", async () => {
    const created = await call(silencesRoute.POST, {
      method: "POST",
      body: {
        matchers: [{ name: "alertname", operator: "=~", value: "Disk.*" }],
        reason: "known disk alerts",
        endsAt: inOneHour(),
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.silence.serviceSlug).toBeNull();

    const everything = await call(silencesRoute.POST, { method: "POST", body: { reason: "all", endsAt: inOneHour() } });
    expect(everything.status).toBe(400);
    expect(everything.json.error.field).toBe("matchers");
    const badRegex = await call(silencesRoute.POST, {
      method: "POST",
      body: { service: "checkout", matchers: [{ name: "alertname", operator: "=~", value: "(" }], reason: "x", endsAt: inOneHour() },
    });
    expect(badRegex.status).toBe(400);
    expect(badRegex.json.error.field).toBe("matchers[0].value");

    const id = String(created.json.silence.id);
    expect((await call(silenceEndRoute.POST, { method: "POST", params: { id } })).status).toBe(200);
    expect((await call(silencesRoute.GET)).json.silences).toHaveLength(0);
    expect((await call(silenceEndRoute.POST, { method: "POST", params: { id: "999999" } })).status).toBe(404);
  });
});
