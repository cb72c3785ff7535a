import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import {
  authenticateOncallAdmin,
  authenticateOncallReader,
  parseId,
  parseOverrideBody,
} from "@/lib/oncall/api";
import { createOverride, listOverrides, type StoredOverride } from "@/lib/oncall/schedules";

async function requireSchedule(id: number): Promise<void> {
  const { rows } = await getPool().query("SELECT 1 FROM oncall_schedule WHERE id = $1", [id]);
  if (rows.length === 0) {
    throw new ApiError(404, "not_found", `no on-call schedule with id ${id}`, { field: "id" });
  }
}

function overrideView(override: StoredOverride) {
  return {
    ...override,
    startsAt: override.startsAt.toISOString(),
    endsAt: override.endsAt.toISOString(),
    createdAt: override.createdAt.toISOString(),
  };
}

/** Lists a schedule's overrides that have not ended. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/schedules/{id}/overrides",
  async ({ request, params, requestId }) => {
    await authenticateOncallReader(request);
    const id = parseId(params.id, "id");
    await requireSchedule(id);
    const overrides = await listOverrides(getPool(), id, now());
    return { body: { overrides: overrides.map(overrideView), requestId } };
  },
);

/** Adds an override: a user covers the schedule from startsAt to endsAt (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/schedules/{id}/overrides",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    const input = parseOverrideBody(await readJson(), now());
    await requireSchedule(id);
    const override = await createOverride(getPool(), id, input, actor);
    log.info(
      { scheduleId: id, overrideId: override.id, userId: override.userId, actor: actor.name },
      "on-call override created",
    );
    return { status: 201, body: { override: overrideView(override), requestId } };
  },
);
