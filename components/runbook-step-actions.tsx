"use client";

import { Button } from "@tremor/react";
import type { FormEvent } from "react";

import { FeedbackLine, useApiRequest } from "@/components/api-request";

// The Run button of a runbook step on the incident page, and the forms of
// the runbook allowlist settings page. They call the API with the session
// cookie, which checks the role on the server, and show the API's error
// message when a request is rejected.

/** Queues a run of one runbook step on an incident. */
export function RunStepButton({
  incidentId,
  runbookId,
  stepId,
  stepTitle,
}: {
  incidentId: number;
  runbookId: number;
  stepId: string;
  stepTitle: string;
}) {
  const { pending, feedback, send } = useApiRequest();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="secondary"
        loading={pending}
        aria-label={`Run step ${stepTitle}`}
        onClick={() =>
          send("POST", `/api/v1/incidents/${incidentId}/runbook-steps`, { runbookId, stepId }, {
            ok: (body) => `Run ${body.run.id} queued.`,
            failed: "The step was not queued.",
          })
        }
      >
        Run
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

const INPUT_CLASS =
  "block w-full rounded-md border-slate-300 text-sm shadow-sm focus:border-indigo-500 focus:ring-indigo-500";

/** Adds a host, with an optional port and note, to the runbook allowlist. */
export function AddAllowedHostForm() {
  const { pending, feedback, send } = useApiRequest();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const port = String(data.get("port") ?? "").trim();
    const body = {
      host: String(data.get("host") ?? "").trim(),
      port: port === "" ? null : Number(port),
      note: String(data.get("note") ?? "").trim(),
    };
    const added = await send("POST", "/api/v1/runbook-allowlist", body, {
      ok: (response) =>
        `Added ${response.host.host}${response.host.port === null ? "" : `:${response.host.port}`}.`,
      failed: "The host was not added.",
    });
    if (added) form.reset();
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Add allowed host">
      <div className="grid gap-3 sm:grid-cols-[2fr_1fr_3fr]">
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Host name or IP address</span>
          <input name="host" required maxLength={255} placeholder="hooks.example.com" className={INPUT_CLASS} />
        </label>
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Port (empty: any)</span>
          <input name="port" type="number" min={1} max={65535} className={INPUT_CLASS} />
        </label>
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Note</span>
          <input name="note" maxLength={500} placeholder="Why steps may call this host" className={INPUT_CLASS} />
        </label>
      </div>
      <div className="flex items-center gap-3">
        <Button type="submit" size="xs" loading={pending}>
          Add host
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}

/** Removes one host from the runbook allowlist after a confirmation. */
export function RemoveAllowedHostButton({ id, label }: { id: number; label: string }) {
  const { pending, feedback, send } = useApiRequest();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="light"
        color="rose"
        loading={pending}
        aria-label={`Remove ${label}`}
        onClick={() => {
          if (!window.confirm(`Remove ${label} from the runbook allowlist? Steps to it will be refused.`)) return;
          void send("DELETE", `/api/v1/runbook-allowlist/${id}`, undefined, {
            ok: () => `Removed ${label}.`,
            failed: `${label} was not removed.`,
          });
        }}
      >
        Remove
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}
