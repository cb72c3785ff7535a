import { encode } from "next-auth/jwt";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "oncall-api-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import * as overrideItemRoute from "@/app/api/v1/schedules/[id]/overrides/[overrideId]/route";
import * as overridesRoute from "@/app/api/v1/schedules/[id]/overrides/route";
import * as scheduleRoute from "@/app/api/v1/schedules/[id]/route";
import * as schedulesRoute from "@/app/api/v1/schedules/route";
import * as policyRoute from "@/app/api/v1/escalation-policies/[id]/route";
import * as policiesRoute from "@/app/api/v1/escalation-policies/route";
import * as windowEndRoute from "@/app/api/v1/maintenance-windows/[id]/end/route";
import * as windowRoute from "@/app/api/v1/maintenance-windows/[id]/route";
import * as windowsRoute from "@/app/api/v1/maintenance-windows/route";
import * as oncallRoute from "@/app/api/v1/oncall/route";
import * as settingsRoute from "@/app/api/v1/oncall/settings/route";
import * as silenceEndRoute from "@/app/api/v1/silences/[id]/end/route";
import * as silenceRoute from "@/app/api/v1/silences/[id]/route";
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
let vera: { id: number; name: string };
let emailChannelId: number;
let webhookChannelId: number;

async function call(
  handler: Handler,
  options: {
    method?: string;
    token?: string | null;
    session?: { id: number; name: string };
    body?: unknown;
    params?: Record<string, string>;
    query?: string;
  } = {},
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = options.token === undefined && !options.session ? adminToken : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.session) {
    const user = options.session;
    const jwt = await encode({ token: { userId: user.id, name: user.name, sub: String(user.id) }, secret: SESSION_SECRET });
    headers.cookie = `next-auth.session-token=${jwt}`;
  }
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
  ana = await prisma.user.create({
    data: { email: "ana@example.test", name: "Ana Pérez", passwordHash: "-", role: "responder" },
  });
  bo = await prisma.user.create({ data: { email: "bo@example.test", name: "Bo Lind", passwordHash: "-", role: "admin" } });
  vera = await prisma.user.create({
    data: { email: "vera@example.test", name: "Vera Viewer", passwordHash: "-", role: "viewer" },
  });
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

    const read = await call(scheduleRoute.GET, { session: vera, params: { id: String(created.json.schedule.id) } });
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
    expect((await call(schedulesRoute.GET, { token: ingestToken })).status).toBe(403);
    expect((await call(schedulesRoute.GET, { token: boundAdminToken })).status).toBe(403);
    expect((await call(schedulesRoute.GET, { session: vera })).status).toBe(200);
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

    const overview = await call(oncallRoute.GET);
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
    expect((await call(settingsRoute.GET, { session: vera })).json.settings.pagingChannelName).toBe("pager");
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

    const listed = await call(windowsRoute.GET, { session: vera });
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

