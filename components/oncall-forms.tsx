"use client";

import { Button } from "@tremor/react";
import { useRouter } from "next/navigation";
import { useState, type FormEvent, type ReactNode } from "react";

import {
  FeedbackLine,
  NETWORK_ERROR,
  type Feedback,
} from "@/components/api-request";
import { MemberPicker } from "@/components/oncall-member-picker";

export { FeedbackLine, type Feedback };

// The forms and buttons of the /oncall page. They call the on-call API with
// the session cookie, which checks the admin role on the server, and show
// the API's error message, field included, when a request is rejected.

export type Option = { id: number; name: string };

export const INPUT_CLASS =
  "block w-full rounded-md border-slate-300 text-sm shadow-sm focus:border-indigo-500 focus:ring-indigo-500";

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="block text-sm">
      <span className="mb-1 block font-medium text-slate-700">{label}</span>
      {children}
    </label>
  );
}

/**
 * Sends one JSON request, refreshes the page on success and keeps the
 * outcome. `send` returns the response body on success and null on failure.
 */
export function useApi() {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [feedback, setFeedback] = useState<Feedback>(null);

  async function send(
    method: string,
    url: string,
    body: unknown,
    okText: string,
  ): Promise<Record<string, unknown> | null> {
    setPending(true);
    try {
      const response = await fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
      const parsed = await response.json().catch(() => null);
      if (!response.ok) {
        const message = parsed?.error?.message;
        setFeedback({ tone: "error", text: typeof message === "string" ? message : `The request failed with HTTP ${response.status}.` });
        return null;
      }
      setFeedback({ tone: "ok", text: okText });
      router.refresh();
      return parsed ?? {};
    } catch {
      setFeedback({ tone: "error", text: NETWORK_ERROR });
      return null;
    } finally {
      setPending(false);
    }
  }

  return { pending, feedback, send };
}

/** Converts a datetime-local value (the browser's zone) to ISO 8601, or undefined when empty. */
function isoFromLocal(value: FormDataEntryValue | null): string | undefined {
  const text = String(value ?? "").trim();
  return text === "" ? undefined : new Date(text).toISOString();
}

