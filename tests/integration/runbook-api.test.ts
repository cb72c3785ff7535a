import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "runbook-api-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import { POST as restoreRoute } from "@/app/api/v1/runbooks/[slug]/restore/route";
import { POST as rollbackRoute } from "@/app/api/v1/runbooks/[slug]/rollback/route";
import {
  DELETE as archiveRoute,
  GET as getRoute,
  PUT as putRoute,
} from "@/app/api/v1/runbooks/[slug]/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/v1/runbooks/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";
import {
  callRoute,
  sessionCookieFor,
  type Auth,
  type Json,
  type RouteHandler,
} from "@/tests/support/route-calls";

// The runbook admin API against the real database: create, versions,
// rollback, archive and restore, access by role and scope, validation
// errors that name the field, and that a rejected request writes nothing.

const BASE = "http://127.0.0.1:3241/api/v1";

let adminToken: string;
let ingestToken: string;
let boundAdminToken: string;
const cookies: Record<"admin" | "responder" | "viewer", string> = {} as never;

function call(
  handler: RouteHandler,
  method: string,
  path: string,
  auth: Auth,
  body?: unknown,
  params: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  return callRoute(handler, method, `${BASE}${path}`, auth, body, params);
}

function diskRunbook(overrides: Json = {}): Json {
  return {
    slug: "disk-full",
    title: "Disk full",
    body: "# Disk full\n\nFree some space.",
    services: ["checkout"],
    metricPattern: "disk_*",
    labels: { tier: "web" },
    alertNames: ["DiskFull*"],
    severities: ["sev1", "sev2"],
    steps: [
      {
        id: "clean-tmp",
        title: "Clean /tmp",
        url: "http://127.0.0.1:3242/clean",
      },
    ],
    automatic: false,
    ...overrides,
  };
}

function withoutSlug(runbook: Json): Json {
  const { slug: _slug, ...rest } = runbook;
  return rest;
}

