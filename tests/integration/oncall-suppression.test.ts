import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb, getPool } from "@/lib/db";
import {
  describeSuppression,
  findSuppression,
  silenceMatches,
} from "@/lib/oncall/suppression";
import { truncateAll } from "@/tests/support/database";

// findSuppression against PostgreSQL: maintenance windows, silences by
// service and by label matchers, ended-early windows and precedence.

const T0 = new Date("2026-12-05T01:00:00Z");
const minutes = (count: number) => new Date(T0.getTime() + count * 60_000);

let serviceId: number;
let otherServiceId: number;

async function addWindow(
  service: number,
  reason: string,
  startsAt: Date,
  endsAt: Date,
  endedAt: Date | null = null,
): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO maintenance_window
       (service_id, reason, starts_at, ends_at, ended_at, created_by_name)
     VALUES ($1, $2, $3, $4, $5, 'test') RETURNING id`,
    [service, reason, startsAt, endsAt, endedAt],
  );
  return rows[0]!.id;
}

async function addSilence(
  service: number | null,
  reason: string,
  matchers: unknown[],
  startsAt: Date,
  endsAt: Date,
): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO silence
       (service_id, reason, matchers, starts_at, ends_at, created_by_name)
     VALUES ($1, $2, $3::jsonb, $4, $5, 'test') RETURNING id`,
    [service, reason, JSON.stringify(matchers), startsAt, endsAt],
  );
  return rows[0]!.id;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout'), ('search', 'Search')
     RETURNING id`,
  );
  serviceId = rows[0]!.id;
  otherServiceId = rows[1]!.id;
});

afterAll(async () => {
  await closeDb();
});

describe("findSuppression", () => {
  it("returns null without windows or silences", async () => {
    expect(await findSuppression(getPool(), serviceId, T0)).toBeNull();
  });

  it("finds an active maintenance window", async () => {
    const id = await addWindow(serviceId, "DB upgrade", minutes(-10), minutes(120));
    const found = await findSuppression(getPool(), serviceId, T0);
    expect(found).toEqual({
      kind: "maintenance",
      id,
      name: "DB upgrade",
      endsAt: minutes(120),
    });
    expect(describeSuppression(found!)).toBe(
      "maintenance 'DB upgrade' until 2026-12-05 03:00 UTC",
    );
  });

  it("ignores windows before, after and of other services", async () => {
    await addWindow(serviceId, "later", minutes(5), minutes(60));
    await addWindow(serviceId, "earlier", minutes(-60), T0);
    await addWindow(otherServiceId, "other", minutes(-60), minutes(60));
    expect(await findSuppression(getPool(), serviceId, T0)).toBeNull();
    expect(await findSuppression(getPool(), serviceId, minutes(5))).not.toBeNull();
  });

  it("stops at a window ended early", async () => {
    await addWindow(serviceId, "ended", minutes(-60), minutes(60), minutes(10));
    const during = await findSuppression(getPool(), serviceId, T0);
    expect(during?.endsAt).toEqual(minutes(10));
    expect(await findSuppression(getPool(), serviceId, minutes(10))).toBeNull();
  });

  it("finds a service silence without labels", async () => {
    const id = await addSilence(serviceId, "noisy", [], minutes(-1), minutes(30));
    const found = await findSuppression(getPool(), serviceId, T0);
    expect(found).toEqual({ kind: "silence", id, name: "noisy", endsAt: minutes(30) });
  });

  it("matches label silences only with labels", async () => {
    const matchers = [
      { name: "alertname", operator: "=~", value: "Disk.*" },
      { name: "env", operator: "!=", value: "staging" },
    ];
    const id = await addSilence(null, "disk alerts", matchers, minutes(-1), minutes(30));

    expect(await findSuppression(getPool(), serviceId, T0)).toBeNull();
    const matching = await findSuppression(getPool(), otherServiceId, T0, {
      alertname: "DiskFull",
      env: "prod",
    });
    expect(matching?.id).toBe(id);
    const staging = await findSuppression(getPool(), serviceId, T0, {
      alertname: "DiskFull",
      env: "staging",
    });
    expect(staging).toBeNull();
    const partial = await findSuppression(getPool(), serviceId, T0, {
      alertname: "XDiskFull",
    });
    expect(partial).toBeNull();
  });

  it("prefers maintenance over a silence", async () => {
    await addSilence(serviceId, "long silence", [], minutes(-1), minutes(600));
    const windowId = await addWindow(serviceId, "DB upgrade", minutes(-1), minutes(30));
    const found = await findSuppression(getPool(), serviceId, T0);
    expect(found?.kind).toBe("maintenance");
    expect(found?.id).toBe(windowId);
  });

  it("rejects a silence of every service without matchers", async () => {
    await expect(addSilence(null, "everything", [], minutes(-1), minutes(30))).rejects.toThrow(
      /silence_scope_check/,
    );
  });
});

describe("silenceMatches", () => {
  it("treats a missing label as empty", () => {
    expect(silenceMatches([{ name: "team", operator: "=", value: "" }], {})).toBe(true);
    expect(silenceMatches([{ name: "team", operator: "!~", value: ".+" }], {})).toBe(true);
    expect(silenceMatches([{ name: "team", operator: "=~", value: ".+" }], {})).toBe(false);
  });
});
