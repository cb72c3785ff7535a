"use client";

import { Button } from "@tremor/react";
import { useState, type FormEvent } from "react";

import { FeedbackLine, useApiRequest } from "@/components/api-request";

// The forms and buttons of the notification settings page. They call the
// notification admin API with the session cookie, which checks the admin
// role on the server, and show the API's error message, field included,
// when a request is rejected.

/** Queues a test notification to one channel. */
export function SendTestButton({ channelId, channelName }: { channelId: number; channelName: string }) {
  const { pending, feedback, send: run } = useApiRequest();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="secondary"
        loading={pending}
        aria-label={`Send test notification to ${channelName}`}
        onClick={() =>
          run("POST", `/api/v1/notification-channels/${channelId}/test`, undefined, {
            ok: (body) => `Test notification ${body.deliveryId} queued.`,
            failed: "The test notification was not queued.",
          })
        }
      >
        Send test notification
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

/** Enables or disables a channel. */
export function ToggleChannelButton({ channelId, enabled }: { channelId: number; enabled: boolean }) {
  const { pending, feedback, send: run } = useApiRequest();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="secondary"
        loading={pending}
        onClick={() =>
          run("PATCH", `/api/v1/notification-channels/${channelId}`, { enabled: !enabled }, {
            ok: () => (enabled ? "Channel disabled." : "Channel enabled."),
            failed: "The channel was not changed.",
          })
        }
      >
        {enabled ? "Disable" : "Enable"}
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

/** Deletes a channel or a routing rule after a confirmation. */
export function DeleteButton({ url, what }: { url: string; what: string }) {
  const { pending, feedback, send: run } = useApiRequest();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="xs"
        variant="light"
        color="rose"
        loading={pending}
        onClick={() => {
          if (!window.confirm(`Delete ${what}?`)) return;
          void run("DELETE", url, undefined, {
            ok: () => `Deleted ${what}.`,
            failed: `${what} was not deleted.`,
          });
        }}
      >
        Delete
      </Button>
      <FeedbackLine feedback={feedback} />
    </div>
  );
}

const INPUT_CLASS =
  "block w-full rounded-md border-slate-300 text-sm shadow-sm focus:border-indigo-500 focus:ring-indigo-500";

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <label className="block text-sm">
      <span className="mb-1 block font-medium text-slate-700">{label}</span>
      {children}
    </label>
  );
}

type ChannelType = "webhook" | "slack" | "email";

/** Builds the API body of a new channel from the form's fields. */
function channelBody(type: ChannelType, form: FormData): Record<string, unknown> {
  const text = (name: string) => String(form.get(name) ?? "").trim();
  if (type !== "email") return { name: text("name"), type, config: { url: text("url") } };
  const port = text("port");
  return {
    name: text("name"),
    type,
    config: {
      host: text("host"),
      port: port === "" ? 587 : Number(port),
      secure: form.get("secure") === "on",
      username: text("username") || null,
      password: text("password") || null,
      from: text("from"),
      to: text("to")
        .split(",")
        .map((address) => address.trim())
        .filter((address) => address !== ""),
    },
  };
}

/** Adds a webhook, Slack or email channel. */
export function AddChannelForm() {
  const [type, setType] = useState<ChannelType>("webhook");
  const { pending, feedback, send: run } = useApiRequest();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const created = await run("POST", "/api/v1/notification-channels", channelBody(type, new FormData(form)), {
      ok: (body) => `Channel ${body.channel.name} added.`,
      failed: "The channel was not added.",
    });
    if (created) form.reset();
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Add notification channel">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Name">
          <input name="name" required maxLength={100} className={INPUT_CLASS} />
        </Field>
        <Field label="Type">
          <select
            name="type"
            value={type}
            onChange={(event) => setType(event.target.value as ChannelType)}
            className={INPUT_CLASS}
          >
            <option value="webhook">Webhook (JSON)</option>
            <option value="slack">Slack-compatible incoming webhook</option>
            <option value="email">Email (SMTP)</option>
          </select>
        </Field>
      </div>
      {type === "email" ? (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="SMTP host">
            <input name="host" required className={INPUT_CLASS} />
          </Field>
          <Field label="SMTP port">
            <input name="port" type="number" min={1} max={65535} placeholder="587" className={INPUT_CLASS} />
          </Field>
          <Field label="Username (optional)">
            <input name="username" autoComplete="off" className={INPUT_CLASS} />
          </Field>
          <Field label="Password (optional)">
            <input name="password" type="password" autoComplete="new-password" className={INPUT_CLASS} />
          </Field>
          <Field label="From address">
            <input name="from" type="email" required className={INPUT_CLASS} />
          </Field>
          <Field label="To addresses, separated by commas">
            <input name="to" required className={INPUT_CLASS} />
          </Field>
          <label className="flex items-center gap-2 text-sm text-slate-700">
            <input name="secure" type="checkbox" className="rounded border-slate-300" />
            Implicit TLS (port 465); otherwise STARTTLS when the server offers it
          </label>
        </div>
      ) : (
        <Field label={type === "slack" ? "Incoming webhook URL (kept secret)" : "Webhook URL"}>
          <input name="url" type="url" required className={INPUT_CLASS} />
        </Field>
      )}
      <div className="flex items-center gap-3">
        <Button type="submit" size="xs" loading={pending}>
          Add channel
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}

/** Adds a routing rule: a channel, an optional service and a minimum severity. */
export function AddRuleForm({
  channels,
  services,
}: {
  channels: Array<{ id: number; name: string }>;
  services: Array<{ slug: string; name: string }>;
}) {
  const { pending, feedback, send: run } = useApiRequest();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const service = String(form.get("service") ?? "");
    await run(
      "POST",
      "/api/v1/routing-rules",
      {
        channelId: Number(form.get("channelId")),
        service: service === "" ? null : service,
        minSeverity: String(form.get("minSeverity")),
      },
      { ok: () => "Routing rule added.", failed: "The routing rule was not added." },
    );
  }

  if (channels.length === 0) {
    return <p className="text-sm text-slate-500">Add a channel first.</p>;
  }
  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Add routing rule">
      <div className="grid gap-3 sm:grid-cols-3">
        <Field label="Channel">
          <select name="channelId" className={INPUT_CLASS}>
            {channels.map((channel) => (
              <option key={channel.id} value={channel.id}>
                {channel.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Service">
          <select name="service" className={INPUT_CLASS}>
            <option value="">Every service</option>
            {services.map((service) => (
              <option key={service.slug} value={service.slug}>
                {service.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Minimum severity">
          <select name="minSeverity" defaultValue="sev4" className={INPUT_CLASS}>
            <option value="sev1">sev1 only</option>
            <option value="sev2">sev2 or more severe</option>
            <option value="sev3">sev3 or more severe</option>
            <option value="sev4">Every severity</option>
          </select>
        </Field>
      </div>
      <div className="flex items-center gap-3">
        <Button type="submit" size="xs" loading={pending}>
          Add rule
        </Button>
        <FeedbackLine feedback={feedback} />
      </div>
    </form>
  );
}
