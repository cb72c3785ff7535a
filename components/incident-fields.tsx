"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

import {
  updateIncidentFieldsAction,
  type IncidentChangeResponse,
} from "@/app/(dashboard)/incidents/[id]/actions";
import { REQUEST_FAILED } from "@/components/request-failed";
import type { Severity } from "@/lib/generated/prisma/enums";

const SEVERITY_OPTIONS: { value: Severity; label: string }[] = [
  { value: "sev1", label: "SEV1 (critical)" },
  { value: "sev2", label: "SEV2 (major)" },
  { value: "sev3", label: "SEV3 (minor)" },
  { value: "sev4", label: "SEV4 (low)" },
];

const SELECT_CLASS =
  "w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 disabled:bg-slate-50 disabled:text-slate-500";

/** Severity and assignee selects that save each change at once. */
export function IncidentFields({
  incidentId,
  severity,
  assignee,
  users,
  canEdit,
}: {
  incidentId: number;
  severity: Severity;
  assignee: { id: number; name: string } | null;
  users: { id: number; name: string }[];
  canEdit: boolean;
}) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState<IncidentChangeResponse | null>(null);
  // An assignee who lost the responder role still shows as selected.
  const options =
    assignee && !users.some((user) => user.id === assignee.id)
      ? [...users, assignee]
      : users;

  async function save(changes: {
    severity?: Severity;
    assigneeId?: number | null;
  }) {
    setPending(true);
    try {
      setResult(await updateIncidentFieldsAction(incidentId, changes));
      router.refresh();
    } catch {
      setResult(REQUEST_FAILED);
    } finally {
      setPending(false);
    }
  }

  return (
    <div className="space-y-3" data-testid="incident-fields">
      <div>
        <label
          htmlFor="incident-severity-select"
          className="mb-1 block text-xs font-medium uppercase tracking-wide text-slate-500"
        >
          Severity
        </label>
        <select
          id="incident-severity-select"
          className={SELECT_CLASS}
          value={severity}
          disabled={!canEdit || pending}
          onChange={(event) =>
            void save({ severity: event.target.value as Severity })
          }
        >
          {SEVERITY_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label
          htmlFor="incident-assignee-select"
          className="mb-1 block text-xs font-medium uppercase tracking-wide text-slate-500"
        >
          Assignee
        </label>
        <select
          id="incident-assignee-select"
          className={SELECT_CLASS}
          value={assignee ? String(assignee.id) : ""}
          disabled={!canEdit || pending}
          onChange={(event) =>
            void save({
              assigneeId:
                event.target.value === "" ? null : Number(event.target.value),
            })
          }
        >
          <option value="">Unassigned</option>
          {options.map((user) => (
            <option key={user.id} value={user.id}>
              {user.name}
            </option>
          ))}
        </select>
      </div>
      {!canEdit && (
        <p className="text-xs text-slate-500">
          Changing severity and assignee needs the responder role.
        </p>
      )}
      {result && (
        <p
          role="status"
          data-testid="incident-fields-result"
          className={`text-xs ${result.ok ? "text-emerald-700" : "text-rose-700"}`}
        >
          {result.ok ? result.message : result.error.message}
        </p>
      )}
    </div>
  );
}
