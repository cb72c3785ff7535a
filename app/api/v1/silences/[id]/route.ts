import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { authenticateOncallReader, parseId } from "@/lib/oncall/api";
import { silenceView } from "@/lib/oncall/views";
import { findSilence } from "@/lib/oncall/windows";

/** Reads one silence. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/silences/{id}",
  async ({ request, params, requestId }) => {
    await authenticateOncallReader(request);
    const id = parseId(params.id, "id");
    const silence = await findSilence(getPool(), id, now());
    if (!silence) throw new ApiError(404, "not_found", `no silence with id ${id}`, { field: "id" });
    return { body: { silence: silenceView(silence), requestId } };
  },
);
