import { invalidField } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { authenticateOncallAdmin, authenticateOncallReader, parseSilenceBody } from "@/lib/oncall/api";
import { silenceView } from "@/lib/oncall/views";
import { createSilence, listSilences } from "@/lib/oncall/windows";

/** Lists silences that are not over, or all recent ones with ?include=over. */
export const GET = unauthenticatedRoute("GET /api/v1/silences", async ({ request, requestId }) => {
  await authenticateOncallReader(request);
  const include = new URL(request.url).searchParams.get("include");
  if (include !== null && include !== "over") {
    throw invalidField("include", `include must be "over" or absent, got ${JSON.stringify(include)}`);
  }
  const silences = await listSilences(getPool(), now(), { includeOver: include === "over" });
  return { body: { silences: silences.map(silenceView), requestId } };
});

/** Creates a silence of a service and/or of alerts matching label matchers (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/silences",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const at = now();
    const input = parseSilenceBody(await readJson(), at);
    const silence = await createSilence(getPool(), input, actor, at);
    log.info(
      { silenceId: silence.id, service: input.service, matchers: input.matchers.length, actor: actor.name },
      "silence created",
    );
    return { status: 201, body: { silence: silenceView(silence), requestId } };
  },
);
