"use client";

import {
  RiAddLine,
  RiDeleteBinLine,
  RiDownloadLine,
} from "@remixicon/react";
import { Button } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

import {
  savePostmortemAction,
  type IncidentChangeResponse,
} from "@/app/(dashboard)/incidents/[id]/actions";
import { formatDateTime } from "@/components/format";
import { REQUEST_FAILED } from "@/components/request-failed";

/** Limits of lib/incidents/postmortem.ts, repeated for the inputs. */
const TEXT_MAX_LENGTH = 20_000;
const DESCRIPTION_MAX_LENGTH = 2000;
const FOLLOW_UPS_MAX = 50;

export type PostmortemProps = {
  version: number;
  summary: string;
  impact: string;
  rootCause: string;
  updatedBy: string;
  /** ISO time of the last save. */
  updatedAt: string;
  followUps: {
    id: number;
    description: string;
    owner: { id: number; name: string } | null;
    dueDate: string | null;
    done: boolean;
  }[];
};

type DraftItem = {
  /** Key for React; the stored id for items loaded from the server. */
  key: string;
  id: number | null;
  description: string;
  ownerId: string;
  dueDate: string;
  done: boolean;
};

const INPUT_CLASS =
  "w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm text-slate-900";

const SECTIONS = [
  { name: "summary", label: "Summary", hint: "What happened, in a few sentences" },
  { name: "impact", label: "Impact", hint: "Who was affected, how much and for how long" },
  { name: "rootCause", label: "Root cause", hint: "Why it happened" },
] as const;

type SectionName = (typeof SECTIONS)[number]["name"];

let nextKey = 0;

function toDraft(postmortem: PostmortemProps | null): DraftItem[] {
  return (postmortem?.followUps ?? []).map((item) => ({
    key: `saved-${item.id}`,
    id: item.id,
    description: item.description,
    ownerId: item.owner ? String(item.owner.id) : "",
    dueDate: item.dueDate ?? "",
    done: item.done,
  }));
}