describe("on-call input limits", () => {
  const inOneHour = () => new Date(Date.now() + 3_600_000).toISOString();
  const TOO_BIG = 2_147_483_648;

  async function countAll(): Promise<number[]> {
    return Promise.all(
      ["oncall_schedule", "oncall_layer", "oncall_override", "escalation_policy", "escalation_level", "maintenance_window", "silence"].map(
        countRows,
      ),
    );
  }

  it("rejects viewers as people on call", async () => {
    const withVera = scheduleBody({ layers: [{ ...scheduleBody().layers[0], members: [ana.id, vera.id] }] });
    const schedule = await call(schedulesRoute.POST, { method: "POST", body: withVera });
    expect(schedule.status).toBe(422);
    expect(schedule.json.error.field).toBe("layers[0].members[1]");
    expect(schedule.json.error.message).toContain("viewer role");

    const created = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    const id = String(created.json.schedule.id);
    const patched = await call(scheduleRoute.PATCH, { method: "PATCH", params: { id }, body: { layers: withVera.layers } });
    expect(patched.status).toBe(422);
    expect(patched.json.error.field).toBe("layers[0].members[1]");

    const override = await call(overridesRoute.POST, {
      method: "POST",
      params: { id },
      body: { userId: vera.id, startsAt: new Date().toISOString(), endsAt: inOneHour() },
    });
    expect(override.status).toBe(422);
    expect(override.json.error.field).toBe("userId");

    const policy = await call(policiesRoute.POST, {
      method: "POST",
      body: {
        name: "Checkout on call",
        service: "checkout",
        levels: [{ delayMinutes: 5, targets: [{ type: "schedule", scheduleId: Number(id) }, { type: "user", userId: vera.id }] }],
      },
    });
    expect(policy.status).toBe(422);
    expect(policy.json.error.field).toBe("levels[0].targets[1].userId");

    expect(await countAll()).toEqual([1, 1, 0, 0, 0, 0, 0]);
    const read = await call(scheduleRoute.GET, { params: { id } });
    expect(read.json.schedule.layers[0].members.map((member: Json) => member.name)).toEqual(["Ana Pérez", "Bo Lind"]);
  });

  it("rejects text PostgreSQL cannot store", async () => {
    const created = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    const id = String(created.json.schedule.id);
    const before = await countAll();
    const bad = ["a\u0000b", "a\ud800b"];
    for (const value of bad) {
      const cases: Array<[Handler, Json, Record<string, string>, string]> = [
        [schedulesRoute.POST, scheduleBody({ name: value }), {}, "name"],
        [schedulesRoute.POST, scheduleBody({ description: value }), {}, "description"],
        [schedulesRoute.POST, scheduleBody({ layers: [{ ...scheduleBody().layers[0], name: value }] }), {}, "layers[0].name"],
        [scheduleRoute.PATCH, { description: value }, { id }, "description"],
        [overridesRoute.POST, { userId: bo.id, startsAt: new Date().toISOString(), endsAt: inOneHour(), reason: value }, { id }, "reason"],
        [
          policiesRoute.POST,
          { name: value, service: "checkout", levels: [{ delayMinutes: 5, targets: [{ type: "user", userId: bo.id }] }] },
          {},
          "name",
        ],
        [windowsRoute.POST, { service: "checkout", reason: value, endsAt: inOneHour() }, {}, "reason"],
        [silencesRoute.POST, { service: "checkout", reason: value, endsAt: inOneHour() }, {}, "reason"],
        [
          silencesRoute.POST,
          { matchers: [{ name: "alertname", value }], reason: "x", endsAt: inOneHour() },
          {},
          "matchers[0].value",
        ],
      ];
      for (const [handler, body, params, field] of cases) {
        const method = handler === scheduleRoute.PATCH ? "PATCH" : "POST";
        const response = await call(handler, { method, params, body });
        const label = `${field} = ${JSON.stringify(value)}`;
        expect(response.status, label).toBe(400);
        expect(response.json.error.field, label).toBe(field);
        expect(response.json.error.message, label).toMatch(/NUL|surrogate/);
      }
    }
    expect(await countAll()).toEqual(before);
    expect((await call(scheduleRoute.GET, { params: { id } })).json.schedule.description).toBeNull();
  });

  it("rejects ids above int4", async () => {
    const created = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    const id = String(created.json.schedule.id);
    const before = await countAll();
    const policy = (targets: Json[], extra: Json = {}) => ({
      name: "Checkout on call",
      service: "checkout",
      levels: [{ delayMinutes: 5, targets }],
      ...extra,
    });
    const cases: Array<[Handler, string, Json, Record<string, string>, string]> = [
      [schedulesRoute.POST, "POST", scheduleBody({ layers: [{ ...scheduleBody().layers[0], members: [TOO_BIG] }] }), {}, "layers[0].members[0]"],
      [overridesRoute.POST, "POST", { userId: TOO_BIG, startsAt: new Date().toISOString(), endsAt: inOneHour() }, { id }, "userId"],
      [policiesRoute.POST, "POST", policy([{ type: "schedule", scheduleId: TOO_BIG }]), {}, "levels[0].targets[0].scheduleId"],
      [policiesRoute.POST, "POST", policy([{ type: "user", userId: TOO_BIG }]), {}, "levels[0].targets[0].userId"],
      [policiesRoute.POST, "POST", policy([{ type: "channel", channelId: TOO_BIG }]), {}, "levels[0].targets[0].channelId"],
      [policiesRoute.POST, "POST", policy([{ type: "user", userId: bo.id }], { pageChannelId: TOO_BIG }), {}, "pageChannelId"],
      [settingsRoute.PUT, "PUT", { pagingChannelId: TOO_BIG }, {}, "pagingChannelId"],
    ];
    for (const [handler, method, body, params, field] of cases) {
      const response = await call(handler, { method, params, body });
      expect(response.status, field).toBe(400);
      expect(response.json.error.field, field).toBe(field);
    }
    expect(await countAll()).toEqual(before);
  });

  it("rejects a bad service query", async () => {
    for (const query of ["?service=%00", "?service=Checkout", `?service=${"a".repeat(64)}`]) {
      const response = await call(windowsRoute.GET, { query });
      expect(response.status, query).toBe(400);
      expect(response.json.error.field, query).toBe("service");
    }
    expect((await call(windowsRoute.GET, { query: "?service=checkout" })).status).toBe(200);
  });
});