/** Runs one request after a confirmation, such as a delete or an end. */
export function ConfirmButton({
  method,
  url,
  label,
  question,
  done,
}: {
  method: "DELETE" | "POST";
  url: string;
  label: string;
  question: string;
  done: string;
}) {
  const { pending, feedback, send } = useApi();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="light"
        color="rose"
        loading={pending}
        onClick={() => {
          if (!window.confirm(question)) return;
          void send(method, url, undefined, done);
        }}
      >
        {label}
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

/** A rotation layer as the schedules API takes it. */
export type LayerBody = {
  name: string;
  rotationUnit: string;
  rotationLength: number;
  handoffTime: string;
  startDate: string;
  endDate: string | null;
  members: number[];
};

/** Reads the fields of LayerFields into a layer body. */
function layerFromForm(data: FormData): LayerBody {
  const text = (name: string) => String(data.get(name) ?? "").trim();
  return {
    name: text("layerName") || "Rotation",
    rotationUnit: text("rotationUnit"),
    rotationLength: Number(text("rotationLength")),
    handoffTime: text("handoffTime"),
    startDate: text("startDate"),
    endDate: text("endDate") || null,
    members: data.getAll("members").map(Number),
  };
}

/** Renders the inputs of one rotation layer for the create and add-rotation forms. */
function LayerFields({ users }: { users: Option[] }) {
  const today = new Date().toISOString().slice(0, 10);
  return (
    <>
      <Field label="Rotation name">
        <input name="layerName" maxLength={100} placeholder="Rotation" className={INPUT_CLASS} />
      </Field>
      <Field label="Turn length">
        <input name="rotationLength" type="number" min={1} max={1000} defaultValue={1} required className={INPUT_CLASS} />
      </Field>
      <Field label="Turn unit">
        <select name="rotationUnit" defaultValue="weeks" className={INPUT_CLASS}>
          <option value="hours">hours</option>
          <option value="days">days</option>
          <option value="weeks">weeks</option>
        </select>
      </Field>
      <Field label="Handoff time (in the schedule's time zone)">
        <input name="handoffTime" type="time" defaultValue="09:00" required className={INPUT_CLASS} />
      </Field>
      <Field label="First turn on">
        <input name="startDate" type="date" defaultValue={today} required className={INPUT_CLASS} />
      </Field>
      <Field label="Last day (optional)">
        <input name="endDate" type="date" className={INPUT_CLASS} />
      </Field>
      <MemberPicker users={users} />
    </>
  );
}

/** Creates a schedule with one rotation layer. */
export function CreateScheduleForm({ users }: { users: Option[] }) {
  const { pending, feedback, send } = useApi();
  // Changing the key remounts the layer fields, which clears the member picker.
  const [formKey, setFormKey] = useState(0);
  const defaultZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const body = {
      name: String(data.get("name") ?? "").trim(),
      timeZone: String(data.get("timeZone") ?? "").trim(),
      layers: [layerFromForm(data)],
    };
    if (await send("POST", "/api/v1/schedules", body, `Schedule ${body.name} created.`)) {
      form.reset();
      setFormKey((key) => key + 1);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Create schedule">
      <div className="grid gap-3 sm:grid-cols-3">
        <Field label="Schedule name">
          <input name="name" required maxLength={100} className={INPUT_CLASS} />
        </Field>
        <Field label="Time zone (IANA)">
          <input name="timeZone" required defaultValue={defaultZone} className={INPUT_CLASS} />
        </Field>
        <LayerFields key={formKey} users={users} />
      </div>
      <div className="flex items-center gap-3">
        <Button type="submit" size="xs" loading={pending}>
          Create schedule
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}

/**
 * Adds a rotation layer on top of a schedule's layers. The API replaces the
 * whole list, so the form sends the current layers with the new one last.
 */
export function AddRotationForm({
  scheduleId,
  scheduleName,
  layers,
  users,
}: {
  scheduleId: number;
  scheduleName: string;
  layers: LayerBody[];
  users: Option[];
}) {
  const { pending, feedback, send } = useApi();
  const [formKey, setFormKey] = useState(0);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const layer = layerFromForm(new FormData(form));
    const body = { layers: [...layers, layer] };
    if (await send("PATCH", `/api/v1/schedules/${scheduleId}`, body, `Rotation ${layer.name} added.`)) {
      form.reset();
      setFormKey((key) => key + 1);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label={`Add rotation to ${scheduleName}`}>
      <div className="grid gap-3 sm:grid-cols-3">
        <LayerFields key={formKey} users={users} />
      </div>
      <div className="flex items-center gap-3">
        <Button type="submit" size="xs" variant="secondary" loading={pending}>
          Add rotation
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}

/** Removes one rotation layer of a schedule, which keeps at least one. */
export function RemoveRotationButton({
  scheduleId,
  layers,
  index,
}: {
  scheduleId: number;
  layers: LayerBody[];
  index: number;
}) {
  const { pending, feedback, send } = useApi();
  const name = layers[index]?.name ?? "";
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="light"
        color="rose"
        loading={pending}
        onClick={() => {
          if (!window.confirm(`Remove rotation ${name}?`)) return;
          const body = { layers: layers.filter((_, position) => position !== index) };
          void send("PATCH", `/api/v1/schedules/${scheduleId}`, body, `Rotation ${name} removed.`);
        }}
      >
        Remove rotation {name}
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

/** Adds an override: a user covers a schedule for a period. */
export function AddOverrideForm({ scheduleId, scheduleName, users }: { scheduleId: number; scheduleName: string; users: Option[] }) {
  const { pending, feedback, send } = useApi();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const body = {
      userId: Number(data.get("userId")),
      startsAt: isoFromLocal(data.get("startsAt")),
      endsAt: isoFromLocal(data.get("endsAt")),
      reason: String(data.get("reason") ?? "").trim() || null,
    };
    if (await send("POST", `/api/v1/schedules/${scheduleId}/overrides`, body, "Override added.")) form.reset();
  }

  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label={`Add override to ${scheduleName}`}>
      <Field label="Who covers">
        <select name="userId" required className={INPUT_CLASS}>
          {users.map((user) => (
            <option key={user.id} value={user.id}>
              {user.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="From (your browser's time zone)">
        <input name="startsAt" type="datetime-local" required className={INPUT_CLASS} />
      </Field>
      <Field label="Until (your browser's time zone)">
        <input name="endsAt" type="datetime-local" required className={INPUT_CLASS} />
      </Field>
      <Field label="Reason (optional)">
        <input name="reason" maxLength={200} className={INPUT_CLASS} />
      </Field>
      <Button type="submit" size="xs" variant="secondary" loading={pending}>
        Add override
      </Button>
      <FeedbackLine feedback={feedback} />
    </form>
  );
}

/** Creates a maintenance window of one service. */
export function CreateWindowForm({ services }: { services: Array<{ slug: string; name: string }> }) {
  const { pending, feedback, send } = useApi();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const body = {
      service: String(data.get("service") ?? ""),
      reason: String(data.get("reason") ?? "").trim(),
      startsAt: isoFromLocal(data.get("startsAt")),
      endsAt: isoFromLocal(data.get("endsAt")),
    };
    if (await send("POST", "/api/v1/maintenance-windows", body, "Maintenance window created.")) form.reset();
  }

  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label="Create maintenance window">
      <Field label="Service">
        <select name="service" required className={INPUT_CLASS}>
          {services.map((service) => (
            <option key={service.slug} value={service.slug}>
              {service.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Reason">
        <input name="reason" required maxLength={200} placeholder="DB upgrade" className={INPUT_CLASS} />
      </Field>
      <Field label="From (empty: now)">
        <input name="startsAt" type="datetime-local" className={INPUT_CLASS} />
      </Field>
      <Field label="Until">
        <input name="endsAt" type="datetime-local" required className={INPUT_CLASS} />
      </Field>
      <Button type="submit" size="xs" loading={pending}>
        Create window
      </Button>
      <FeedbackLine feedback={feedback} />
    </form>
  );
}

/**
 * Parses matchers such as "alertname=DiskFull, env!=staging, job=~api.*"
 * into API matchers; an entry without an operator is sent as a name alone,
 * so that the API reports it.
 */
function parseMatchers(text: string): Array<{ name: string; operator: string; value: string }> {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const match = /^([^=!~\s]+)\s*(=~|!~|!=|=)\s*(.*)$/.exec(part);
      if (!match) return { name: part, operator: "=", value: "" };
      return { name: match[1]!, operator: match[2]!, value: match[3]!.trim() };
    });
}

/** Creates a silence of a service and/or of alerts matching labels. */
export function CreateSilenceForm({ services }: { services: Array<{ slug: string; name: string }> }) {
  const { pending, feedback, send } = useApi();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const service = String(data.get("service") ?? "");
    const body = {
      service: service === "" ? null : service,
      matchers: parseMatchers(String(data.get("matchers") ?? "")),
      reason: String(data.get("reason") ?? "").trim(),
      endsAt: isoFromLocal(data.get("endsAt")),
    };
    if (await send("POST", "/api/v1/silences", body, "Silence created.")) form.reset();
  }

  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label="Create silence">
      <Field label="Service">
        <select name="service" defaultValue="" className={INPUT_CLASS}>
          <option value="">every service</option>
          {services.map((service) => (
            <option key={service.slug} value={service.slug}>
              {service.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Label matchers (optional)">
        <input name="matchers" placeholder="alertname=DiskFull, env!=staging" className={INPUT_CLASS} />
      </Field>
      <Field label="Reason">
        <input name="reason" required maxLength={200} className={INPUT_CLASS} />
      </Field>
      <Field label="Until">
        <input name="endsAt" type="datetime-local" required className={INPUT_CLASS} />
      </Field>
      <Button type="submit" size="xs" loading={pending}>
        Create silence
      </Button>
      <FeedbackLine feedback={feedback} />
    </form>
  );
}

/** Chooses the email channel that pages people when a policy names none. */
export function PagingChannelForm({ channels, current }: { channels: Option[]; current: number | null }) {
  const { pending, feedback, send } = useApi();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("pagingChannelId") ?? "");
    await send("PUT", "/api/v1/oncall/settings", { pagingChannelId: value === "" ? null : Number(value) }, "Paging channel saved.");
  }

  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label="Paging channel">
      <Field label="Email channel that pages people">
        <select name="pagingChannelId" defaultValue={current ?? ""} className={INPUT_CLASS}>
          <option value="">none</option>
          {channels.map((channel) => (
            <option key={channel.id} value={channel.id}>
              {channel.name}
            </option>
          ))}
        </select>
      </Field>
      <Button type="submit" size="xs" variant="secondary" loading={pending}>
        Save
      </Button>
      <FeedbackLine feedback={feedback} />
    </form>
  );
}
