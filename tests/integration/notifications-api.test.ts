import { encode } from "next-auth/jwt";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "notify-api-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import {
  DELETE as deleteChannelRoute,
  GET as getChannelRoute,
  PATCH as patchChannelRoute,
} from "@/app/api/v1/notification-channels/[id]/route";
import { POST as testChannelRoute } from "@/app/api/v1/notification-channels/[id]/test/route";
import {
  GET as listChannelsRoute,
  POST as createChannelRoute,
} from "@/app/api/v1/notification-channels/route";
import { DELETE as deleteRuleRoute } from "@/app/api/v1/routing-rules/[id]/route";
import {
  GET as listRulesRoute,
  POST as createRuleRoute,
} from "@/app/api/v1/routing-rules/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

// The notification admin API against the real database: access by role and
// scope, validation errors that name the field, secrets kept out of
// responses, and that a rejected request changes nothing.

type Json = Record<string, any>;
type Auth = { token?: string; cookie?: string };
type Handler = (
  request: Request,
  context?: { params?: Promise<Record<string, string>> },
) => Promise<Response>;

const BASE = "http://127.0.0.1:3501/api/v1";
const SLACK_URL = "http://127.0.0.1:3502/services/T0001/B0001/abcdefghijklmnopqrstuvwx";
const SMTP_PASSWORD = "smtp-secret-password";

let adminToken: string;
let ingestToken: string;
let boundAdminToken: string;
const users: Record<"admin" | "responder" | "viewer", { id: number; name: string }> = {} as never;