describe("silences matching the empty string", () => {
  const inOneHour = () => new Date(Date.now() + 3_600_000).toISOString();

  it("rejects matchers that all match empty", async () => {
    const cases: Array<[string | null, Json[]]> = [
      [null, [{ name: "nonexistent", operator: "!=", value: "zzz" }]],
      [null, [{ name: "alertname", operator: "=~", value: ".*" }]],
      [null, [{ name: "env", operator: "=", value: "" }, { name: "team", operator: "!~", value: "db.+" }]],
      ["checkout", [{ name: "severity", operator: "!=", value: "info" }]],
    ];
    for (const [service, matchers] of cases) {
      const response = await call(silencesRoute.POST, {
        method: "POST",
        body: { service, matchers, reason: "x", endsAt: inOneHour() },
      });
      const label = JSON.stringify(matchers);
      expect(response.status, label).toBe(400);
      expect(response.json.error.field, label).toBe("matchers");
      expect(response.json.error.message, label).toContain("empty string");
    }
    expect(await countRows("silence")).toBe(0);
  });

  it("accepts one matcher that needs a value", async () => {
    const response = await call(silencesRoute.POST, {
      method: "POST",
      body: {
        service: null,
        matchers: [
          { name: "env", operator: "!=", value: "prod" },
          { name: "alertname", operator: "=~", value: "Disk.+" },
        ],
        reason: "disk alerts outside prod",
        endsAt: inOneHour(),
      },
    });
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    expect(await countRows("silence")).toBe(1);
  });
});

describe("on-call read access", () => {
  it("allows sessions and unbound admin tokens only", async () => {
    const schedule = await call(schedulesRoute.POST, { method: "POST", body: scheduleBody() });
    const scheduleId = String(schedule.json.schedule.id);
    const policy = await call(policiesRoute.POST, {
      method: "POST",
      body: { name: "Checkout on call", service: "checkout", levels: [{ delayMinutes: 5, targets: [{ type: "user", userId: bo.id }] }] },
    });
    const window = await call(windowsRoute.POST, {
      method: "POST",
      body: { service: "checkout", reason: "DB upgrade", endsAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const silence = await call(silencesRoute.POST, {
      method: "POST",
      body: { service: "checkout", reason: "deploy", endsAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const reads: Array<[string, Handler, Record<string, string>]> = [
      ["schedules", schedulesRoute.GET, {}],
      ["schedule", scheduleRoute.GET, { id: scheduleId }],
      ["overrides", overridesRoute.GET, { id: scheduleId }],
      ["policies", policiesRoute.GET, {}],
      ["policy", policyRoute.GET, { id: String(policy.json.policy.id) }],
      ["windows", windowsRoute.GET, {}],
      ["window", windowRoute.GET, { id: String(window.json.maintenanceWindow.id) }],
      ["silences", silencesRoute.GET, {}],
      ["silence", silenceRoute.GET, { id: String(silence.json.silence.id) }],
      ["overview", oncallRoute.GET, {}],
      ["settings", settingsRoute.GET, {}],
    ];
    for (const [label, handler, params] of reads) {
      const ingest = await call(handler, { token: ingestToken, params });
      expect(ingest.status, `${label} with an ingest token`).toBe(403);
      expect(JSON.stringify(ingest.json), label).not.toContain("@example.test");
      const bound = await call(handler, { token: boundAdminToken, params });
      expect(bound.status, `${label} with a bound admin token`).toBe(403);
      expect(JSON.stringify(bound.json), label).not.toContain("@example.test");
      expect((await call(handler, { params })).status, `${label} with an admin token`).toBe(200);
      expect((await call(handler, { session: vera, params })).status, `${label} with a viewer session`).toBe(200);
      expect((await call(handler, { token: null, params })).status, `${label} without credentials`).toBe(401);
    }
  });
});
