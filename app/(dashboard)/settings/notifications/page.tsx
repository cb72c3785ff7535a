import { Card } from "@tremor/react";
import type { Metadata } from "next";

import { AutoRefresh } from "@/components/auto-refresh";
import {
  AddChannelForm,
  AddRuleForm,
  DeleteButton,
  SendTestButton,
  ToggleChannelButton,
} from "@/components/notification-actions";
import { EmptyState } from "@/components/empty-state";
import { NotificationDeliveryLog } from "@/components/notification-delivery-log";
import { PageHeader } from "@/components/page-header";
import { ForbiddenError, requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { publicChannel } from "@/lib/notifications/channels";
import { listChannels, listDeliveries, listRules } from "@/lib/notifications/store";

export const metadata: Metadata = { title: "Notifications" };

/** Deliveries shown in the log, newest first. */
const DELIVERY_LOG_LIMIT = 50;

/** Refresh interval while a delivery is pending or retrying. */
const OPEN_DELIVERY_REFRESH_MS = 3000;

function channelTarget(config: Record<string, unknown>, type: string): string {
  if (type === "email") {
    const to = Array.isArray(config.to) ? config.to.join(", ") : "";
    return `${to} via ${String(config.host)}:${String(config.port)}`;
  }
  return String(config.url ?? "");
}

export default async function NotificationSettingsPage() {
  try {
    await requireUser("admin");
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    return (
      <>
        <PageHeader title="Notifications" />
        <p className="text-sm text-slate-600" role="alert">
          Only admins can configure notifications; your role is {error.user.role}.
        </p>
      </>
    );
  }
  const db = getPool();
  const channels = (await listChannels(db)).map(publicChannel);
  const rules = await listRules(db);
  const deliveries = await listDeliveries(db, { limit: DELIVERY_LOG_LIMIT });
  const { rows: services } = await db.query<{ slug: string; name: string }>(
    "SELECT slug, name FROM service ORDER BY name",
  );
  const open = deliveries.some((entry) => entry.status === "pending" || entry.status === "retrying");

  return (
    <>
      <PageHeader
        title="Notifications"
        description="Where incident notifications go when an incident opens or resolves, which incidents each channel gets, and every delivery attempt."
        actions={open ? <AutoRefresh intervalMs={OPEN_DELIVERY_REFRESH_MS} /> : null}
      />
      <div className="space-y-6">
        <Card>
          <h2 className="mb-3 text-base font-semibold text-slate-900">Channels</h2>
          {channels.length === 0 ? (
            <div className="mb-4">
              <EmptyState title="No channels yet">
                Until a channel exists, incidents notify nobody. Add a
                webhook, Slack or email channel below, then route incidents
                to it with a rule.
              </EmptyState>
            </div>
          ) : (
            <ul className="mb-6 divide-y divide-slate-100" data-testid="channel-list">
              {channels.map((channel) => {
                const { id, name, enabled, config } = channel;
                return (
                  <li key={id} className="flex flex-wrap items-start justify-between gap-3 py-3">
                    <div className="min-w-0">
                      <p className="text-sm font-medium text-slate-900">
                        {name}
                        <span className="ml-2 text-xs text-slate-400">{channel.type}</span>
                        {!enabled && <span className="ml-2 text-xs text-rose-600">disabled</span>}
                      </p>
                      <p className="truncate text-xs text-slate-500">{channelTarget(config, channel.type)}</p>
                    </div>
                    <div className="flex items-start gap-2">
                      {enabled && <SendTestButton channelId={id} channelName={name} />}
                      <ToggleChannelButton channelId={id} enabled={enabled} />
                      <DeleteButton url={`/api/v1/notification-channels/${id}`} what={`channel ${name}`} />
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
          <AddChannelForm />
        </Card>

        <Card>
          <h2 className="mb-1 text-base font-semibold text-slate-900">Routing rules</h2>
          <p className="mb-3 text-sm text-slate-500">
            A channel gets an incident when one of its rules names the incident&apos;s service, or every
            service, and the incident is at least as severe as the rule&apos;s minimum. A channel without
            rules gets nothing but test notifications.
          </p>
          {rules.length > 0 && (
            <ul className="mb-6 divide-y divide-slate-100" data-testid="rule-list">
              {rules.map((rule) => (
                <li key={rule.id} className="flex items-center justify-between gap-3 py-2 text-sm">
                  <span>
                    <span className="font-medium text-slate-900">{rule.channelName}</span>
                    <span className="text-slate-600">
                      {" "}
                      gets {rule.serviceSlug ?? "every service"}, {rule.minSeverity} or more severe
                    </span>
                  </span>
                  <DeleteButton url={`/api/v1/routing-rules/${rule.id}`} what={`the rule for ${rule.channelName}`} />
                </li>
              ))}
            </ul>
          )}
          <AddRuleForm
            channels={channels.map((channel) => ({ id: channel.id, name: channel.name }))}
            services={services}
          />
        </Card>

        <Card>
          <h2 className="mb-3 text-base font-semibold text-slate-900">Delivery log</h2>
          <NotificationDeliveryLog entries={deliveries} />
        </Card>
      </div>
    </>
  );
}
