"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";

import { ForbiddenError, requireUser } from "@/lib/auth/session";
import {
  acknowledgeIncident,
  reopenIncident,
  resolveIncident,
  type IncidentAction,
} from "@/lib/incidents/actions";
import type { IncidentStatus, Severity } from "@/lib/generated/prisma/enums";
import { updateIncidentFields } from "@/lib/incidents/assign";
import { IncidentChangeError } from "@/lib/incidents/errors";
import { addIncidentNote } from "@/lib/incidents/notes";
import {
  savePostmortem,
  type PostmortemInput,
} from "@/lib/incidents/postmortem";
import { FeedbackError } from "@/lib/feedback/errors";
import {
  MAX_INCIDENT_ID,
  recordFeedback,
  type FeedbackVerdict,
} from "@/lib/feedback/record";
import { logger } from "@/lib/logger";

// Server actions behind the incident page's buttons and forms. The role
// check happens here on the server, so a viewer who replays the request
// directly is rejected just like one who clicks.

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
        code: "invalid_input" | "forbidden" | "not_found" | "conflict";
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

const INVALID_INCIDENT_ID = {
  ok: false,
  error: {
    code: "invalid_input",
    message: `incidentId must be a positive integer up to ${MAX_INCIDENT_ID}`,
    field: "incidentId",
  },
} as const;

async function runIncidentAction(
  action: IncidentAction,
  incidentId: unknown,
  reason?: unknown,
): Promise<IncidentActionResponse> {
  const parsed = incidentIdSchema.safeParse(incidentId);
  if (!parsed.success) return INVALID_INCIDENT_ID;
  const id = parsed.data;

  const check = await requireResponder(`${action} incidents`);
  if ("denied" in check) return check.denied;
  const { user } = check;

  let result;
  try {
    if (action === "acknowledge") result = await acknowledgeIncident(id, user);
    else if (action === "resolve") result = await resolveIncident(id, user);
    else result = await reopenIncident(id, user, reason);
  } catch (error) {
    const rejected = rejectedChange(error, id, user.id);
    return { ok: false, error: { ...rejected, code: "invalid_input" } };
  }

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

  if (result.outcome === "conflict") {
    return {
      ok: false,
      error: { code: "conflict", message: result.message, field: "incidentId" },
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
      status: APPLIED_STATUS[action],
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

export async function reopenIncidentAction(
  incidentId: number,
  reason: string,
): Promise<IncidentActionResponse> {
  return runIncidentAction("reopen", incidentId, reason);
}

const APPLIED_STATUS: Record<IncidentAction, IncidentStatus> = {
  acknowledge: "acknowledged",
  resolve: "resolved",
  reopen: "triggered",
};

type RejectedChange = { code: string; message: string; field?: string };

/**
 * Turns an IncidentChangeError into the error of an action response and
 * logs it; rethrows anything else.
 */
function rejectedChange(
  error: unknown,
  incidentId: number,
  userId: number,
): RejectedChange {
  if (!(error instanceof IncidentChangeError)) throw error;
  logger.warn(
    {
      incidentId,
      userId,
      status: error.status,
      code: error.code,
      field: error.field,
      reason: error.message,
    },
    "rejected incident change",
  );
  return { code: error.code, message: error.message, field: error.field };
}

/** Result of a change made from the incident page other than a status change. */
export type IncidentChangeResponse =
  | { ok: true; message: string }
  | {
      ok: false;
      error: { code: string; message: string; field?: string };
    };

async function runChange(
  incidentId: unknown,
  what: string,
  change: (
    id: number,
    user: { id: number; name: string },
  ) => Promise<string | null>,
): Promise<IncidentChangeResponse> {
  const parsed = incidentIdSchema.safeParse(incidentId);
  if (!parsed.success) return INVALID_INCIDENT_ID;
  const id = parsed.data;
  const check = await requireResponder(what);
  if ("denied" in check) return check.denied;
  const { user } = check;

  try {
    const message = await change(id, user);
    if (message === null) {
      return {
        ok: false,
        error: { code: "not_found", message: `Incident ${id} does not exist.` },
      };
    }
    revalidatePath(`/incidents/${id}`);
    revalidatePath("/incidents");
    return { ok: true, message };
  } catch (error) {
    return { ok: false, error: rejectedChange(error, id, user.id) };
  }
}

/** Sets the severity, the assignee or both. */
export async function updateIncidentFieldsAction(
  incidentId: number,
  changes: { severity?: Severity; assigneeId?: number | null },
): Promise<IncidentChangeResponse> {
  return runChange(incidentId, "change incidents", async (id, user) => {
    const result = await updateIncidentFields(id, changes, user);
    if (result.outcome === "not_found") return null;
    return result.outcome === "applied" ? "Saved." : "Nothing changed.";
  });
}

/** Adds a note to the timeline. */
export async function addNoteAction(
  incidentId: number,
  text: string,
): Promise<IncidentChangeResponse> {
  return runChange(incidentId, "add notes to incidents", async (id, user) => {
    const note = await addIncidentNote(id, text, user);
    return note ? "Note added." : null;
  });
}

/**
 * Creates or replaces the postmortem. A stale version gets a conflict that
 * names who saved in between.
 */
export async function savePostmortemAction(
  incidentId: number,
  input: PostmortemInput,
): Promise<IncidentChangeResponse> {
  return runChange(incidentId, "write postmortems", async (id, user) => {
    const result = await savePostmortem(id, input, user);
    if (result.outcome === "not_found") return null;
    if (result.outcome === "unchanged") return "Nothing changed.";
    return `Saved version ${result.postmortem.version}.`;
  });
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
