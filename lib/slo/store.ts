import type pg from "pg";

import type {
  SloAvailabilitySource,
  SloKind,
} from "@/lib/generated/prisma/enums";

// Reads and writes the slo table with plain SQL, so that the worker can
// read an SLO inside the transaction that evaluates it.

type Queryable = Pick<pg.ClientBase, "query">;

/** The fields of an SLO that an admin sets, besides its service. */
export type SloSettings = {
  name: string;
  kind: SloKind;
  availabilitySource: SloAvailabilitySource | null;
  latencyMetric: string | null;
  latencyThreshold: number | null;
  target: number;
  windowDays: number;
  fastBurnRate: number;
  fastLongMinutes: number;
  fastShortMinutes: number;
  slowBurnRate: number;
  slowLongMinutes: number;
  slowShortMinutes: number;
};

export type SloRecord = SloSettings & {
  id: number;
  serviceId: number;
  serviceSlug: string;
  serviceName: string;
  burningSince: Date | null;
  burnCount: number;
  lastEvaluatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

/** The fields an admin sets; service is a slug. */
export type SloInput = SloSettings & { service: string };

/** An SLO name that its service has already. */
export class SloNameTakenError extends Error {
  constructor(readonly service: string, readonly sloName: string) {
    super(`service ${service} has an SLO named ${JSON.stringify(sloName)} already`);
    this.name = "SloNameTakenError";
  }
}

/** A service slug that no service has. */
export class SloServiceNotFoundError extends Error {
  constructor(readonly service: string) {
    super(`no service with slug ${JSON.stringify(service)}`);
    this.name = "SloServiceNotFoundError";
  }
}

const SELECT_SLO = `
  SELECT o.id, o.service_id AS "serviceId", s.slug AS "serviceSlug",
         s.name AS "serviceName", o.name, o.kind,
         o.availability_source AS "availabilitySource",
         o.latency_metric AS "latencyMetric",
         o.latency_threshold AS "latencyThreshold",
         o.target, o.window_days AS "windowDays",
         o.fast_burn_rate AS "fastBurnRate",
         o.fast_long_minutes AS "fastLongMinutes",
         o.fast_short_minutes AS "fastShortMinutes",
         o.slow_burn_rate AS "slowBurnRate",
         o.slow_long_minutes AS "slowLongMinutes",
         o.slow_short_minutes AS "slowShortMinutes",
         o.burning_since AS "burningSince", o.burn_count AS "burnCount",
         o.last_evaluated_at AS "lastEvaluatedAt",
         o.created_at AS "createdAt", o.updated_at AS "updatedAt"
  FROM slo o
  JOIN service s ON s.id = o.service_id`;

/** Lists SLOs by service slug and name, only those of `serviceIds` when given. */
export async function listSlos(
  db: Queryable,
  serviceIds?: number[] | null,
): Promise<SloRecord[]> {
  const { rows } = await db.query<SloRecord>(
    `${SELECT_SLO}
     WHERE $1::int[] IS NULL OR o.service_id = ANY($1::int[])
     ORDER BY s.slug, o.name, o.id`,
    [serviceIds ?? null],
  );
  return rows;
}

/** Reads one SLO, or null; `lock` takes its row lock until the transaction ends. */
export async function findSlo(
  db: Queryable,
  id: number,
  options: { lock?: boolean } = {},
): Promise<SloRecord | null> {
  const { rows } = await db.query<SloRecord>(
    `${SELECT_SLO} WHERE o.id = $1${options.lock ? " FOR UPDATE OF o" : ""}`,
    [id],
  );
  return rows[0] ?? null;
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "23505";
}

async function serviceIdFor(db: Queryable, slug: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    "SELECT id FROM service WHERE slug = $1",
    [slug],
  );
  if (!rows[0]) throw new SloServiceNotFoundError(slug);
  return rows[0].id;
}

function inputParams(input: SloInput): unknown[] {
  return [
    input.name,
    input.kind,
    input.availabilitySource,
    input.latencyMetric,
    input.latencyThreshold,
    input.target,
    input.windowDays,
    input.fastBurnRate,
    input.fastLongMinutes,
    input.fastShortMinutes,
    input.slowBurnRate,
    input.slowLongMinutes,
    input.slowShortMinutes,
  ];
}

