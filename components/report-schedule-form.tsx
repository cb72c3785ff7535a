"use client";

import { Button } from "@tremor/react";
import { useEffect, useState, type FormEvent, type ReactNode } from "react";

import { FeedbackLine, useApiRequest } from "@/components/api-request";

// The create and edit form of a report schedule on the /reports page. It
// sends the body of POST or PATCH /api/v1/report-schedules with the session
// cookie. The server checks the manager or admin role, and its error names
// the field of a rejected value.

export type ScheduleOption = { slug: string; name: string };
export type ChannelOption = { id: number; name: string; enabled: boolean };

/** A schedule as the form edits it, in the API's field names. */
export type ScheduleDraft = {
  id?: number;
  name: string;
  cadence: "weekly" | "monthly";
  dayOfWeek: number;
  dayOfMonth: number | "last";
  timeOfDay: string;
  timeZone: string;
  services: string[];
  teams: string[];
  formats: ("pdf" | "csv")[];
  channels: number[];
  enabled: boolean;
};

export const NEW_SCHEDULE: ScheduleDraft = {
  name: "",
  cadence: "weekly",
  dayOfWeek: 1,
  dayOfMonth: 1,
  timeOfDay: "08:00",
  timeZone: "UTC",
  services: [],
  teams: [],
  formats: ["pdf", "csv"],
  channels: [],
  enabled: true,
};

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const INPUT_CLASS =
  "block w-full rounded-md border-slate-300 text-sm shadow-sm focus:border-indigo-500 focus:ring-indigo-500";

function Field({ label, htmlFor, children }: { label: string; htmlFor: string; children: ReactNode }) {
  return (
    <div className="text-sm">
      <label htmlFor={htmlFor} className="mb-1 block font-medium text-slate-700">
        {label}
      </label>
      {children}
    </div>
  );
}

/** Renders one checkbox per option, wrapping on narrow screens. */
function CheckboxGroup<Value extends string | number>({
  legend,
  options,
  selected,
  onChange,
  empty,
}: {
  legend: string;
  options: { value: Value; label: string }[];
  selected: Value[];
  onChange: (values: Value[]) => void;
  empty: string;
}) {
  return (
    <fieldset className="min-w-0 text-sm">
      <legend className="mb-1 font-medium text-slate-700">{legend}</legend>
      {options.length === 0 ? (
        <p className="text-xs text-slate-500">{empty}</p>
      ) : (
        <div className="flex flex-wrap gap-x-4 gap-y-1">
          {options.map((option) => (
            <label key={String(option.value)} className="flex items-center gap-1.5 break-all">
              <input
                type="checkbox"
                className="rounded border-slate-300"
                checked={selected.includes(option.value)}
                onChange={(event) =>
                  onChange(
                    event.target.checked
                      ? [...selected, option.value]
                      : selected.filter((value) => value !== option.value),
                  )
                }
              />
              {option.label}
            </label>
          ))}
        </div>
      )}
    </fieldset>
  );
}

/** Builds the request body, with a null weekday for a monthly schedule and a null day of the month for a weekly one. */
function requestBody(draft: ScheduleDraft) {
  return {
    name: draft.name,
    cadence: draft.cadence,
    dayOfWeek: draft.cadence === "weekly" ? draft.dayOfWeek : null,
    dayOfMonth: draft.cadence === "monthly" ? draft.dayOfMonth : null,
    timeOfDay: draft.timeOfDay,
    timeZone: draft.timeZone,
    services: draft.services,
    teams: draft.teams,
    formats: draft.formats,
    channels: draft.channels,
    enabled: draft.enabled,
  };
}

