"use client";

import { RiCheckDoubleLine, RiCheckLine } from "@remixicon/react";
import { Button, Callout } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

import {
  acknowledgeIncidentAction,
  resolveIncidentAction,
  type IncidentActionResponse,
} from "@/app/(dashboard)/incidents/[id]/actions";
import { formatDateTime } from "@/components/format";
import type { IncidentStatus } from "@/lib/generated/prisma/enums";

type Action = "acknowledge" | "resolve";

/** The server's response, or a request that never got one. */
type ActionOutcome =
  | IncidentActionResponse
  | { ok: false; error: { code: "request_failed"; message: string } };

function describe(response: ActionOutcome): {
  color: string;
  title: string;
  text?: string;
} {
  if (!response.ok) {
    return {
      color: "rose",
      title: "Not changed",
      text: response.error.message,
    };
  }
  const verb = response.status === "acknowledged" ? "acknowledged" : "resolved";
  if (response.outcome === "applied") {
    return { color: "emerald", title: `Incident ${verb}` };
  }
  const actor = response.by ?? "someone else";
  const when = response.at
    ? ` at ${formatDateTime(new Date(response.at))}`
    : "";
  return {
    color: "amber",
    title: `Already ${verb}`,
    text: `${actor} ${verb} this incident${when}, so nothing was changed.`,
  };
}

export function IncidentActions({
  incidentId,
  status,
  canAct,
}: {
  incidentId: number;
  status: IncidentStatus;
  canAct: boolean;
}) {
  const router = useRouter();
  const [pending, setPending] = useState<Action | null>(null);
  const [response, setResponse] = useState<ActionOutcome | null>(null);

  if (!canAct) {
    return (
      <p className="text-xs text-slate-500" data-testid="read-only-note">
        Read-only: acknowledging and resolving need the responder role.
      </p>
    );
  }

  async function run(action: Action) {
    setPending(action);
    try {
      const result =
        action === "acknowledge"
          ? await acknowledgeIncidentAction(incidentId)
          : await resolveIncidentAction(incidentId);
      setResponse(result);
      router.refresh();
    } catch {
      setResponse({
        ok: false,
        error: {
          code: "request_failed",
          message:
            "The server did not complete the request. Reload the page and try again.",
        },
      });
    } finally {
      setPending(null);
    }
  }

  const message = response ? describe(response) : null;

  return (
    <div className="flex flex-col items-end gap-3">
      <div className="flex gap-2">
        {status === "triggered" && (
          <Button
            variant="secondary"
            icon={RiCheckLine}
            loading={pending === "acknowledge"}
            disabled={pending !== null}
            onClick={() => void run("acknowledge")}
          >
            Acknowledge
          </Button>
        )}
        {status !== "resolved" && (
          <Button
            color="emerald"
            icon={RiCheckDoubleLine}
            loading={pending === "resolve"}
            disabled={pending !== null}
            onClick={() => void run("resolve")}
          >
            Resolve
          </Button>
        )}
      </div>
      {message && (
        <Callout
          title={message.title}
          color={message.color}
          className="max-w-sm"
          role="status"
          data-testid="incident-action-result"
        >
          {message.text}
        </Callout>
      )}
    </div>
  );
}
