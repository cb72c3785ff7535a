import { afterAll, beforeEach, describe, expect, it } from "vitest";

import * as policyRoute from "@/app/api/v1/escalation-policies/[id]/route";
import * as policiesRoute from "@/app/api/v1/escalation-policies/route";
import * as settingsRoute from "@/app/api/v1/oncall/settings/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool, getPrisma } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

// The `warnings` of POST and PUT /api/v1/escalation-policies: a policy that
// targets people while no email channel would carry their pages is saved,
// and the response says why those people would not be paged.

type Json = Record<string, any>;
type Handler = (request: Request, context?: { params?: Promise<Record<string, string>> }) => Promise<Response>;

let adminToken: string;
let userId: number;
let emailChannelId: number;
let webhookChannelId: number;

async function call(
  handler: Handler,
  method: string,
  body: unknown,
  params: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const request = new Request("http://127.0.0.1/api/v1/test", {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(body),
  });
  const response = await handler(request, { params: Promise.resolve(params) });
  return { status: response.status, json: (await response.json()) as Json };
}

function policyBody(levels: Json[], overrides: Json = {}): Json {
  return { name: "Checkout on call", service: "checkout", levels, ...overrides };
}

const userLevel = (): Json => ({ delayMinutes: 5, targets: [{ type: "user", userId }] });
const channelLevel = (): Json => ({ delayMinutes: 5, targets: [{ type: "channel", channelId: webhookChannelId }] });

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const prisma = getPrisma();
  userId = (await prisma.user.create({
    data: { email: "ana@example.test", name: "Ana Pérez", passwordHash: "-", role: "responder" },
  })).id;
  await prisma.service.create({ data: { slug: "checkout", name: "Checkout" } });
  adminToken = (await createApiToken({ name: "admin", scope: "admin" })).token;
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

describe("escalation policy warnings", () => {
  it("warns about people without email", async () => {
    const created = await call(policiesRoute.POST, "POST", policyBody([channelLevel(), userLevel()]));
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.warnings).toEqual([
      "level 2 targets people, but the policy has no pageChannelId and no paging channel is set (PUT /api/v1/oncall/settings), so those people cannot be paged by email",
    ]);
    expect(created.json.policy.levels).toHaveLength(2);
  });

  it("names every level with people", async () => {
    const created = await call(policiesRoute.POST, "POST", policyBody([userLevel(), channelLevel(), userLevel()]));
    expect(created.status).toBe(201);
    expect(created.json.warnings).toHaveLength(1);
    expect(created.json.warnings[0]).toMatch(/^levels 1, 3 target people/);
  });

  it("has no warning with a channel", async () => {
    const own = await call(policiesRoute.POST, "POST", policyBody([userLevel()], { pageChannelId: emailChannelId }));
    expect(own.status).toBe(201);
    expect(own.json.warnings).toEqual([]);

    const channelsOnly = await call(
      policyRoute.PUT,
      "PUT",
      policyBody([channelLevel()]),
      { id: String(own.json.policy.id) },
    );
    expect(channelsOnly.status).toBe(200);
    expect(channelsOnly.json.warnings).toEqual([]);
  });

  it("clears once the paging channel is set", async () => {
    const created = await call(policiesRoute.POST, "POST", policyBody([userLevel()]));
    expect(created.json.warnings).toHaveLength(1);
    const id = String(created.json.policy.id);

    const setting = await call(settingsRoute.PUT, "PUT", { pagingChannelId: emailChannelId });
    expect(setting.status, JSON.stringify(setting.json)).toBe(200);

    const replaced = await call(policyRoute.PUT, "PUT", policyBody([userLevel()]), { id });
    expect(replaced.status).toBe(200);
    expect(replaced.json.warnings).toEqual([]);
  });

  it("adds no warnings to rejected requests", async () => {
    const rejected = await call(policiesRoute.POST, "POST", policyBody([userLevel()], { service: "nope" }));
    expect(rejected.status).toBe(400);
    expect(rejected.json).not.toHaveProperty("warnings");
    const { rows } = await getPool().query("SELECT id FROM escalation_policy");
    expect(rows).toHaveLength(0);
  });
});