export function ReportScheduleForm({
  initial,
  services,
  teams,
  channels,
  onDone,
}: {
  initial: ScheduleDraft;
  services: ScheduleOption[];
  teams: ScheduleOption[];
  channels: ChannelOption[];
  onDone: () => void;
}) {
  const [draft, setDraft] = useState<ScheduleDraft>(initial);
  const [zones, setZones] = useState<string[]>([]);
  const { pending, feedback, send } = useApiRequest();
  const editing = initial.id !== undefined;
  const prefix = editing ? `schedule-${initial.id}` : "schedule-new";

  // The browser's zone is a better default than UTC, but the server render
  // cannot know it, so a new schedule picks it up after hydration.
  useEffect(() => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!editing && zone) setDraft((current) => ({ ...current, timeZone: zone }));
    setZones(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []);
  }, [editing]);

  function update<Key extends keyof ScheduleDraft>(key: Key, value: ScheduleDraft[Key]) {
    setDraft((current) => ({ ...current, [key]: value }));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const ok = await send(
      editing ? "PATCH" : "POST",
      editing ? `/api/v1/report-schedules/${initial.id}` : "/api/v1/report-schedules",
      requestBody(draft),
      {
        ok: () => (editing ? `Saved "${draft.name}".` : `Scheduled "${draft.name}".`),
        failed: "Saving the schedule failed.",
      },
    );
    if (!ok) return;
    // A new schedule's form stays open, empty, for the next one.
    if (!editing) setDraft({ ...initial, timeZone: draft.timeZone });
    onDone();
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" aria-label={editing ? "Edit schedule" : "New schedule"}>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Field label="Name" htmlFor={`${prefix}-name`}>
          <input
            id={`${prefix}-name`}
            className={INPUT_CLASS}
            value={draft.name}
            maxLength={100}
            required
            onChange={(event) => update("name", event.target.value)}
          />
        </Field>
        <Field label="Cadence" htmlFor={`${prefix}-cadence`}>
          <select
            id={`${prefix}-cadence`}
            className={INPUT_CLASS}
            value={draft.cadence}
            onChange={(event) => update("cadence", event.target.value as ScheduleDraft["cadence"])}
          >
            <option value="weekly">Weekly</option>
            <option value="monthly">Monthly</option>
          </select>
        </Field>
        {draft.cadence === "weekly" ? (
          <Field label="Day" htmlFor={`${prefix}-day`}>
            <select
              id={`${prefix}-day`}
              className={INPUT_CLASS}
              value={draft.dayOfWeek}
              onChange={(event) => update("dayOfWeek", Number(event.target.value))}
            >
              {WEEKDAYS.map((day, index) => (
                <option key={day} value={index + 1}>
                  {day}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <Field label="Day of the month" htmlFor={`${prefix}-day`}>
            <select
              id={`${prefix}-day`}
              className={INPUT_CLASS}
              value={String(draft.dayOfMonth)}
              onChange={(event) =>
                update("dayOfMonth", event.target.value === "last" ? "last" : Number(event.target.value))
              }
            >
              {Array.from({ length: 28 }, (_, index) => (
                <option key={index + 1} value={index + 1}>
                  {index + 1}
                </option>
              ))}
              <option value="last">Last day</option>
            </select>
          </Field>
        )}
        <div className="grid grid-cols-2 gap-2">
          <Field label="Time" htmlFor={`${prefix}-time`}>
            <input
              id={`${prefix}-time`}
              type="time"
              className={INPUT_CLASS}
              value={draft.timeOfDay}
              required
              onChange={(event) => update("timeOfDay", event.target.value)}
            />
          </Field>
          <Field label="Time zone" htmlFor={`${prefix}-zone`}>
            <input
              id={`${prefix}-zone`}
              className={INPUT_CLASS}
              value={draft.timeZone}
              list={`${prefix}-zones`}
              required
              onChange={(event) => update("timeZone", event.target.value)}
            />
            <datalist id={`${prefix}-zones`}>
              {zones.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          </Field>
        </div>
      </div>

      <CheckboxGroup
        legend="Services (none and no team: all services)"
        options={services.map((service) => ({ value: service.slug, label: service.name }))}
        selected={draft.services}
        onChange={(values) => update("services", values)}
        empty="No services yet."
      />
      <CheckboxGroup
        legend="Teams"
        options={teams.map((team) => ({ value: team.slug, label: team.name }))}
        selected={draft.teams}
        onChange={(values) => update("teams", values)}
        empty="No teams yet."
      />
      <div className="flex flex-wrap gap-x-8 gap-y-4">
        <CheckboxGroup
          legend="Formats"
          options={[
            { value: "pdf" as const, label: "PDF" },
            { value: "csv" as const, label: "CSV (KPIs and incidents)" },
          ]}
          selected={draft.formats}
          onChange={(values) => update("formats", values)}
          empty=""
        />
        <CheckboxGroup
          legend="Email channels"
          options={channels.map((channel) => ({
            value: channel.id,
            label: channel.enabled ? channel.name : `${channel.name} (disabled)`,
          }))}
          selected={draft.channels}
          onChange={(values) => update("channels", values)}
          empty="No email channel exists; an admin adds one under Settings, Notifications."
        />
      </div>

      <div className="flex flex-wrap items-center gap-3">
        <label className="flex items-center gap-1.5 text-sm">
          <input
            type="checkbox"
            className="rounded border-slate-300"
            checked={draft.enabled}
            onChange={(event) => update("enabled", event.target.checked)}
          />
          Enabled
        </label>
        <Button type="submit" size="xs" loading={pending}>
          {editing ? "Save schedule" : "Create schedule"}
        </Button>
        {editing && (
          <Button type="button" size="xs" variant="secondary" onClick={onDone}>
            Cancel
          </Button>
        )}
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}
