import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "runbook-ranking-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import { POST as alertmanagerPost } from "@/app/api/v1/alerts/alertmanager/route";
import {
  GET as feedbackGet,
  POST as feedbackPost,
} from "@/app/api/v1/incidents/[id]/runbooks/[runbookId]/feedback/route";
import { createApiToken } from "@/lib/auth/api-token";
import { suggestRunbooks } from "@/lib/runbooks/match";
import { closeDb, getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import type { RunbookContent } from "@/lib/runbooks/content";
import {
  createRunbook,
  findRunbookBySlug,
  saveRunbookVersion,
  setArchived,
} from "@/lib/runbooks/versions";
import { truncateAll } from "@/tests/support/database";
import { sessionCookieFor, type Json } from "@/tests/support/route-calls";

// Ranked runbook suggestions through the real alert ingest path, and the
// helpful feedback API: after responders mark runbooks on a resolved
// incident, the helpful runbook moves up for a similar new incident.


const BASE = "http://127.0.0.1:3244/api/v1";

let alertToken: string;
let adminToken: string;
const cookies: Record<"responder" | "viewer" | "admin", string> = {} as never;
const runbookIds: Record<string, number> = {};

function content(overrides: Partial<RunbookContent>): RunbookContent {
  return {
    title: "Untitled",
    body: "Steps.",
    services: [],
    metricPattern: null,
    labels: {},
    alertNames: [],
    severities: [],
    steps: [],
    automatic: false,
    ...overrides,
  };
}

const RUNBOOKS: Record<string, RunbookContent> = {
  "latency-triage": content({
    title: "High latency triage",
    body: "Check the p99 latency dashboard and the slowest endpoints of checkout.",
    alertNames: ["HighLatency"],
  }),
  "latency-any": content({
    title: "Latency from a dependency",
    body: "Look at the latency of the database and the payment provider.",
    alertNames: ["High*"],
  }),
  "orders-slow-checkout": content({
    title: "Slow checkout p99 latency",
    body: "Slow checkout: p99 latency above 2 s. Check checkout latency.",
    services: ["orders"],
  }),
  "disk-full": content({
    title: "Disk full",
    body: "Free disk space on the volume.",
    metricPattern: "disk_*",
  }),
};

async function sendAlert(fingerprint: string, startsAt: string, status = "firing"): Promise<Json> {
  const response = await alertmanagerPost(
    new Request(`${BASE}/alerts/alertmanager`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${alertToken}` },
      body: JSON.stringify({
        version: "4",
        status,
        receiver: "vigil",
        groupKey: `{}:{alertname="HighLatency",fp="${fingerprint}"}`,
        truncatedAlerts: 0,
        alerts: [
          {
            status,
            labels: { alertname: "HighLatency", service: "checkout", severity: "critical", instance: fingerprint },
            annotations: { summary: "p99 above 2 s", description: "Slow checkout" },
            startsAt,
            endsAt: status === "resolved" ? new Date(Date.parse(startsAt) + 60_000).toISOString() : "0001-01-01T00:00:00Z",
            generatorURL: "http://127.0.0.1:3245/graph",
            fingerprint,
          },
        ],
      }),
    }),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

async function openIncident(fingerprint: string, startsAt: string): Promise<number> {
  const json = await sendAlert(fingerprint, startsAt);
  const incidentId = json.alerts[0].incidentId as number;
  expect(incidentId).toBeGreaterThan(0);
  return incidentId;
}

async function suggestions(incidentId: number): Promise<Json[]> {
  const { rows } = await getPool().query(
    `SELECT r.slug, ir.runbook_id, ir.score, ir.version, ir.breakdown
       FROM incident_runbook ir JOIN runbook r ON r.id = ir.runbook_id
      WHERE ir.incident_id = $1 ORDER BY ir.score DESC, r.slug`,
    [incidentId],
  );
  return rows;
}

async function mark(
  incidentId: number,
  runbookId: number | string,
  body: unknown,
  auth: { cookie?: string; token?: string },
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const response = await feedbackPost(
    new Request(`${BASE}/incidents/${incidentId}/runbooks/${runbookId}/feedback`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({ id: String(incidentId), runbookId: String(runbookId) }) },
  );
  return { status: response.status, json: (await response.json()) as Json };
}

async function feedbackRows(): Promise<number> {
  const { rows } = await getPool().query<{ count: number }>(
    "SELECT count(*)::int AS count FROM runbook_feedback",
  );
  return rows[0]!.count;
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
    cookies[role] = await sessionCookieFor(rows[0]!, SESSION_SECRET);
  }
  alertToken = (await createApiToken({ name: "alerts", scope: "ingest" })).token;
  adminToken = (await createApiToken({ name: "admin-bot", scope: "admin" })).token;
  await withTransaction(getPool(), async (client) => {
    for (const [slug, runbook] of Object.entries(RUNBOOKS)) {
      const created = await createRunbook(client, slug, runbook, { type: "system", id: null, name: "test" });
      runbookIds[slug] = created!.runbookId;
    }
  });
});

afterAll(async () => {
  await closeDb();
});

describe("runbook suggestions", () => {
  it("explains each suggestion", async () => {
    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");

    const rows = await suggestions(incidentId);
    const slugs = rows.map((row) => row.slug);
    expect(slugs).toContain("latency-triage");
    expect(slugs).toContain("latency-any");
    expect(slugs).not.toContain("disk-full");
    expect(slugs.indexOf("latency-triage")).toBeLessThan(slugs.indexOf("latency-any"));

    const triage = rows.find((row) => row.slug === "latency-triage")!;
    expect(triage.version).toBe(1);
    expect(triage.breakdown.rules).toEqual({ points: 3, matched: ["alert HighLatency"], allMatched: true });
    expect(triage.breakdown.similarity.value).toBeGreaterThan(0);
    expect(triage.breakdown.similarity.points).toBeCloseTo(4 * triage.breakdown.similarity.value, 3);
    expect(triage.breakdown.history).toEqual({ helpful: 0, unhelpful: 0, incidents: 0, points: 0 });
    expect(triage.score).toBeCloseTo(triage.breakdown.total, 6);

    // Its service rule fails, but its text is close enough to be suggested.
    const textOnly = rows.find((row) => row.slug === "orders-slow-checkout")!;
    expect(textOnly.breakdown.rules.allMatched).toBe(false);
    expect(textOnly.breakdown.rules.points).toBe(0);
    expect(textOnly.breakdown.similarity.value).toBeGreaterThanOrEqual(0.4);

    const { rows: events } = await getPool().query(
      "SELECT data FROM incident_event WHERE incident_id = $1 AND kind = 'runbooks_suggested'",
      [incidentId],
    );
    const logged = events[0].data.runbooks.find((runbook: Json) => runbook.slug === "latency-triage");
    expect(logged.version).toBe(1);
    expect(logged.breakdown).toEqual(triage.breakdown);
  });

  it("moves the helpful runbook up", async () => {
    const first = await openIncident("f1", "2026-12-04T10:00:00Z");
    const before = await suggestions(first);
    const position = (rows: Json[], slug: string) => rows.findIndex((row) => row.slug === slug);
    expect(position(before, "latency-triage")).toBeLessThan(position(before, "latency-any"));

    const helpful = await mark(first, runbookIds["latency-any"]!, { helpful: true }, { cookie: cookies.responder });
    expect(helpful.status).toBe(201);
    const unhelpful = await mark(first, runbookIds["latency-triage"]!, { helpful: false }, { token: adminToken });
    expect(unhelpful.status).toBe(201);

    const resolved = await sendAlert("f1", "2026-12-04T10:00:00Z", "resolved");
    expect(resolved.alerts[0].status).toBe("resolved");
    const { rows: status } = await getPool().query("SELECT status FROM incident WHERE id = $1", [first]);
    expect(status[0].status).toBe("resolved");

    const second = await openIncident("f2", "2026-12-04T12:00:00Z");
    expect(second).not.toBe(first);
    const after = await suggestions(second);

    expect(after[0]!.slug).toBe("latency-any");
    expect(position(after, "latency-any")).toBeLessThan(position(after, "latency-triage"));
    const any = after.find((row) => row.slug === "latency-any")!;
    expect(any.breakdown.history).toEqual({ helpful: 1, unhelpful: 0, incidents: 1, points: 2 });
    const triage = after.find((row) => row.slug === "latency-triage")!;
    expect(triage.breakdown.history).toEqual({ helpful: 0, unhelpful: 1, incidents: 1, points: -2 });
  });

  it("suggests the current version only", async () => {
    await withTransaction(getPool(), async (client) => {
      const triage = await findRunbookBySlug(client, "latency-triage", { lock: true });
      await saveRunbookVersion(
        client,
        triage!,
        { ...triage!.content, body: "Check the p99 latency of checkout first." },
        { type: "system", id: null, name: "test" },
      );
      const other = await findRunbookBySlug(client, "latency-any", { lock: true });
      await setArchived(client, other!.id, true);
    });

    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");
    const rows = await suggestions(incidentId);

    expect(rows.find((row) => row.slug === "latency-triage")!.version).toBe(2);
    expect(rows.map((row) => row.slug)).not.toContain("latency-any");
  });

  it("ignores feedback on open incidents", async () => {
    const first = await openIncident("f1", "2026-12-04T10:00:00Z");
    await mark(first, runbookIds["latency-any"]!, { helpful: true }, { cookie: cookies.responder });

    const second = await openIncident("f2", "2026-12-04T12:00:00Z");
    const rows = await suggestions(second);

    for (const row of rows) expect(row.breakdown.history.helpful).toBe(0);
  });
});

describe("runbook feedback API", () => {
  it("records, repeats and changes a mark", async () => {
    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");
    const runbookId = runbookIds["latency-triage"]!;

    const first = await mark(incidentId, runbookId, { helpful: true }, { cookie: cookies.responder });
    expect(first.status).toBe(201);
    expect(first.json.outcome).toBe("recorded");
    expect(first.json.feedback.version).toBe(1);
    expect(first.json.feedback.actorName).toBe("Test responder");

    const repeat = await mark(incidentId, runbookId, { helpful: true }, { cookie: cookies.responder });
    expect(repeat.status).toBe(200);
    expect(repeat.json.outcome).toBe("unchanged");

    const changed = await mark(incidentId, runbookId, { helpful: false }, { cookie: cookies.responder });
    expect(changed.status).toBe(200);
    expect(changed.json.outcome).toBe("changed");
    expect(await feedbackRows()).toBe(1);

    const { rows: events } = await getPool().query(
      `SELECT actor_type, actor_name, message, data FROM incident_event
        WHERE incident_id = $1 AND kind = 'runbook_feedback' ORDER BY id`,
      [incidentId],
    );
    expect(events.map((event) => event.message)).toEqual([
      'Marked runbook "High latency triage" helpful',
      'Changed the mark on runbook "High latency triage" to not helpful',
    ]);
    expect(events[0].actor_type).toBe("user");
    expect(events[0].actor_name).toBe("Test responder");
    expect(events[1].data).toEqual({ runbookId, version: 1, helpful: false, previousHelpful: true });

    const read = await feedbackGet(
      new Request(`${BASE}/incidents/${incidentId}/runbooks/${runbookId}/feedback`, {
        headers: { cookie: cookies.viewer },
      }),
      { params: Promise.resolve({ id: String(incidentId), runbookId: String(runbookId) }) },
    );
    const json = (await read.json()) as Json;
    expect(read.status).toBe(200);
    expect(json.helpful).toBe(0);
    expect(json.notHelpful).toBe(1);
  });

  it("keeps one row for concurrent marks", async () => {
    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");
    const runbookId = runbookIds["latency-triage"]!;

    const results = await Promise.all(
      [true, false, true, false].map((helpful) =>
        mark(incidentId, runbookId, { helpful }, { cookie: cookies.responder }),
      ),
    );

    for (const result of results) expect([200, 201]).toContain(result.status);
    expect(results.filter((result) => result.status === 201)).toHaveLength(1);
    expect(await feedbackRows()).toBe(1);
    const { rows: events } = await getPool().query(
      "SELECT count(*)::int AS count FROM incident_event WHERE kind = 'runbook_feedback'",
    );
    const recorded = results.filter((result) => result.json.outcome !== "unchanged");
    expect(events[0].count).toBe(recorded.length);
    const { rows } = await getPool().query(
      `SELECT f.helpful, e.data->>'helpful' AS last_event
         FROM runbook_feedback f,
              LATERAL (SELECT data FROM incident_event
                        WHERE incident_id = f.incident_id AND kind = 'runbook_feedback'
                        ORDER BY id DESC LIMIT 1) e`,
    );
    // The stored mark is the one the newest timeline event reports.
    expect(String(rows[0].helpful)).toBe(rows[0].last_event);
  });

  it("keeps one mark per user", async () => {
    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");
    const runbookId = runbookIds["latency-triage"]!;

    await mark(incidentId, runbookId, { helpful: true }, { cookie: cookies.responder });
    await mark(incidentId, runbookId, { helpful: true }, { cookie: cookies.admin });

    expect(await feedbackRows()).toBe(2);
  });

  it.each([
    ["a viewer", { who: "viewer" }, { helpful: true }, 403, undefined],
    ["no credentials", { who: "none" }, { helpful: true }, 401, undefined],
    ["a missing verdict", { who: "responder" }, {}, 400, "helpful"],
    ["a string verdict", { who: "responder" }, { helpful: "yes" }, 400, "helpful"],
    ["an unknown field", { who: "responder" }, { helpful: true, note: "x" }, 400, "note"],
  ])("rejects %s", async (_name, { who }, body, status, field) => {
    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");
    const auth = who === "none" ? {} : { cookie: cookies[who as "viewer" | "responder"] };

    const response = await mark(incidentId, runbookIds["latency-triage"]!, body, auth);

    expect(response.status).toBe(status);
    if (field) expect(response.json.error.field).toBe(field);
    expect(await feedbackRows()).toBe(0);
  });

  it("rejects a runbook that was not suggested", async () => {
    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");

    const response = await mark(incidentId, runbookIds["disk-full"]!, { helpful: true }, { cookie: cookies.responder });

    expect(response.status).toBe(404);
    expect(response.json.error.field).toBe("runbookId");
    expect(await feedbackRows()).toBe(0);
  });

  it("rejects bad ids", async () => {
    const incidentId = await openIncident("f1", "2026-12-04T10:00:00Z");

    const badRunbook = await mark(incidentId, "abc", { helpful: true }, { cookie: cookies.responder });
    expect(badRunbook.status).toBe(400);
    expect(badRunbook.json.error.field).toBe("runbookId");

    const unknownIncident = await mark(999_999, runbookIds["latency-triage"]!, { helpful: true }, {
      cookie: cookies.responder,
    });
    expect(unknownIncident.status).toBe(404);
    expect(unknownIncident.json.error.field).toBe("id");
    expect(await feedbackRows()).toBe(0);
  });
});

describe("detector incident history", () => {
  /** Opens a detector incident on the checkout CPU series and suggests runbooks. */
  async function openDetectorIncident(seriesId: number, key: string): Promise<number> {
    return withTransaction(getPool(), async (client) => {
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO incident
           (service_id, series_id, title, status, severity, source, dedup_key, summary, opened_at)
         SELECT service_id, id, 'Anomaly in ec2_cpu_utilization on Checkout', 'triggered', 'sev2',
                'detector', $2, 'ec2_cpu_utilization on Checkout turned anomalous.', now()
           FROM metric_series WHERE id = $1
         RETURNING id`,
        [seriesId, key],
      );
      const incidentId = rows[0]!.id;
      await suggestRunbooks(client, incidentId, {
        serviceSlug: "checkout",
        metricName: "ec2_cpu_utilization",
        labels: { region: "us-east-1" },
      });
      return incidentId;
    });
  }

  it("raises the runbook that helped on the same metric", async () => {
    await withTransaction(getPool(), async (client) => {
      const cpuRunbooks: [string, string][] = [
        ["cpu-saturation", "CPU saturation"],
        ["cpu-noisy-neighbour", "CPU stolen by a noisy neighbour"],
      ];
      for (const [slug, title] of cpuRunbooks) {
        const created = await createRunbook(
          client,
          slug,
          content({ title, body: "Look at the CPU of the instance.", metricPattern: "ec2_cpu_*" }),
          { type: "system", id: null, name: "test" },
        );
        runbookIds[slug] = created!.runbookId;
      }
    });
    const { rows: series } = await getPool().query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       SELECT id, 'ec2_cpu_utilization', '{"region":"us-east-1"}', '{"region":"us-east-1"}'
         FROM service WHERE slug = 'checkout'
       RETURNING id`,
    );
    const seriesId = series[0]!.id;

    const first = await openDetectorIncident(seriesId, "test:detector:1");
    const before = (await suggestions(first)).map((row) => row.slug);
    const cpuRunbooks = before.filter((slug) => slug.startsWith("cpu-"));
    expect(cpuRunbooks).toHaveLength(2);
    const [higher, lower] = cpuRunbooks as [string, string];

    await mark(first, runbookIds[lower]!, { helpful: true }, { cookie: cookies.responder });
    await getPool().query(
      "UPDATE incident SET status = 'resolved', resolved_at = now() WHERE id = $1",
      [first],
    );

    const second = await openDetectorIncident(seriesId, "test:detector:2");
    const after = await suggestions(second);
    const slugs = after.map((row) => row.slug);

    expect(slugs.indexOf(lower)).toBeLessThan(slugs.indexOf(higher));
    const raised = after.find((row) => row.slug === lower)!;
    expect(raised.breakdown.history).toEqual({ helpful: 1, unhelpful: 0, incidents: 1, points: 2 });
  });
});