async function call(
  handler: Handler,
  method: string,
  path: string,
  auth: Auth,
  body?: unknown,
  params: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const response = await handler(
    new Request(`${BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { params: Promise.resolve(params) },
  );
  return { status: response.status, json: (await response.json()) as Json };
}

async function sessionCookie(user: { id: number; name: string }): Promise<string> {
  const token = await encode({
    token: { userId: user.id, name: user.name, sub: String(user.id) },
    secret: SESSION_SECRET,
  });
  return `next-auth.session-token=${token}`;
}

const webhookChannel = (overrides: Json = {}) => ({
  name: "ops hook",
  type: "webhook",
  config: { url: "http://127.0.0.1:3503/hook?token=query-secret" },
  ...overrides,
});

const emailChannel = (overrides: Json = {}) => ({
  name: "oncall mail",
  type: "email",
  config: {
    host: "127.0.0.1",
    port: 2525,
    username: "mailer",
    password: SMTP_PASSWORD,
    from: "vigil@example.test",
    to: ["oncall@example.test"],
  },
  ...overrides,
});

async function countRows(): Promise<Record<string, number>> {
  const { rows } = await getPool().query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM notification_channel)::int AS channels,
            (SELECT count(*) FROM notification_rule)::int AS rules,
            (SELECT count(*) FROM notification_delivery)::int AS deliveries`,
  );
  return rows[0]!;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  await getPool().query("INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout')");
  for (const role of ["admin", "responder", "viewer"] as const) {
    const { rows } = await getPool().query<{ id: number; name: string }>(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ($1, $2, '-', $3) RETURNING id, name`,
      [`${role}@example.test`, `Test ${role}`, role],
    );
    users[role] = rows[0]!;
  }
  adminToken = (await createApiToken({ name: "admin-bot", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "exporter", scope: "ingest" })).token;
  const { rows } = await getPool().query<{ id: number }>("SELECT id FROM service");
  boundAdminToken = (
    await createApiToken({ name: "bound", scope: "admin", serviceId: rows[0]!.id })
  ).token;
});

afterAll(async () => {
  await closeDb();
});

describe("notification channels API", () => {
  it("creates and lists with masked secrets", async () => {
    const slack = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, {
      name: "team slack",
      type: "slack",
      config: { url: SLACK_URL },
    });
    expect(slack.status).toBe(201);
    expect(slack.json.channel.config.url).toBe("http://127.0.0.1:3502/…uvwx");

    const email = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, emailChannel());
    expect(email.status).toBe(201);
    expect(email.json.channel.config.password).toBe("set");
    expect(email.json.channel.config.port).toBe(2525);
    expect(email.json.channel.config.secure).toBe(false);

    const webhook = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, webhookChannel());
    expect(webhook.status).toBe(201);
    expect(webhook.json.channel.config.url).toBe("http://127.0.0.1:3503/hook?…");

    const list = await call(listChannelsRoute, "GET", "/notification-channels", { token: adminToken });
    expect(list.status).toBe(200);
    expect(list.json.channels.map((channel: Json) => channel.name)).toEqual([
      "oncall mail",
      "ops hook",
      "team slack",
    ]);
    const text = JSON.stringify(list.json);
    expect(text).not.toContain("abcdefghijklmnopqrstuvwx");
    expect(text).not.toContain(SMTP_PASSWORD);
    expect(text).not.toContain("query-secret");
  });

  it("PATCH keeps omitted secrets", async () => {
    const created = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, emailChannel());
    const id = String(created.json.channel.id);
    const patched = await call(patchChannelRoute, "PATCH", `/notification-channels/${id}`, { token: adminToken }, {
      name: "renamed",
      config: { port: 587 },
    }, { id });
    expect(patched.status).toBe(200);
    expect(patched.json.channel.name).toBe("renamed");
    expect(patched.json.channel.config.port).toBe(587);
    const { rows } = await getPool().query("SELECT secret_config FROM notification_channel");
    expect(rows[0]!.secret_config).toEqual({ password: SMTP_PASSWORD });

    const read = await call(getChannelRoute, "GET", `/notification-channels/${id}`, { token: adminToken }, undefined, { id });
    expect(read.status).toBe(200);
    expect(read.json.deliveries).toEqual([]);

    const removed = await call(deleteChannelRoute, "DELETE", `/notification-channels/${id}`, { token: adminToken }, undefined, { id });
    expect(removed.status).toBe(200);
    expect((await countRows()).channels).toBe(0);
  });

  it("rejects invalid channels naming the field", async () => {
    const cases: Array<[Json, number, string, string]> = [
      [{ type: "webhook", config: { url: "http://127.0.0.1/" } }, 400, "name", "name is required"],
      [webhookChannel({ type: "pager" }), 400, "type", "type must be one of webhook, slack, email"],
      [webhookChannel({ config: { url: "not a url" } }), 400, "config.url", "config.url must be an absolute URL"],
      [webhookChannel({ config: { url: "ftp://127.0.0.1/x" } }), 400, "config.url", "config.url must use http or https"],
      [
        webhookChannel({ config: { url: "http://169.254.169.254/latest" } }),
        400,
        "config.url",
        "config.url must not point at a link-local or cloud metadata address",
      ],
      [webhookChannel({ config: {} }), 400, "config.url", "config.url is required"],
      [webhookChannel({ config: { url: "http://127.0.0.1/", extra: 1 } }), 400, "config.extra", "config.extra is not a known field"],
      [webhookChannel({ colour: "red" }), 400, "colour", "colour is not a known field"],
      [emailChannel({ config: { ...emailChannel().config, to: [] } }), 400, "config.to", "config.to must contain at least 1 items"],
      [emailChannel({ config: { ...emailChannel().config, to: ["nobody"] } }), 400, "config.to[0]", "config.to[0] must be an email address"],
      [emailChannel({ config: { ...emailChannel().config, port: 70000 } }), 400, "config.port", "config.port must be at most 65535"],
    ];
    for (const [body, status, field, message] of cases) {
      const response = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, body);
      expect(response.status, field).toBe(status);
      expect(response.json.error.field, field).toBe(field);
      expect(response.json.error.message, field).toContain(message);
    }
    expect(await countRows()).toEqual({ channels: 0, rules: 0, deliveries: 0 });
  });

  it("rejects a duplicate name with 409", async () => {
    await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, webhookChannel());
    const second = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, webhookChannel());
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe("name_taken");
    expect(second.json.error.field).toBe("name");
  });

  it("rejects bad ids and missing channels", async () => {
    const bad = await call(getChannelRoute, "GET", "/notification-channels/abc", { token: adminToken }, undefined, { id: "abc" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe("id");
    const missing = await call(getChannelRoute, "GET", "/notification-channels/99", { token: adminToken }, undefined, { id: "99" });
    expect(missing.status).toBe(404);
    const test = await call(testChannelRoute, "POST", "/notification-channels/99/test", { token: adminToken }, undefined, { id: "99" });
    expect(test.status).toBe(404);
  });

  it("test endpoint queues a delivery", async () => {
    const created = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, webhookChannel());
    const id = String(created.json.channel.id);
    const queued = await call(testChannelRoute, "POST", `/notification-channels/${id}/test`, { token: adminToken }, undefined, { id });
    expect(queued.status).toBe(202);
    const { rows } = await getPool().query(
      "SELECT channel_id, incident_id, event, status::text FROM notification_delivery",
    );
    expect(rows).toEqual([{ channel_id: Number(id), incident_id: null, event: "test", status: "pending" }]);
    const jobs = await getPool().query(
      "SELECT key FROM graphile_worker._private_jobs WHERE key = $1",
      [`notify-delivery:${queued.json.deliveryId}`],
    );
    expect(jobs.rows).toHaveLength(1);

    const disabled = await call(patchChannelRoute, "PATCH", `/notification-channels/${id}`, { token: adminToken }, { enabled: false }, { id });
    expect(disabled.status).toBe(200);
    const rejected = await call(testChannelRoute, "POST", `/notification-channels/${id}/test`, { token: adminToken }, undefined, { id });
    expect(rejected.status).toBe(409);
    expect(rejected.json.error.code).toBe("channel_disabled");
  });
});

describe("routing rules API", () => {
  it("creates, lists and deletes rules", async () => {
    const created = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, webhookChannel());
    const channelId = created.json.channel.id;
    const rule = await call(createRuleRoute, "POST", "/routing-rules", { token: adminToken }, {
      channelId,
      service: "checkout",
      minSeverity: "sev2",
    });
    expect(rule.status).toBe(201);
    expect(rule.json.rule.serviceSlug).toBe("checkout");
    expect(rule.json.rule.minSeverity).toBe("sev2");

    const anyService = await call(createRuleRoute, "POST", "/routing-rules", { token: adminToken }, { channelId });
    expect(anyService.status).toBe(201);
    expect(anyService.json.rule.serviceId).toBeNull();
    expect(anyService.json.rule.minSeverity).toBe("sev4");

    const list = await call(listRulesRoute, "GET", "/routing-rules", { token: adminToken });
    expect(list.json.rules).toHaveLength(2);

    const id = String(rule.json.rule.id);
    const removed = await call(deleteRuleRoute, "DELETE", `/routing-rules/${id}`, { token: adminToken }, undefined, { id });
    expect(removed.status).toBe(200);
    const again = await call(deleteRuleRoute, "DELETE", `/routing-rules/${id}`, { token: adminToken }, undefined, { id });
    expect(again.status).toBe(404);
  });

  it("rejects invalid rules naming the field", async () => {
    const created = await call(createChannelRoute, "POST", "/notification-channels", { token: adminToken }, webhookChannel());
    const channelId = created.json.channel.id;
    const cases: Array<[Json, number, string]> = [
      [{}, 400, "channelId"],
      [{ channelId: "1" }, 400, "channelId"],
      [{ channelId, minSeverity: "sev9" }, 400, "minSeverity"],
      [{ channelId, service: "Not A Slug" }, 400, "service"],
      [{ channelId, priority: 1 }, 400, "priority"],
      [{ channelId: 999 }, 422, "channelId"],
      [{ channelId, service: "unknown-service" }, 422, "service"],
    ];
    for (const [body, status, field] of cases) {
      const response = await call(createRuleRoute, "POST", "/routing-rules", { token: adminToken }, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.json.error.field, JSON.stringify(body)).toBe(field);
    }
    expect((await countRows()).rules).toBe(0);
  });
});

describe("notification API access", () => {
  it("admin session may configure", async () => {
    const cookie = await sessionCookie(users.admin);
    const created = await call(createChannelRoute, "POST", "/notification-channels", { cookie }, webhookChannel());
    expect(created.status).toBe(201);
  });

  it("viewer and responder get 403", async () => {
    for (const role of ["viewer", "responder"] as const) {
      const cookie = await sessionCookie(users[role]);
      const list = await call(listChannelsRoute, "GET", "/notification-channels", { cookie });
      expect(list.status, role).toBe(403);
      const created = await call(createChannelRoute, "POST", "/notification-channels", { cookie }, webhookChannel());
      expect(created.status, role).toBe(403);
      const rules = await call(listRulesRoute, "GET", "/routing-rules", { cookie });
      expect(rules.status, role).toBe(403);
    }
    expect((await countRows()).channels).toBe(0);
  });

  it("ingest and bound tokens get 403", async () => {
    const ingest = await call(createChannelRoute, "POST", "/notification-channels", { token: ingestToken }, webhookChannel());
    expect(ingest.status).toBe(403);
    expect(ingest.json.error.code).toBe("insufficient_scope");
    const bound = await call(createChannelRoute, "POST", "/notification-channels", { token: boundAdminToken }, webhookChannel());
    expect(bound.status).toBe(403);
    expect(bound.json.error.code).toBe("forbidden");
    expect((await countRows()).channels).toBe(0);
  });

  it("no credentials get 401", async () => {
    const response = await call(listChannelsRoute, "GET", "/notification-channels", {});
    expect(response.status).toBe(401);
  });
});
