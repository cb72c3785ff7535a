"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";

import { ForbiddenError, requireUser } from "@/lib/auth/session";
import {
  acknowledgeIncident,
  resolveIncident,
  type IncidentAction,
} from "@/lib/incidents/actions";
import type { IncidentStatus } from "@/lib/generated/prisma/enums";
import { FeedbackError } from "@/lib/feedback/errors";
import {
  MAX_INCIDENT_ID,
  recordFeedback,
  type FeedbackVerdict,
} from "@/lib/feedback/record";
import { logger } from "@/lib/logger";

// Server actions behind the Acknowledge and Resolve buttons. The role check
// happens here on the server, so a viewer who replays the request directly
// is rejected just like one who clicks.

export type IncidentActionResponse =
  | {
      ok: true;
      action: IncidentAction;
      /**
       * "unchanged" means another user changed the incident first, and by and
       * at name that user and the time.
       */
      outcome: "applied" | "unchanged";
      status: IncidentStatus;
      by: string | null;
      at: string | null;
    }
  | {
      ok: false;
      error: {
        code: "invalid_input" | "forbidden" | "not_found";
        message: string;
        field?: string;
      };
    };

const incidentIdSchema = z.number().int().positive().max(MAX_INCIDENT_ID);

type RoleCheck =
  | { user: Awaited<ReturnType<typeof requireUser>> }
  | { denied: { ok: false; error: { code: "forbidden"; message: string } } };

/** Returns the signed-in responder or admin, or the "forbidden" response
 * naming `what` the user's role may not do. */
async function requireResponder(what: string): Promise<RoleCheck> {
  try {
    return { user: await requireUser("responder") };
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    return {
      denied: {
        ok: false,
        error: {
          code: "forbidden",
          message: `Your role (${error.user.role}) cannot ${what}; it needs the responder or admin role.`,
        },
      },
    };
  }
}

async function runIncidentAction(
  action: IncidentAction,
  incidentId: unknown,
): Promise<IncidentActionResponse> {
  const parsed = incidentIdSchema.safeParse(incidentId);
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: "invalid_input",
        message: `incidentId must be a positive integer up to ${MAX_INCIDENT_ID}`,
        field: "incidentId",
      },
    };
  }
  const id = parsed.data;

  const check = await requireResponder(`${action} incidents`);
  if ("denied" in check) return check.denied;
  const { user } = check;

  const result =
    action === "acknowledge"
      ? await acknowledgeIncident(id, user)
      : await resolveIncident(id, user);

  if (result.outcome === "not_found") {
    return {
      ok: false,
      error: {
        code: "not_found",
        message: `Incident ${id} does not exist.`,
        field: "incidentId",
      },
    };
  }

  revalidatePath(`/incidents/${id}`);
  revalidatePath("/incidents");
  revalidatePath("/");

  if (result.outcome === "applied") {
    return {
      ok: true,
      action,
      outcome: "applied",
      status: action === "acknowledge" ? "acknowledged" : "resolved",
      by: user.name,
      at: result.at.toISOString(),
    };
  }
  return {
    ok: true,
    action,
    outcome: "unchanged",
    status: result.status,
    by: result.by,
    at: result.at?.toISOString() ?? null,
  };
}

export async function acknowledgeIncidentAction(
  incidentId: number,
): Promise<IncidentActionResponse> {
  return runIncidentAction("acknowledge", incidentId);
}

export async function resolveIncidentAction(
  incidentId: number,
): Promise<IncidentActionResponse> {
  return runIncidentAction("resolve", incidentId);
}

export type FeedbackActionResponse =
  | {
      ok: true;
      outcome: "recorded" | "unchanged";
      verdict: FeedbackVerdict;
      by: string;
      at: string;
      /** Alarm threshold of the series after the verdict; null is the default. */
      alarmThreshold: number | null;
    }
  | {
      ok: false;
      error: {
        code: "invalid_input" | "forbidden" | "not_found" | "rejected";
        message: string;
        field?: string;
      };
    };

/** Records a responder's verdict on a detector incident (lib/feedback). */
export async function giveFeedbackAction(
  incidentId: number,
  verdict: FeedbackVerdict,
  comment: string | null,
): Promise<FeedbackActionResponse> {
  const check = await requireResponder("give feedback on incidents");
  if ("denied" in check) return check.denied;
  const { user } = check;

  try {
    const result = await recordFeedback({
      incidentId,
      verdict,
      comment,
      actor: { kind: "user", id: user.id, name: user.name },
    });
    revalidatePath(`/incidents/${incidentId}`);
    return {
      ok: true,
      outcome: result.outcome,
      verdict: result.feedback.verdict,
      by: result.feedback.actorName,
      at: result.feedback.createdAt.toISOString(),
      alarmThreshold: result.alarmThreshold.after,
    };
  } catch (error) {
    if (!(error instanceof FeedbackError)) throw error;
    logger.warn(
      {
        incidentId,
        userId: user.id,
        status: error.status,
        code: error.code,
        field: error.field,
        reason: error.message,
      },
      "rejected incident feedback",
    );
    let code: "not_found" | "invalid_input" | "rejected" = "rejected";
    if (error.status === 404) code = "not_found";
    if (error.status === 400) code = "invalid_input";
    return {
      ok: false,
      error: { code, message: error.message, field: error.field },
    };
  }
}
