"use client";

import { Button } from "@tremor/react";
import { useId, useState, type FormEvent, type ReactNode } from "react";

import { FeedbackLine, Field, INPUT_CLASS, useApi, type Option } from "@/components/oncall-forms";

// The form that creates an escalation policy. Its labels are also the
// inputs' accessible names, and it warns before saving a policy whose
// people could not be paged because no email channel would carry the page.

type LevelDraft = { delayMinutes: number; targets: string[] };

/** Parses a target option value such as "schedule:3" into an API target. */
function targetFromValue(value: string): Record<string, unknown> {
  const [type, id] = value.split(":");
  let key = "channelId";
  if (type === "schedule") key = "scheduleId";
  else if (type === "user") key = "userId";
  return { type, [key]: Number(id) };
}

function targetsPeople(levels: LevelDraft[]): boolean {
  return levels.some((level) => level.targets.some((value) => value.startsWith("user:") || value.startsWith("schedule:")));
}

/**
 * Returns the warning for people targets without an email channel to page
 * them through, or null. A channel target sends to the channel itself, so
 * it needs no email channel.
 */
function emailWarning(options: {
  levels: LevelDraft[];
  pageChannelId: string;
  pagingChannelName: string | null;
  hasEmailChannel: boolean;
}): string | null {
  if (!targetsPeople(options.levels) || options.pageChannelId !== "" || options.pagingChannelName !== null) return null;
  if (!options.hasEmailChannel) {
    return "This policy targets people, but no email channel exists, so their pages cannot be sent. Add an email channel under Notifications, then choose it here or as the paging channel.";
  }
  return "This policy targets people, but it names no email channel and no paging channel is set, so their pages cannot be sent. Choose an email channel for pages here, or set the paging channel.";
}

/** Returns the label of a level's delay input, or null for a last level that nothing follows. */
function delayLabel(index: number, levelCount: number, repeatCount: number): string | null {
  if (index < levelCount - 1) return `Level ${index + 1}: minutes before level ${index + 2}`;
  if (repeatCount > 0) return `Level ${index + 1}: minutes before repeating from level 1`;
  return null;
}

/**
 * A label tied to its control by id. A label that wraps a select would add
 * the select's options to the control's accessible name.
 */
function LabelFor({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div className="block text-sm">
      <label htmlFor={id} className="mb-1 block font-medium text-slate-700">
        {label}
      </label>
      {children}
    </div>
  );
}

