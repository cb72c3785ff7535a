"use client";

import {
  RiArrowGoBackLine,
  RiCheckDoubleLine,
  RiCheckLine,
} from "@remixicon/react";
import { Button, Callout } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

import {
  acknowledgeIncidentAction,
  reopenIncidentAction,
  resolveIncidentAction,
  type IncidentActionResponse,
} from "@/app/(dashboard)/incidents/[id]/actions";
import { formatDateTime } from "@/components/format";
import { REQUEST_FAILED } from "@/components/request-failed";
import type { IncidentStatus } from "@/lib/generated/prisma/enums";

type Action = "acknowledge" | "resolve" | "reopen";

/** Maximum reopen reason length, as lib/incidents/actions.ts checks it. */
const REASON_MAX_LENGTH = 2000;

const STATUS_VERB: Record<IncidentStatus, string> = {
  triggered: "reopened",
  acknowledged: "acknowledged",
  resolved: "resolved",
};

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
  const verb = STATUS_VERB[response.status];
  if (response.outcome === "applied") {
    return { color: "emerald", title: `Incident ${verb}` };
  }
  const actor = response.by ?? "someone else";
  const when = response.at
    ? ` at ${formatDateTime(new Date(response.at))}`
    : "";
  if (response.status === "triggered") {
    return {
      color: "amber",
      title: "Already open",
      text: `${actor} opened this incident${when}, so nothing was changed.`,
    };
  }
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
  const [reopening, setReopening] = useState(false);
  const [reason, setReason] = useState("");

  if (!canAct) {
    return (
      <p className="text-xs text-slate-500" data-testid="read-only-note">
        Read-only: acknowledging, resolving and reopening need the responder
        role.
      </p>
    );
  }

  async function run(action: Action) {
    setPending(action);
    try {
      let result: IncidentActionResponse;
      if (action === "acknowledge") {
        result = await acknowledgeIncidentAction(incidentId);
      } else if (action === "resolve") {
        result = await resolveIncidentAction(incidentId);
      } else {
        result = await reopenIncidentAction(incidentId, reason);
      }
      setResponse(result);
      if (action === "reopen" && result.ok) {
        setReopening(false);
        setReason("");
      }
      router.refresh();
    } catch {
      setResponse(REQUEST_FAILED);
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
        {status === "resolved" && !reopening && (
          <Button
            variant="secondary"
            icon={RiArrowGoBackLine}
            disabled={pending !== null}
            onClick={() => setReopening(true)}
          >
            Reopen
          </Button>
        )}
      </div>
      {status === "resolved" && reopening && (
        <form
          className="flex w-full max-w-sm flex-col gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            void run("reopen");
          }}
        >
          <label
            htmlFor="reopen-reason"
            className="text-xs font-medium text-slate-600"
          >
            Why reopen it? (recorded in the timeline)
          </label>
          <textarea
            id="reopen-reason"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
            maxLength={REASON_MAX_LENGTH}
            rows={2}
            required
            className="w-full rounded-md border border-slate-300 px-2 py-1 text-sm"
          />
          <div className="flex justify-end gap-2">
            <Button
              type="button"
              variant="light"
              disabled={pending !== null}
              onClick={() => setReopening(false)}
            >
              Cancel
            </Button>
            <Button
              type="submit"
              variant="secondary"
              icon={RiArrowGoBackLine}
              loading={pending === "reopen"}
              disabled={pending !== null || reason.trim() === ""}
            >
              Reopen incident
            </Button>
          </div>
        </form>
      )}
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
