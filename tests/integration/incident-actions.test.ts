import pg from "pg";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb, getPrisma } from "@/lib/db";
import {
  acknowledgeIncident,
  reopenIncident,
  resolveIncident,
  type IncidentActionResult,
  type IncidentActor,
} from "@/lib/incidents/actions";
import type { IncidentStatus } from "@/lib/generated/prisma/enums";
import { truncateAll } from "@/tests/support/database";
import { withIncidentLocked as lockIncident } from "@/tests/support/incident-lock";

const databaseUrl = process.env.DATABASE_URL!;

let alice: IncidentActor;
let bob: IncidentActor;
let serviceId: number;

beforeEach(async () => {
  await truncateAll(databaseUrl);
  const prisma = getPrisma();
  // These users never log in, so a placeholder replaces the bcrypt hash.
  alice = await prisma.user.create({
    data: {
      email: "alice@example.test",
      name: "Alice",
      passwordHash: "-",
      role: "responder",
    },
    select: { id: true, name: true },
  });
  bob = await prisma.user.create({
    data: {
      email: "bob@example.test",
      name: "Bob",
      passwordHash: "-",
      role: "admin",
    },
    select: { id: true, name: true },
  });
  ({ id: serviceId } = await prisma.service.create({
    data: { slug: "checkout", name: "Checkout" },
  }));
});

afterAll(async () => {
  await closeDb();
});

async function createIncident(status: IncidentStatus = "triggered") {
  const incident = await getPrisma().incident.create({
    data: {
      serviceId,
      title: "p99 latency above expected range",
      status,
      source: "detector",
      dedupKey: `test:${Math.random()}`,
      openedAt: new Date(Date.now() - 30 * 60_000),
    },
  });
  return incident.id;
}

function loadIncident(id: number) {
  return getPrisma().incident.findUniqueOrThrow({ where: { id } });
}

function loadEvents(incidentId: number) {
  return getPrisma().incidentEvent.findMany({
    where: { incidentId },
    orderBy: { id: "asc" },
  });
}

function withIncidentLocked<T>(
  incidentId: number,
  start: () => Promise<T>,
): Promise<T> {
  return lockIncident(databaseUrl, incidentId, 2, start);
}

describe("acknowledgeIncident", () => {
  it("acknowledges a triggered incident", async () => {
    const id = await createIncident();

    const result = await acknowledgeIncident(id, alice);

    expect(result.outcome).toBe("applied");
    const incident = await loadIncident(id);
    expect(incident.status).toBe("acknowledged");
    expect(incident.acknowledgedById).toBe(alice.id);
    expect(incident.acknowledgedAt).toBeInstanceOf(Date);
    expect(incident.resolvedAt).toBeNull();
    const events = await loadEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]?.kind).toBe("acknowledged");
    expect(events[0]?.actorType).toBe("user");
    expect(events[0]?.actorId).toBe(alice.id);
    expect(events[0]?.actorName).toBe("Alice");
  });

  it("leaves an acknowledged incident unchanged", async () => {
    const id = await createIncident();
    await acknowledgeIncident(id, alice);
    const before = await loadIncident(id);

    const result = await acknowledgeIncident(id, bob);

    expect(result).toEqual({
      outcome: "unchanged",
      action: "acknowledge",
      incidentId: id,
      status: "acknowledged",
      by: "Alice",
      at: before.acknowledgedAt,
    });
    const after = await loadIncident(id);
    expect(after.acknowledgedById).toBe(alice.id);
    expect(after.acknowledgedAt).toEqual(before.acknowledgedAt);
    expect(await loadEvents(id)).toHaveLength(1);
  });

  it("lets one of two concurrent acknowledges win", async () => {
    const id = await createIncident();

    const results = await withIncidentLocked(id, () =>
      Promise.all([
        acknowledgeIncident(id, alice),
        acknowledgeIncident(id, bob),
      ]),
    );

    const applied = results.filter((result) => result.outcome === "applied");
    const unchanged = results.filter(
      (result) => result.outcome === "unchanged",
    );
    expect(applied).toHaveLength(1);
    expect(unchanged).toHaveLength(1);

    const incident = await loadIncident(id);
    const winner = incident.acknowledgedById === alice.id ? alice : bob;
    expect([alice.id, bob.id]).toContain(incident.acknowledgedById);
    expect(unchanged[0]).toMatchObject({
      by: winner.name,
      status: "acknowledged",
    });

    const events = await loadEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]?.actorId).toBe(winner.id);
  });

  it("leaves a resolved incident unchanged", async () => {
    const id = await createIncident();
    await resolveIncident(id, bob);

    const result = await acknowledgeIncident(id, alice);

    expect(result).toMatchObject({
      outcome: "unchanged",
      status: "resolved",
      by: "Bob",
    });
    const incident = await loadIncident(id);
    expect(incident.status).toBe("resolved");
    expect(incident.acknowledgedAt).toBeNull();
    expect(await loadEvents(id)).toHaveLength(1);
  });

  it("reports an unknown incident", async () => {
    const result = await acknowledgeIncident(999_999, alice);

    expect(result).toEqual({
      outcome: "not_found",
      action: "acknowledge",
      incidentId: 999_999,
    });
    expect(await getPrisma().incidentEvent.count()).toBe(0);
  });

  it("rejects an invalid incident id", async () => {
    await expect(acknowledgeIncident(0, alice)).rejects.toThrow(/incidentId/);
    await expect(acknowledgeIncident(1.5, alice)).rejects.toThrow(/incidentId/);
  });

  it("writes nothing when the actor does not exist", async () => {
    const id = await createIncident();

    await expect(
      acknowledgeIncident(id, { id: 424_242, name: "Ghost" }),
    ).rejects.toThrow();

    const incident = await loadIncident(id);
    expect(incident.status).toBe("triggered");
    expect(incident.acknowledgedById).toBeNull();
    expect(await loadEvents(id)).toHaveLength(0);
  });
});

