import { afterAll, beforeEach, describe, expect, it } from "vitest";

import * as silencesRoute from "@/app/api/v1/silences/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool, getPrisma } from "@/lib/db";
import { MAX_MATCHER_PATTERN_LENGTH, validateMatcherPattern } from "@/lib/oncall/matchers";
import { findSuppression, silenceMatches } from "@/lib/oncall/suppression";
import { truncateAll } from "@/tests/support/database";

// Regular expression matchers of silences: linear-time matching of patterns
// that make a backtracking engine run for minutes, full-match anchoring as
// in Alertmanager, RE2 validation through POST /api/v1/silences, and
// silences stored before patterns were checked with RE2.

type Json = Record<string, any>;

let adminToken: string;
let serviceId: number;

const now = () => new Date();
const inOneHour = () => new Date(Date.now() + 3_600_000).toISOString();

async function postSilence(body: Json): Promise<{ status: number; json: Json }> {
  const request = new Request("http://127.0.0.1/api/v1/silences", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(body),
  });
  const response = await silencesRoute.POST(request);
  return { status: response.status, json: (await response.json()) as Json };
}

/** Inserts a silence row directly, as a silence stored by an earlier version. */
async function storeSilence(matchers: unknown[]): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO silence (service_id, reason, matchers, starts_at, ends_at, created_by_name)
     VALUES ($1, 'stored earlier', $2::jsonb, now() - interval '1 minute', now() + interval '1 hour', 'test')
     RETURNING id`,
    [serviceId, JSON.stringify(matchers)],
  );
  return rows[0]!.id;
}

async function countSilences(): Promise<number> {
  const { rows } = await getPool().query<{ count: number }>("SELECT count(*)::int AS count FROM silence");
  return rows[0]!.count;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const service = await getPrisma().service.create({ data: { slug: "checkout", name: "Checkout" } });
  serviceId = service.id;
  adminToken = (await createApiToken({ name: "admin", scope: "admin" })).token;
});

afterAll(async () => {
  await closeDb();
});

describe("silence regex matching", () => {
  it("matches (a+)+$ in linear time", async () => {
    const created = await postSilence({
      service: "checkout",
      matchers: [{ name: "alertname", operator: "=~", value: "(a+)+$" }],
      reason: "catastrophic backtracking",
      endsAt: inOneHour(),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);

    // A backtracking engine takes about 2^30 steps on this name.
    const started = performance.now();
    const hostile = await findSuppression(getPool(), serviceId, now(), {
      alertname: `${"a".repeat(30)}!`,
    });
    const elapsedMs = performance.now() - started;
    expect(hostile).toBeNull();
    expect(elapsedMs).toBeLessThan(1_000);

    const matching = await findSuppression(getPool(), serviceId, now(), {
      alertname: "a".repeat(30),
    });
    expect(matching?.id).toBe(created.json.silence.id);
  });

  it("keeps a long hostile value fast", () => {
    const matchers = [{ name: "alertname", operator: "=~" as const, value: "(a|aa)*(a+)+b" }];
    const started = performance.now();
    expect(silenceMatches(matchers, { alertname: "a".repeat(50_000) })).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("anchors patterns to the whole value", () => {
    const diskMatcher = [{ name: "alertname", operator: "=~" as const, value: "Disk.*" }];
    expect(silenceMatches(diskMatcher, { alertname: "DiskFull" })).toBe(true);
    expect(silenceMatches(diskMatcher, { alertname: "XDiskFull" })).toBe(false);

    const alternation = [{ name: "alertname", operator: "=~" as const, value: "a|b" }];
    expect(silenceMatches(alternation, { alertname: "a" })).toBe(true);
    expect(silenceMatches(alternation, { alertname: "ab" })).toBe(false);
    expect(silenceMatches(alternation, { alertname: "xb" })).toBe(false);

    const negated = [{ name: "env", operator: "!~" as const, value: "prod|staging" }];
    expect(silenceMatches(negated, { env: "dev" })).toBe(true);
    expect(silenceMatches(negated, { env: "prod" })).toBe(false);
    expect(silenceMatches(negated, { env: "production" })).toBe(true);
  });
});

describe("silence regex validation", () => {
  it("rejects patterns RE2 cannot compile", async () => {
    const cases: Array<[string, RegExp]> = [
      ["(", /missing closing \)/],
      ["(?=Disk)Disk.*", /invalid or unsupported Perl syntax/],
      ["(a)\\1", /invalid escape sequence/],
      ["a)|(b", /unexpected \)/],
      ["(a{1000}){1000}", /invalid repeat count/],
    ];
    for (const [pattern, reason] of cases) {
      const response = await postSilence({
        service: "checkout",
        matchers: [
          { name: "env", operator: "=", value: "prod" },
          { name: "alertname", operator: "!~", value: pattern },
        ],
        reason: "invalid pattern",
        endsAt: inOneHour(),
      });
      expect(response.status, pattern).toBe(400);
      expect(response.json.error.field, pattern).toBe("matchers[1].value");
      expect(response.json.error.message, pattern).toMatch(/is not a valid RE2 regular expression/);
      expect(response.json.error.message, pattern).toMatch(reason);
    }
    expect(await countSilences()).toBe(0);
  });

  it("rejects overlong patterns", async () => {
    const pattern = "a".repeat(MAX_MATCHER_PATTERN_LENGTH + 1);
    const response = await postSilence({
      service: "checkout",
      matchers: [{ name: "alertname", operator: "=~", value: pattern }],
      reason: "long pattern",
      endsAt: inOneHour(),
    });
    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("matchers[0].value");
    expect(response.json.error.message).toMatch(`at most ${MAX_MATCHER_PATTERN_LENGTH} characters`);
    expect(await countSilences()).toBe(0);

    // An equality matcher keeps the longer limit of plain values.
    const equality = await postSilence({
      service: "checkout",
      matchers: [{ name: "alertname", operator: "=", value: pattern }],
      reason: "long value",
      endsAt: inOneHour(),
    });
    expect(equality.status, JSON.stringify(equality.json)).toBe(201);
  });

  it("validateMatcherPattern returns the problem", () => {
    expect(validateMatcherPattern("Disk.*")).toBeNull();
    expect(validateMatcherPattern("(?P<kind>Disk|Memory)Full")).toBeNull();
    expect(validateMatcherPattern("(")).toMatch(/^is not a valid RE2 regular expression: /);
  });
});

describe("silences stored before RE2", () => {
  it("still match with valid patterns", async () => {
    const id = await storeSilence([
      { name: "alertname", operator: "=~", value: "Disk.*|Mem(ory)?Full" },
      { name: "env", operator: "!~", value: "staging" },
    ]);
    const disk = await findSuppression(getPool(), serviceId, now(), { alertname: "DiskFull", env: "prod" });
    expect(disk?.id).toBe(id);
    const memory = await findSuppression(getPool(), serviceId, now(), { alertname: "MemFull", env: "prod" });
    expect(memory?.id).toBe(id);
    const staging = await findSuppression(getPool(), serviceId, now(), { alertname: "DiskFull", env: "staging" });
    expect(staging).toBeNull();
  });

  it("match nothing with patterns RE2 rejects", async () => {
    await storeSilence([{ name: "alertname", operator: "=~", value: "(?=Disk)Disk.*" }]);
    await storeSilence([{ name: "alertname", operator: "!~", value: "(?!Disk).*" }]);
    const found = await findSuppression(getPool(), serviceId, now(), { alertname: "DiskFull" });
    expect(found).toBeNull();
    const other = await findSuppression(getPool(), serviceId, now(), { alertname: "CpuHigh" });
    expect(other).toBeNull();
  });
});
