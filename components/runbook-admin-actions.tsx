"use client";

import { Button } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

// Admin buttons of the runbook page: archive or restore the runbook, and
// roll back to an older version. Each calls the runbook API as JSON with
// the session cookie, then reloads the page's server components.

type ApiErrorBody = { error?: { message?: string } } | null;

async function send(url: string, method: string, body: unknown): Promise<string | null> {
  try {
    const response = await fetch(url, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.ok) return null;
    const json = (await response.json().catch(() => null)) as ApiErrorBody;
    return json?.error?.message ?? `The server returned HTTP ${response.status}.`;
  } catch {
    return "The server did not complete the request. Reload the page and try again.";
  }
}

function useApiAction() {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(url: string, method: string, body: unknown, onDone?: () => void) {
    setPending(true);
    setError(null);
    const failure = await send(url, method, body);
    setPending(false);
    if (failure) {
      setError(failure);
      return;
    }
    onDone?.();
    router.refresh();
  }
  return { pending, error, run };
}

function ErrorText({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p className="text-xs text-rose-600" role="alert">
      {error}
    </p>
  );
}

/** Archives an active runbook or restores an archived one. */
export function ArchiveButton({ slug, archived }: { slug: string; archived: boolean }) {
  const { pending, error, run } = useApiAction();
  const path = `/api/v1/runbooks/${encodeURIComponent(slug)}`;
  return (
    <div className="space-y-1">
      <Button
        size="xs"
        variant="secondary"
        color={archived ? "emerald" : "rose"}
        loading={pending}
        onClick={() =>
          void (archived ? run(`${path}/restore`, "POST", {}) : run(path, "DELETE", {}))
        }
      >
        {archived ? "Restore" : "Archive"}
      </Button>
      <ErrorText error={error} />
    </div>
  );
}

/** Stores an older version's content as the runbook's newest version. */
export function RollbackButton({ slug, version }: { slug: string; version: number }) {
  const router = useRouter();
  const { pending, error, run } = useApiAction();
  return (
    <div className="space-y-1">
      <Button
        size="xs"
        variant="secondary"
        loading={pending}
        onClick={() =>
          void run(
            `/api/v1/runbooks/${encodeURIComponent(slug)}/rollback`,
            "POST",
            { version },
            () => router.push(`/runbooks/${slug}`),
          )
        }
      >
        Roll back to version {version}
      </Button>
      <ErrorText error={error} />
    </div>
  );
}
