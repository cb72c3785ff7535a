"use client";

import { RiThumbDownLine, RiThumbUpLine } from "@remixicon/react";
import { Button } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

// Helpful / not helpful toggle for one suggested runbook of an incident.
// It posts to the runbook feedback API with the session cookie, as JSON, so
// the API's same-origin and Content-Type checks pass, and then reloads the
// server components so that counts and the timeline show the mark.

export function RunbookFeedbackButtons({
  incidentId,
  runbookId,
  title,
  mine,
  helpfulCount,
  unhelpfulCount,
  canMark,
}: {
  incidentId: number;
  runbookId: number;
  title: string;
  /** The signed-in user's mark; null when none. */
  mine: boolean | null;
  helpfulCount: number;
  unhelpfulCount: number;
  canMark: boolean;
}) {
  const router = useRouter();
  const [pending, setPending] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(helpful: boolean) {
    setPending(helpful);
    setError(null);
    try {
      const response = await fetch(
        `/api/v1/incidents/${incidentId}/runbooks/${runbookId}/feedback`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ helpful }),
        },
      );
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as {
          error?: { message?: string };
        } | null;
        setError(body?.error?.message ?? `The server returned HTTP ${response.status}.`);
        return;
      }
      router.refresh();
    } catch {
      setError("The server did not complete the request. Reload the page and try again.");
    } finally {
      setPending(null);
    }
  }

  const counts = `${helpfulCount} helpful, ${unhelpfulCount} not helpful`;
  return (
    <div className="space-y-1" data-testid="runbook-feedback">
      <div className="flex flex-wrap items-center gap-2">
        {canMark && (
          <div className="flex gap-2" role="group" aria-label={`Was "${title}" helpful?`}>
            <Button
              size="xs"
              color="emerald"
              variant={mine === true ? "primary" : "secondary"}
              aria-pressed={mine === true}
              icon={RiThumbUpLine}
              loading={pending === true}
              disabled={pending !== null}
              onClick={() => void submit(true)}
            >
              Helpful
            </Button>
            <Button
              size="xs"
              color="slate"
              variant={mine === false ? "primary" : "secondary"}
              aria-pressed={mine === false}
              icon={RiThumbDownLine}
              loading={pending === false}
              disabled={pending !== null}
              onClick={() => void submit(false)}
            >
              Not helpful
            </Button>
          </div>
        )}
        <span className="text-xs text-slate-500" data-testid="runbook-feedback-counts">
          {counts}
        </span>
      </div>
      {error && (
        <p className="text-xs text-rose-600" role="alert">
          Not recorded: {error}
        </p>
      )}
    </div>
  );
}