describe("resolveIncident", () => {
  it("resolves an acknowledged incident", async () => {
    const id = await createIncident();
    await acknowledgeIncident(id, alice);

    const result = await resolveIncident(id, bob);

    expect(result.outcome).toBe("applied");
    const incident = await loadIncident(id);
    expect(incident.status).toBe("resolved");
    expect(incident.resolvedById).toBe(bob.id);
    expect(incident.resolvedAt).toBeInstanceOf(Date);
    expect(incident.acknowledgedById).toBe(alice.id);
    const events = await loadEvents(id);
    expect(events.map((event) => event.kind)).toEqual([
      "acknowledged",
      "resolved",
    ]);
    expect(events[1]?.actorId).toBe(bob.id);
    expect(events[1]?.actorName).toBe("Bob");
  });

  it("resolves a triggered incident", async () => {
    const id = await createIncident();

    const result = await resolveIncident(id, alice);

    expect(result.outcome).toBe("applied");
    const incident = await loadIncident(id);
    expect(incident.status).toBe("resolved");
    expect(incident.resolvedById).toBe(alice.id);
    expect(incident.acknowledgedAt).toBeNull();
  });

  it("leaves a resolved incident unchanged", async () => {
    const id = await createIncident();
    await resolveIncident(id, alice);
    const before = await loadIncident(id);

    const result = await resolveIncident(id, bob);

    expect(result).toEqual({
      outcome: "unchanged",
      action: "resolve",
      incidentId: id,
      status: "resolved",
      by: "Alice",
      at: before.resolvedAt,
    });
    expect((await loadIncident(id)).resolvedById).toBe(alice.id);
    expect(await loadEvents(id)).toHaveLength(1);
  });

  it("names the worker that resolved it", async () => {
    const id = await createIncident();
    const prisma = getPrisma();
    await prisma.incident.update({
      where: { id },
      data: { status: "resolved", resolvedAt: new Date() },
    });
    await prisma.incidentEvent.create({
      data: {
        incidentId: id,
        kind: "resolved",
        actorType: "worker",
        actorName: "detector",
        message: "anomaly score back below threshold",
      },
    });

    const result = await resolveIncident(id, alice);

    expect(result).toMatchObject({ outcome: "unchanged", by: "detector" });
  });

  it("lets one of two concurrent resolves win", async () => {
    const id = await createIncident();
    await acknowledgeIncident(id, alice);

    const results = await withIncidentLocked(id, () =>
      Promise.all([resolveIncident(id, alice), resolveIncident(id, bob)]),
    );

    expect(
      results.filter((result) => result.outcome === "applied"),
    ).toHaveLength(1);
    expect(
      results.filter((result) => result.outcome === "unchanged"),
    ).toHaveLength(1);
    const resolvedEvents = (await loadEvents(id)).filter(
      (event) => event.kind === "resolved",
    );
    expect(resolvedEvents).toHaveLength(1);
  });
});