async function countRows(): Promise<{ runbooks: number; versions: number }> {
  const { rows } = await getPool().query<{ runbooks: number; versions: number }>(
    `SELECT (SELECT count(*) FROM runbook)::int AS runbooks,
            (SELECT count(*) FROM runbook_version)::int AS versions`,
  );
  return rows[0]!;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const { rows: services } = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout') RETURNING id",
  );
  for (const role of ["admin", "responder", "viewer"] as const) {
    const { rows } = await getPool().query<{ id: number; name: string }>(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ($1, $2, '-', $3) RETURNING id, name`,
      [`${role}@example.test`, `Test ${role}`, role],
    );
    cookies[role] = await sessionCookieFor(rows[0]!, SESSION_SECRET);
  }
  adminToken = (await createApiToken({ name: "admin-bot", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "exporter", scope: "ingest" })).token;
  boundAdminToken = (
    await createApiToken({ name: "bound", scope: "admin", serviceId: services[0]!.id })
  ).token;
});

afterAll(async () => {
  await closeDb();
});

describe("runbook API create and read", () => {
  it("creates a runbook with version 1", async () => {
    const created = await call(createRoute, "POST", "/runbooks", { cookie: cookies.admin }, diskRunbook());

    expect(created.status).toBe(201);
    expect(created.json.runbook.slug).toBe("disk-full");
    expect(created.json.runbook.version).toBe(1);
    expect(created.json.runbook.severities).toEqual(["sev1", "sev2"]);
    expect(created.json.runbook.steps[0]).toEqual({
      id: "clean-tmp",
      title: "Clean /tmp",
      url: "http://127.0.0.1:3242/clean",
      method: "POST",
      timeoutSeconds: 10,
      retries: 2,
    });

    const one = await call(getRoute, "GET", "/runbooks/disk-full", { cookie: cookies.viewer }, undefined, {
      slug: "disk-full",
    });
    expect(one.status).toBe(200);
    expect(one.json.versions).toHaveLength(1);
    expect(one.json.versions[0].version).toBe(1);
    expect(one.json.versions[0].author).toEqual({ type: "user", id: expect.any(Number), name: "Test admin" });
    expect(one.json.versions[0].alertNames).toEqual(["DiskFull*"]);
  });

  it("lists and searches runbooks", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, {
      slug: "cpu-high",
      title: "CPU high",
      body: "Look at the busiest process.",
    });

    const all = await call(listRoute, "GET", "/runbooks", { token: ingestToken });
    expect(all.status).toBe(200);
    expect(all.json.runbooks.map((runbook: Json) => runbook.slug)).toEqual(["cpu-high", "disk-full"]);

    const found = await call(listRoute, "GET", "/runbooks?q=BUSIEST", { cookie: cookies.viewer });
    expect(found.json.runbooks.map((runbook: Json) => runbook.slug)).toEqual(["cpu-high"]);

    const percent = await call(listRoute, "GET", "/runbooks?q=%25", { cookie: cookies.viewer });
    expect(percent.json.runbooks).toEqual([]);
  });

  it("rejects a duplicate slug with 409", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());
    const before = await countRows();

    const again = await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook({ title: "Other" }));

    expect(again.status).toBe(409);
    expect(again.json.error.field).toBe("slug");
    expect(await countRows()).toEqual(before);
  });

  it.each([
    ["a bad slug", { slug: "Disk Full" }, "slug", /slug must be lower-case words/],
    ["an empty body", { body: "  " }, "body", /body is empty/],
    ["a missing title", { title: undefined }, "title", /title is required/],
    ["an unknown severity", { severities: ["sev9"] }, "severities[0]", /must be one of sev1, sev2, sev3, sev4/],
    ["a label that is not a string", { labels: { tier: 3 } }, "labels.tier", /must be a string/],
    ["an unknown field", { colour: "red" }, "colour", /is not a known field/],
    [
      "a step with an ftp URL",
      { steps: [{ id: "a", title: "A", url: "ftp://127.0.0.1/x" }] },
      "steps[0].url",
      /must use http or https/,
    ],
    [
      "duplicate step ids",
      {
        steps: [
          { id: "a", title: "A", url: "http://127.0.0.1/x" },
          { id: "a", title: "B", url: "http://127.0.0.1/y" },
        ],
      },
      "steps[1].id",
      /must be unique/,
    ],
    ["automatic as a string", { automatic: "yes" }, "automatic", /must be a boolean/],
    ["NUL in the title", { title: "Disk\u0000full" }, "title", /title contains the NUL character \(U\+0000\) at position 4/],
    ["NUL in the body", { body: "# Disk\u0000" }, "body", /body contains the NUL character/],
    ["a surrogate in the body", { body: "# Disk \ud800" }, "body", /body contains an unpaired UTF-16 surrogate \(U\+D800\)/],
    ["NUL in a label value", { labels: { tier: "web\u0000" } }, "labels.tier", /contains the NUL character/],
    ["a surrogate in a label value", { labels: { tier: "\udc00" } }, "labels.tier", /unpaired UTF-16 surrogate \(U\+DC00\)/],
    ["a surrogate in a label key", { labels: { "tier\ud800": "web" } }, 'labels["tier\\ud800"]', /has a key that contains an unpaired UTF-16 surrogate/],
    ["NUL in an alert name", { alertNames: ["DiskFull\u0000"] }, "alertNames[0]", /contains the NUL character/],
    ["NUL in the metric pattern", { metricPattern: "disk_\u0000" }, "metricPattern", /contains the NUL character/],
    [
      "NUL in a step title",
      { steps: [{ id: "a", title: "A\u0000", url: "http://127.0.0.1/x" }] },
      "steps[0].title",
      /contains the NUL character/,
    ],
    [
      "NUL in a step URL",
      { steps: [{ id: "a", title: "A", url: "http://127.0.0.1/x\u0000" }] },
      "steps[0].url",
      /contains the NUL character/,
    ],
    [
      "a surrogate in a step body",
      { steps: [{ id: "a", title: "A", url: "http://127.0.0.1/x", body: "x\ud800" }] },
      "steps[0].body",
      /contains an unpaired UTF-16 surrogate/,
    ],
    [
      "NUL in a step body object",
      { steps: [{ id: "a", title: "A", url: "http://127.0.0.1/x", body: { reason: "x\u0000" } }] },
      "steps[0].body.reason",
      /contains the NUL character/,
    ],
    [
      "variables in a text step body",
      { steps: [{ id: "a", title: "A", url: "http://127.0.0.1/x", body: "restart {{incident.title}}" }] },
      "steps[0].body",
      /uses template variables, which Vigil can escape only in a JSON, form/,
    ],
  ])("rejects %s naming the field", async (_name, overrides, field, message) => {
    const body = diskRunbook(overrides as Json);
    const response = await call(createRoute, "POST", "/runbooks", { token: adminToken }, body);

    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe(field);
    expect(response.json.error.message).toMatch(message);
    expect(await countRows()).toEqual({ runbooks: 0, versions: 0 });
  });

  it.each([
    ["no credentials", "none", 401],
    ["a viewer", "viewer", 403],
    ["a responder", "responder", 403],
    ["an ingest token", "ingest", 403],
    ["a service-bound admin token", "bound", 403],
  ] as const)("rejects a create by %s", async (_name, who, status) => {
    const auth: Record<typeof who, Auth> = {
      none: {},
      viewer: { cookie: cookies.viewer },
      responder: { cookie: cookies.responder },
      ingest: { token: ingestToken },
      bound: { token: boundAdminToken },
    };
    const response = await call(createRoute, "POST", "/runbooks", auth[who], diskRunbook());

    expect(response.status).toBe(status);
    expect(await countRows()).toEqual({ runbooks: 0, versions: 0 });
  });

  it("returns 404 for an unknown slug", async () => {
    const response = await call(getRoute, "GET", "/runbooks/none", { token: adminToken }, undefined, {
      slug: "none",
    });

    expect(response.status).toBe(404);
    expect(response.json.error.field).toBe("slug");
  });
});

describe("runbook API versions", () => {
  it("stores a changed PUT as a new version", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());

    const changed = await call(
      putRoute,
      "PUT",
      "/runbooks/disk-full",
      { cookie: cookies.admin },
      { ...withoutSlug(diskRunbook()), body: "# Disk full\n\nDelete old logs first.", note: "logs first" },
      { slug: "disk-full" },
    );
    expect(changed.status).toBe(200);
    expect(changed.json.changed).toBe(true);
    expect(changed.json.runbook.version).toBe(2);

    const same = await call(
      putRoute,
      "PUT",
      "/runbooks/disk-full",
      { cookie: cookies.admin },
      // Reordered lists and labels are the same content.
      { ...withoutSlug(diskRunbook()), body: "# Disk full\n\nDelete old logs first.", severities: ["sev2", "sev1"] },
      { slug: "disk-full" },
    );
    expect(same.status).toBe(200);
    expect(same.json.changed).toBe(false);
    expect(same.json.runbook.version).toBe(2);

    const one = await call(getRoute, "GET", "/runbooks/disk-full", { token: adminToken }, undefined, {
      slug: "disk-full",
    });
    expect(one.json.versions.map((version: Json) => version.version)).toEqual([2, 1]);
    expect(one.json.versions[0].note).toBe("logs first");
    expect(one.json.versions[1].body).toBe("# Disk full\n\nFree some space.");
  });

  it("rolls back by adding a version", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());
    await call(
      putRoute,
      "PUT",
      "/runbooks/disk-full",
      { token: adminToken },
      { ...withoutSlug(diskRunbook()), title: "Disk almost full", automatic: true },
      { slug: "disk-full" },
    );

    const rolled = await call(rollbackRoute, "POST", "/runbooks/disk-full/rollback", { cookie: cookies.admin }, {
      version: 1,
    }, { slug: "disk-full" });

    expect(rolled.status).toBe(200);
    expect(rolled.json.changed).toBe(true);
    expect(rolled.json.runbook.version).toBe(3);
    expect(rolled.json.runbook.title).toBe("Disk full");
    expect(rolled.json.runbook.automatic).toBe(false);
    const { rows } = await getPool().query(
      "SELECT version, title, note FROM runbook_version ORDER BY version",
    );
    expect(rows).toEqual([
      { version: 1, title: "Disk full", note: "created" },
      { version: 2, title: "Disk almost full", note: null },
      { version: 3, title: "Disk full", note: "rollback to version 1" },
    ]);

    const again = await call(rollbackRoute, "POST", "/runbooks/disk-full/rollback", { token: adminToken }, {
      version: 1,
    }, { slug: "disk-full" });
    expect(again.json.changed).toBe(false);
    expect(await countRows()).toEqual({ runbooks: 1, versions: 3 });
  });

  it("rejects a rollback to a missing version", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());

    const missing = await call(rollbackRoute, "POST", "/runbooks/disk-full/rollback", { token: adminToken }, {
      version: 7,
    }, { slug: "disk-full" });
    expect(missing.status).toBe(404);
    expect(missing.json.error.field).toBe("version");

    const invalid = await call(rollbackRoute, "POST", "/runbooks/disk-full/rollback", { token: adminToken }, {
      version: 0,
    }, { slug: "disk-full" });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.field).toBe("version");
    expect(await countRows()).toEqual({ runbooks: 1, versions: 1 });
  });

  it("rejects a rollback version above int4", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());

    const response = await call(rollbackRoute, "POST", "/runbooks/disk-full/rollback", { token: adminToken }, {
      version: 2_147_483_648,
    }, { slug: "disk-full" });

    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("version");
    expect(response.json.error.message).toMatch(/must be at most 2147483647/);
    expect(await countRows()).toEqual({ runbooks: 1, versions: 1 });
  });

  it.each([
    ["NUL", "rolled back\u0000", /note contains the NUL character/],
    ["a surrogate", "rolled back \ud800", /note contains an unpaired UTF-16 surrogate/],
  ])("rejects %s in the note", async (_name, note, message) => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());

    const response = await call(
      putRoute,
      "PUT",
      "/runbooks/disk-full",
      { token: adminToken },
      { ...withoutSlug(diskRunbook()), title: "Disk full again", note },
      { slug: "disk-full" },
    );

    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("note");
    expect(response.json.error.message).toMatch(message);
    expect(await countRows()).toEqual({ runbooks: 1, versions: 1 });
  });

  it("rejects a PUT by a responder", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());

    const response = await call(
      putRoute,
      "PUT",
      "/runbooks/disk-full",
      { cookie: cookies.responder },
      { ...withoutSlug(diskRunbook()), title: "Hijacked" },
      { slug: "disk-full" },
    );

    expect(response.status).toBe(403);
    expect(await countRows()).toEqual({ runbooks: 1, versions: 1 });
  });

  it("rejects a session PUT without JSON", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());

    const response = await putRoute(
      new Request(`${BASE}/runbooks/disk-full`, {
        method: "PUT",
        headers: { cookie: cookies.admin, "content-type": "text/plain" },
        body: JSON.stringify(withoutSlug(diskRunbook())),
      }),
      { params: Promise.resolve({ slug: "disk-full" }) },
    );

    expect(response.status).toBe(415);
  });
});

describe("runbook API archive", () => {
  it("archives, hides and restores a runbook", async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());

    const archived = await call(archiveRoute, "DELETE", "/runbooks/disk-full", { cookie: cookies.admin }, undefined, {
      slug: "disk-full",
    });
    expect(archived.status).toBe(200);
    expect(archived.json.changed).toBe(true);
    expect(archived.json.runbook.archivedAt).not.toBeNull();

    const list = await call(listRoute, "GET", "/runbooks", { token: adminToken });
    expect(list.json.runbooks).toEqual([]);
    const withArchived = await call(listRoute, "GET", "/runbooks?archived=true", { token: adminToken });
    expect(withArchived.json.runbooks).toHaveLength(1);

    const edit = await call(
      putRoute,
      "PUT",
      "/runbooks/disk-full",
      { token: adminToken },
      withoutSlug(diskRunbook()),
      { slug: "disk-full" },
    );
    expect(edit.status).toBe(409);

    const taken = await call(createRoute, "POST", "/runbooks", { token: adminToken }, diskRunbook());
    expect(taken.status).toBe(409);

    const restored = await call(restoreRoute, "POST", "/runbooks/disk-full/restore", { token: adminToken }, undefined, {
      slug: "disk-full",
    });
    expect(restored.status).toBe(200);
    expect(restored.json.runbook.archivedAt).toBeNull();
    expect(await countRows()).toEqual({ runbooks: 1, versions: 1 });
  });

  it("rejects a bad archived parameter", async () => {
    const response = await call(listRoute, "GET", "/runbooks?archived=maybe", { token: adminToken });

    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("archived");
  });

  it("rejects a NUL in the search", async () => {
    const response = await call(listRoute, "GET", "/runbooks?q=disk%00", { token: adminToken });

    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("q");
    expect(response.json.error.message).toMatch(/q contains the NUL character \(U\+0000\) at position 4/);
  });
});

describe("runbook API step headers", () => {
  function withHeaders(authorization: string): Json {
    return diskRunbook({
      steps: [
        {
          id: "clean-tmp",
          title: "Clean /tmp",
          url: "http://127.0.0.1:3242/clean",
          headers: { Authorization: authorization, "X-Severity": "{{incident.severity}}" },
        },
      ],
    });
  }

  beforeEach(async () => {
    await call(createRoute, "POST", "/runbooks", { token: adminToken }, withHeaders("Bearer first-s3cret"));
    const second = await call(
      putRoute,
      "PUT",
      "/runbooks/disk-full",
      { token: adminToken },
      withoutSlug(withHeaders("Bearer second-s3cret")),
      { slug: "disk-full" },
    );
    expect(second.json.runbook.steps[0].headers.Authorization).toBe("Bearer second-s3cret");
  });

  async function read(auth: Auth) {
    const one = await call(getRoute, "GET", "/runbooks/disk-full", auth, undefined, { slug: "disk-full" });
    const list = await call(listRoute, "GET", "/runbooks", auth);
    expect(one.status).toBe(200);
    expect(list.status).toBe(200);
    return { one: one.json, list: list.json };
  }

  it.each([
    ["a viewer", "viewer"],
    ["a responder", "responder"],
    ["an ingest token", "ingest"],
    ["a service-bound admin token", "bound"],
  ] as const)("hides header values from %s", async (_name, who) => {
    const auth: Record<typeof who, Auth> = {
      viewer: { cookie: cookies.viewer },
      responder: { cookie: cookies.responder },
      ingest: { token: ingestToken },
      bound: { token: boundAdminToken },
    };
    const { one, list } = await read(auth[who]);
    const hidden = { Authorization: "(hidden)", "X-Severity": "(hidden)" };

    expect(one.runbook.steps[0].headers).toEqual(hidden);
    expect(one.versions.map((version: Json) => version.steps[0].headers)).toEqual([hidden, hidden]);
    expect(list.runbooks[0].steps[0].headers).toEqual(hidden);
    expect(one.runbook.steps[0].url).toBe("http://127.0.0.1:3242/clean");
    expect(JSON.stringify({ one, list })).not.toMatch(/s3cret/);
  });

  it.each([
    ["an admin", "admin"],
    ["an unbound admin token", "token"],
  ] as const)("shows header values to %s", async (_name, who) => {
    const auth: Record<typeof who, Auth> = {
      admin: { cookie: cookies.admin },
      token: { token: adminToken },
    };
    const { one, list } = await read(auth[who]);

    expect(one.runbook.steps[0].headers.Authorization).toBe("Bearer second-s3cret");
    expect(one.versions.map((version: Json) => version.steps[0].headers.Authorization)).toEqual([
      "Bearer second-s3cret",
      "Bearer first-s3cret",
    ]);
    expect(list.runbooks[0].steps[0].headers["X-Severity"]).toBe("{{incident.severity}}");
  });
});
