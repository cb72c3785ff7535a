import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getConfig } from "@/lib/config";
import { parsePositiveId, requireEmptyBody } from "@/lib/models/route-params";
import { deliveryOptions } from "@/lib/notifications/settings";
import { authenticateScheduleRequest } from "@/lib/reports/schedule-api";
import { sendScheduleNow, SendNowTooSoonError } from "@/lib/reports/schedule-runs";
import { ScheduleSelectionError } from "@/lib/reports/schedule-send";

/**
 * Mails the report of the schedule's last full period now, as a test
 * (manager, admin). The response lists the channels that accepted the mail;
 * 502 when any channel failed, and 429 with Retry-After when the previous
 * Send now of the schedule is under a minute old. No run is recorded, so
 * the scheduled run of the same period still goes out.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/report-schedules/{id}/send",
  async ({ request, params, readBody, log, requestId }) => {
    const actor = await authenticateScheduleRequest(request);
    const id = parsePositiveId(params.id, "id");
    requireEmptyBody((await readBody()).bytes);
    let result;
    try {
      result = await sendScheduleNow(id, deliveryOptions(getConfig()), log);
    } catch (error) {
      if (error instanceof SendNowTooSoonError) {
        throw new ApiError(429, "too_many_requests", error.message, {
          headers: { "retry-after": String(error.retryAfterSeconds) },
          logContext: { scheduleId: id },
        });
      }
      if (!(error instanceof ScheduleSelectionError)) throw error;
      throw new ApiError(409, "stale_selection", error.message, { field: "services" });
    }
    if (!result) {
      throw new ApiError(404, "not_found", `no report schedule with id ${id}`, { field: "id" });
    }
    if (result.sent.length === 0 && result.failed.length === 0) {
      throw new ApiError(
        409,
        "no_channel",
        `report schedule ${id} has no email channel left, because its channels were deleted; edit the schedule to choose one`,
        { field: "channels" },
      );
    }
    const period = { from: result.period.from.toISOString(), to: result.period.to.toISOString() };
    log.info(
      { scheduleId: id, actor: { type: actor.type, id: actor.id }, ...period, sent: result.sent.length, failed: result.failed.length },
      "report schedule test mail sent",
    );
    if (result.failed.length > 0) {
      const reasons = result.failed.map((channel) => `${JSON.stringify(channel.name)}: ${channel.error}`).join("; ");
      throw new ApiError(
        502,
        "send_failed",
        `sending failed through ${result.failed.length} of ${result.failed.length + result.sent.length} channels: ${reasons}`,
        { field: "channels" },
      );
    }
    return { body: { period, sent: result.sent, requestId } };
  },
);