/** Read-only view of a postmortem, for viewers. */
function PostmortemView({ postmortem }: { postmortem: PostmortemProps | null }) {
  if (!postmortem) {
    return <p className="text-sm text-slate-500">No postmortem written yet.</p>;
  }
  return (
    <div className="space-y-3">
      {SECTIONS.map((section) => (
        <div key={section.name}>
          <h3 className="text-xs font-medium uppercase tracking-wide text-slate-500">
            {section.label}
          </h3>
          <p className="whitespace-pre-wrap text-sm text-slate-800">
            {postmortem[section.name] || "Not written yet."}
          </p>
        </div>
      ))}
      <ul className="space-y-1 text-sm text-slate-800">
        {postmortem.followUps.map((item) => (
          <li key={item.id}>
            {item.done ? "☑" : "☐"} {item.description} (owner:{" "}
            {item.owner?.name ?? "nobody"}
            {item.dueDate ? `, due ${item.dueDate}` : ""})
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Postmortem editor with follow-up items and the Markdown export link. A
 * save names the version it started from, so a save after someone else's
 * is rejected with their name instead of overwriting it. The page remounts
 * the editor when the stored version changes.
 */
export function IncidentPostmortem({
  incidentId,
  postmortem,
  users,
  canEdit,
}: {
  incidentId: number;
  postmortem: PostmortemProps | null;
  users: { id: number; name: string }[];
  canEdit: boolean;
}) {
  const router = useRouter();
  const [text, setText] = useState<Record<SectionName, string>>({
    summary: postmortem?.summary ?? "",
    impact: postmortem?.impact ?? "",
    rootCause: postmortem?.rootCause ?? "",
  });
  const [items, setItems] = useState<DraftItem[]>(() => toDraft(postmortem));
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState<IncidentChangeResponse | null>(null);
  const exportHref = `/api/v1/incidents/${incidentId}/postmortem.md`;

  // Owners who are no longer responders still show as selected.
  const owners = [...users];
  for (const item of postmortem?.followUps ?? []) {
    if (item.owner && !owners.some((user) => user.id === item.owner!.id)) {
      owners.push(item.owner);
    }
  }

  function updateItem(key: string, change: Partial<DraftItem>) {
    setItems((current) =>
      current.map((item) => (item.key === key ? { ...item, ...change } : item)),
    );
  }

  async function save() {
    setPending(true);
    try {
      const response = await savePostmortemAction(incidentId, {
        version: postmortem?.version ?? null,
        ...text,
        followUps: items.map((item) => ({
          id: item.id,
          description: item.description,
          ownerId: item.ownerId === "" ? null : Number(item.ownerId),
          dueDate: item.dueDate === "" ? null : item.dueDate,
          done: item.done,
        })),
      });
      setResult(response);
      if (response.ok) router.refresh();
    } catch {
      setResult(REQUEST_FAILED);
    } finally {
      setPending(false);
    }
  }

  const header = (
    <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
      <h2 className="text-sm font-medium text-slate-900">Postmortem</h2>
      <a
        href={exportHref}
        download
        className="inline-flex items-center gap-1 text-sm font-medium text-indigo-600 hover:text-indigo-800"
      >
        <RiDownloadLine className="size-4" aria-hidden />
        Export Markdown
      </a>
    </div>
  );
  const lastSaved = postmortem && (
    <p className="mb-3 text-xs text-slate-500" data-testid="postmortem-version">
      Version {postmortem.version}, saved by {postmortem.updatedBy} at{" "}
      {formatDateTime(new Date(postmortem.updatedAt))}
    </p>
  );

  if (!canEdit) {
    return (
      <div data-testid="incident-postmortem">
        {header}
        {lastSaved}
        <PostmortemView postmortem={postmortem} />
      </div>
    );
  }

  return (
    <form
      data-testid="incident-postmortem"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      {header}
      {lastSaved}
      <div className="space-y-3">
        {SECTIONS.map((section) => (
          <div key={section.name}>
            <label
              htmlFor={`postmortem-${section.name}`}
              className="mb-1 block text-xs font-medium uppercase tracking-wide text-slate-500"
            >
              {section.label}
            </label>
            <textarea
              id={`postmortem-${section.name}`}
              value={text[section.name]}
              placeholder={section.hint}
              maxLength={TEXT_MAX_LENGTH}
              rows={3}
              className={INPUT_CLASS}
              onChange={(event) =>
                setText((current) => ({
                  ...current,
                  [section.name]: event.target.value,
                }))
              }
            />
          </div>
        ))}

        <fieldset>
          <legend className="mb-1 text-xs font-medium uppercase tracking-wide text-slate-500">
            Follow-up items
          </legend>
          <ul className="space-y-2">
            {items.map((item, index) => (
              <li
                key={item.key}
                className="grid grid-cols-1 gap-2 rounded-md border border-slate-200 p-2 sm:grid-cols-[auto_1fr_10rem_9rem_auto] sm:items-center"
                data-testid="postmortem-follow-up"
              >
                <input
                  type="checkbox"
                  aria-label={`Follow-up ${index + 1} done`}
                  checked={item.done}
                  onChange={(event) =>
                    updateItem(item.key, { done: event.target.checked })
                  }
                />
                <input
                  type="text"
                  aria-label={`Follow-up ${index + 1} description`}
                  value={item.description}
                  maxLength={DESCRIPTION_MAX_LENGTH}
                  required
                  placeholder="What to do"
                  className={INPUT_CLASS}
                  onChange={(event) =>
                    updateItem(item.key, { description: event.target.value })
                  }
                />
                <select
                  aria-label={`Follow-up ${index + 1} owner`}
                  value={item.ownerId}
                  className={INPUT_CLASS}
                  onChange={(event) =>
                    updateItem(item.key, { ownerId: event.target.value })
                  }
                >
                  <option value="">No owner</option>
                  {owners.map((user) => (
                    <option key={user.id} value={user.id}>
                      {user.name}
                    </option>
                  ))}
                </select>
                <input
                  type="date"
                  aria-label={`Follow-up ${index + 1} due date`}
                  value={item.dueDate}
                  className={INPUT_CLASS}
                  onChange={(event) =>
                    updateItem(item.key, { dueDate: event.target.value })
                  }
                />
                <Button
                  type="button"
                  variant="light"
                  color="rose"
                  icon={RiDeleteBinLine}
                  aria-label={`Remove follow-up ${index + 1}`}
                  onClick={() =>
                    setItems((current) =>
                      current.filter((other) => other.key !== item.key),
                    )
                  }
                />
              </li>
            ))}
          </ul>
          <Button
            type="button"
            size="xs"
            variant="light"
            icon={RiAddLine}
            className="mt-2"
            disabled={items.length >= FOLLOW_UPS_MAX}
            onClick={() => {
              nextKey += 1;
              setItems((current) => [
                ...current,
                {
                  key: `new-${nextKey}`,
                  id: null,
                  description: "",
                  ownerId: "",
                  dueDate: "",
                  done: false,
                },
              ]);
            }}
          >
            Add follow-up
          </Button>
        </fieldset>

        <div className="flex items-center justify-end gap-3">
          {result && (
            <p
              role="status"
              data-testid="postmortem-result"
              className={`text-xs ${result.ok ? "text-emerald-700" : "text-rose-700"}`}
            >
              {result.ok ? result.message : result.error.message}
            </p>
          )}
          <Button type="submit" loading={pending} disabled={pending}>
            Save postmortem
          </Button>
        </div>
      </div>
    </form>
  );
}