/** Creates the escalation policy of a service with one or more levels. */
export function CreatePolicyForm({
  services,
  schedules,
  users,
  channels,
  pagingChannelName,
}: {
  services: Array<{ slug: string; name: string }>;
  schedules: Option[];
  users: Option[];
  channels: Array<Option & { type: string }>;
  /** Name of the paging channel setting, or null when none is set. */
  pagingChannelName: string | null;
}) {
  const { pending, feedback, send } = useApi();
  const idPrefix = useId();
  const [levels, setLevels] = useState<LevelDraft[]>([{ delayMinutes: 5, targets: [] }]);
  const [repeatCount, setRepeatCount] = useState(0);
  const [pageChannelId, setPageChannelId] = useState("");
  const [savedWarnings, setSavedWarnings] = useState<string[]>([]);
  const emailChannels = channels.filter((channel) => channel.type === "email");
  const warning = emailWarning({ levels, pageChannelId, pagingChannelName, hasEmailChannel: emailChannels.length > 0 });

  function updateLevel(index: number, change: Partial<LevelDraft>) {
    setLevels((current) => current.map((level, position) => (position === index ? { ...level, ...change } : level)));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const body = {
      name: String(data.get("name") ?? "").trim(),
      service: String(data.get("service") ?? ""),
      repeatCount,
      pageChannelId: pageChannelId === "" ? null : Number(pageChannelId),
      levels: levels.map((level) => ({ delayMinutes: level.delayMinutes, targets: level.targets.map(targetFromValue) })),
    };
    setSavedWarnings([]);
    const response = await send("POST", "/api/v1/escalation-policies", body, `Policy ${body.name} created.`);
    if (response) {
      const warnings = Array.isArray(response.warnings) ? response.warnings.map(String) : [];
      setSavedWarnings(warnings);
      form.reset();
      setLevels([{ delayMinutes: 5, targets: [] }]);
      setRepeatCount(0);
      setPageChannelId("");
    }
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Create escalation policy">
      <div className="grid gap-3 sm:grid-cols-4">
        <Field label="Policy name">
          <input name="name" required maxLength={100} className={INPUT_CLASS} />
        </Field>
        <Field label="Service">
          <select name="service" required className={INPUT_CLASS}>
            {services.map((service) => (
              <option key={service.slug} value={service.slug}>
                {service.name}
              </option>
            ))}
          </select>
        </Field>
        <LabelFor id={`${idPrefix}-repeat`} label="Repeat all levels (times)">
          <input
            id={`${idPrefix}-repeat`}
            type="number"
            min={0}
            max={10}
            value={repeatCount}
            onChange={(event) => setRepeatCount(Number(event.target.value))}
            className={INPUT_CLASS}
          />
        </LabelFor>
        <LabelFor id={`${idPrefix}-channel`} label="Email channel for pages">
          <select id={`${idPrefix}-channel`} value={pageChannelId} onChange={(event) => setPageChannelId(event.target.value)} className={INPUT_CLASS}>
            <option value="">{pagingChannelName ? `the paging channel (${pagingChannelName})` : "none (no paging channel is set)"}</option>
            {emailChannels.map((channel) => (
              <option key={channel.id} value={channel.id}>
                {channel.name}
              </option>
            ))}
          </select>
        </LabelFor>
      </div>
      {levels.map((level, index) => {
        const label = delayLabel(index, levels.length, repeatCount);
        return (
          <fieldset key={index} className="grid gap-3 rounded-md border border-slate-200 p-3 sm:grid-cols-3">
            <legend className="px-1 text-xs font-medium text-slate-600">
              Level {index + 1}
              {index === 0 ? ", notified when the incident opens" : ""}
            </legend>
            {label === null ? (
              <p className="self-end text-xs text-slate-500">
                Last level: nothing follows it unless the policy repeats.
              </p>
            ) : (
              <LabelFor id={`${idPrefix}-delay-${index}`} label={label}>
                <input
                  id={`${idPrefix}-delay-${index}`}
                  type="number"
                  min={1}
                  max={1440}
                  value={level.delayMinutes}
                  onChange={(event) => updateLevel(index, { delayMinutes: Number(event.target.value) })}
                  className={INPUT_CLASS}
                />
              </LabelFor>
            )}
            <LabelFor id={`${idPrefix}-targets-${index}`} label={`Level ${index + 1} targets (hold Ctrl or Cmd to pick several)`}>
              <select
                id={`${idPrefix}-targets-${index}`}
                multiple
                required
                value={level.targets}
                onChange={(event) =>
                  updateLevel(index, { targets: Array.from(event.target.selectedOptions, (option) => option.value) })
                }
                className={INPUT_CLASS}
              >
                <optgroup label="On call in schedule">
                  {schedules.map((schedule) => (
                    <option key={`schedule:${schedule.id}`} value={`schedule:${schedule.id}`}>
                      {schedule.name}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="User">
                  {users.map((user) => (
                    <option key={`user:${user.id}`} value={`user:${user.id}`}>
                      {user.name}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Notification channel">
                  {channels.map((channel) => (
                    <option key={`channel:${channel.id}`} value={`channel:${channel.id}`}>
                      {channel.name} ({channel.type})
                    </option>
                  ))}
                </optgroup>
              </select>
            </LabelFor>
            {levels.length > 1 && (
              <div className="flex items-end">
                <Button
                  type="button"
                  size="xs"
                  variant="light"
                  onClick={() => setLevels((current) => current.filter((_, position) => position !== index))}
                >
                  Remove level {index + 1}
                </Button>
              </div>
            )}
          </fieldset>
        );
      })}
      {warning && (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-800" data-testid="policy-email-warning">
          {warning}
        </p>
      )}
      <div className="flex flex-wrap items-center gap-3">
        <Button
          type="button"
          size="xs"
          variant="secondary"
          onClick={() => setLevels((current) => [...current, { delayMinutes: 10, targets: [] }])}
        >
          Add level
        </Button>
        <Button type="submit" size="xs" loading={pending}>
          Create policy
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
      {savedWarnings.length > 0 && (
        <ul className="list-disc pl-5 text-xs text-amber-800" data-testid="policy-saved-warnings">
          {savedWarnings.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      )}
    </form>
  );
}
