"use client";

import { Button } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

import {
  addNoteAction,
  type IncidentChangeResponse,
} from "@/app/(dashboard)/incidents/[id]/actions";
import { REQUEST_FAILED } from "@/components/request-failed";

/** Maximum note length, as lib/incidents/notes.ts checks it. */
const NOTE_MAX_LENGTH = 5000;

/** Form that adds a note to the incident's timeline. */
export function IncidentNoteForm({ incidentId }: { incidentId: number }) {
  const router = useRouter();
  const [text, setText] = useState("");
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState<IncidentChangeResponse | null>(null);

  async function submit() {
    setPending(true);
    try {
      const response = await addNoteAction(incidentId, text);
      setResult(response);
      if (response.ok) setText("");
      router.refresh();
    } catch {
      setResult(REQUEST_FAILED);
    } finally {
      setPending(false);
    }
  }

  return (
    <form
      className="mb-5 space-y-2"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label htmlFor="incident-note" className="sr-only">
        Note
      </label>
      <textarea
        id="incident-note"
        value={text}
        onChange={(event) => setText(event.target.value)}
        maxLength={NOTE_MAX_LENGTH}
        rows={3}
        placeholder="Add a note for the timeline: what you checked, what you changed"
        className="w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm"
      />
      <div className="flex items-center justify-between gap-2">
        <span className="text-xs tabular-nums text-slate-400">
          {text.length} / {NOTE_MAX_LENGTH}
        </span>
        <Button
          type="submit"
          size="xs"
          variant="secondary"
          loading={pending}
          disabled={pending || text.trim() === ""}
        >
          Add note
        </Button>
      </div>
      {result && !result.ok && (
        <p role="alert" className="text-xs text-rose-700">
          {result.error.message}
        </p>
      )}
    </form>
  );
}