/**
 * Holds the incident's row lock until `start`'s action waits on it, keeps it
 * 300 ms longer, and returns the action's result with the database time
 * just before the lock was released.
 */
async function runAfterHeldLock(
  incidentId: number,
  start: () => Promise<IncidentActionResult>,
): Promise<{ result: IncidentActionResult; releasedAt: Date }> {
  const locker = new pg.Client({ connectionString: databaseUrl });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query("SELECT id FROM incident WHERE id = $1 FOR UPDATE", [
      incidentId,
    ]);
    const running = start();
    for (let attempt = 0; ; attempt += 1) {
      await locker.query("SELECT pg_stat_clear_snapshot()");
      const { rows } = await locker.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if ((rows[0]?.waiting ?? 0) >= 1) break;
      if (attempt > 200) throw new Error("the action never waited on the lock");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { rows } = await locker.query<{ at: Date }>(
      "SELECT clock_timestamp() AS at",
    );
    await locker.query("COMMIT");
    return { result: await running, releasedAt: rows[0]!.at };
  } finally {
    await locker.end();
  }
}

describe("action times", () => {
  it("stamps an acknowledge after the lock", async () => {
    const id = await createIncident();

    const { result, releasedAt } = await runAfterHeldLock(id, () =>
      acknowledgeIncident(id, alice),
    );

    expect(result.outcome).toBe("applied");
    const incident = await loadIncident(id);
    expect(incident.acknowledgedAt!.getTime()).toBeGreaterThanOrEqual(
      releasedAt.getTime(),
    );
    const [event] = await loadEvents(id);
    expect(event!.createdAt).toEqual(incident.acknowledgedAt);
  });

  it("stamps a resolve after the lock", async () => {
    const id = await createIncident();

    const { result, releasedAt } = await runAfterHeldLock(id, () =>
      resolveIncident(id, bob),
    );

    expect(result.outcome).toBe("applied");
    const incident = await loadIncident(id);
    expect(incident.resolvedAt!.getTime()).toBeGreaterThanOrEqual(
      releasedAt.getTime(),
    );
    const [event] = await loadEvents(id);
    expect(event!.createdAt).toEqual(incident.resolvedAt);
  });

  it("stamps a reopen after the lock", async () => {
    const id = await createIncident();
    await resolveIncident(id, bob);

    const { result, releasedAt } = await runAfterHeldLock(id, () =>
      reopenIncident(id, alice, "latency is back"),
    );

    expect(result.outcome).toBe("applied");
    const reopened = (await loadEvents(id)).find(
      (event) => event.kind === "reopened",
    );
    expect(reopened!.createdAt.getTime()).toBeGreaterThanOrEqual(
      releasedAt.getTime(),
    );
    if (result.outcome === "applied") {
      expect(result.at).toEqual(reopened!.createdAt);
    }
  });

  it("keeps the timeline in order while flapping", async () => {
    const id = await createIncident();
    await resolveIncident(id, bob);

    // Twelve reopens and resolves wait on the row lock and then run in the
    // order PostgreSQL grants it; each changes the status or changes nothing.
    const results = await withIncidentLocked(id, () =>
      Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          index % 2 === 0
            ? reopenIncident(id, index % 4 === 0 ? alice : bob, `flap ${index}`)
            : resolveIncident(id, index % 4 === 1 ? alice : bob),
        ),
      ),
    );
    expect(results.every((result) => result.outcome !== "not_found")).toBe(true);

    const byId = (await loadEvents(id)).map((event) => ({
      id: event.id,
      kind: event.kind,
      createdAt: event.createdAt.getTime(),
    }));
    const byTime = [...byId].sort(
      (a, b) => a.createdAt - b.createdAt || a.id - b.id,
    );
    // Sorting by time gives the order in which the changes were written.
    expect(byTime.map((event) => event.id)).toEqual(byId.map((event) => event.id));
    const kinds = byTime.map((event) => event.kind);
    for (let index = 1; index < kinds.length; index += 1) {
      expect(kinds[index], `event ${index} of ${kinds.join(", ")}`).not.toBe(
        kinds[index - 1],
      );
    }
    const incident = await loadIncident(id);
    if (incident.status === "resolved") {
      expect(incident.resolvedAt!.getTime()).toBe(byTime.at(-1)!.createdAt);
    }
  });
});