/** Inserts an SLO; throws SloServiceNotFoundError or SloNameTakenError. */
export async function createSlo(db: Queryable, input: SloInput): Promise<SloRecord> {
  const serviceId = await serviceIdFor(db, input.service);
  try {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO slo
         (name, kind, availability_source, latency_metric, latency_threshold,
          target, window_days, fast_burn_rate, fast_long_minutes,
          fast_short_minutes, slow_burn_rate, slow_long_minutes,
          slow_short_minutes, service_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       RETURNING id`,
      [...inputParams(input), serviceId],
    );
    return (await findSlo(db, rows[0]!.id))!;
  } catch (error) {
    if (isUniqueViolation(error)) throw new SloNameTakenError(input.service, input.name);
    throw error;
  }
}

/**
 * Replaces an SLO's settings; returns null when it does not exist. Moving
 * an SLO to another service keeps its burn history.
 */
export async function updateSlo(
  db: Queryable,
  id: number,
  input: SloInput,
): Promise<SloRecord | null> {
  const serviceId = await serviceIdFor(db, input.service);
  try {
    const { rowCount } = await db.query(
      `UPDATE slo
          SET name = $1, kind = $2, availability_source = $3,
              latency_metric = $4, latency_threshold = $5, target = $6,
              window_days = $7, fast_burn_rate = $8, fast_long_minutes = $9,
              fast_short_minutes = $10, slow_burn_rate = $11,
              slow_long_minutes = $12, slow_short_minutes = $13,
              service_id = $14, updated_at = clock_timestamp()
        WHERE id = $15`,
      [...inputParams(input), serviceId, id],
    );
    if (rowCount === 0) return null;
    return findSlo(db, id);
  } catch (error) {
    if (isUniqueViolation(error)) throw new SloNameTakenError(input.service, input.name);
    throw error;
  }
}

/** Deletes an SLO and its burn records; the incidents it opened stay. */
export async function deleteSlo(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM slo WHERE id = $1", [id]);
  return (rowCount ?? 0) > 0;
}

/** Turns a stored SLO back into input, for a PATCH that sets some fields. */
export function sloToInput(slo: SloRecord): SloInput {
  return { service: slo.serviceSlug, ...sloSettings(slo) };
}

/** Copies the settings of an SLO, leaving out its ids and state. */
export function sloSettings(slo: SloSettings): SloSettings {
  return {
    name: slo.name,
    kind: slo.kind,
    availabilitySource: slo.availabilitySource,
    latencyMetric: slo.latencyMetric,
    latencyThreshold: slo.latencyThreshold,
    target: slo.target,
    windowDays: slo.windowDays,
    fastBurnRate: slo.fastBurnRate,
    fastLongMinutes: slo.fastLongMinutes,
    fastShortMinutes: slo.fastShortMinutes,
    slowBurnRate: slo.slowBurnRate,
    slowLongMinutes: slo.slowLongMinutes,
    slowShortMinutes: slo.slowShortMinutes,
  };
}

export type SloBurnRecord = {
  id: number;
  seq: number;
  incidentId: number | null;
  incidentStatus: string | null;
  startedAt: Date;
  endedAt: Date | null;
};

/** Lists the burns of the SLOs, newest first, `perSlo` at most for each. */
export async function listSloBurns(
  db: Queryable,
  sloIds: number[],
  perSlo = 5,
): Promise<Map<number, SloBurnRecord[]>> {
  const { rows } = await db.query<SloBurnRecord & { sloId: number }>(
    `SELECT b.slo_id AS "sloId", b.id, b.seq, b.incident_id AS "incidentId",
            i.status::text AS "incidentStatus", b.started_at AS "startedAt",
            b.ended_at AS "endedAt"
     FROM (SELECT *, row_number() OVER (PARTITION BY slo_id ORDER BY seq DESC) AS rank
           FROM slo_burn WHERE slo_id = ANY($1::int[])) b
     LEFT JOIN incident i ON i.id = b.incident_id
     WHERE b.rank <= $2
     ORDER BY b.slo_id, b.seq DESC`,
    [sloIds, perSlo],
  );
  const burns = new Map<number, SloBurnRecord[]>();
  for (const { sloId, ...burn } of rows) {
    burns.set(sloId, [...(burns.get(sloId) ?? []), burn]);
  }
  return burns;
}
