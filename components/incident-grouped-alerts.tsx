import { Badge } from "@tremor/react";

import { LocalTime } from "@/components/local-time";
import type { GroupedAlert } from "@/lib/incidents/correlation";

/** Alerts shown before "and N more"; a storm can list thousands. */
const SHOWN_ALERTS = 50;

/** Formats the labels of an alert that not every alert of the group shares. */
function distinctLabels(
  alert: GroupedAlert,
  shared: ReadonlySet<string>,
): string {
  return Object.entries(alert.labels)
    .filter(([name, value]) => !shared.has(`${name}=${value}`))
    .map(([name, value]) => `${name}=${value}`)
    .join(", ");
}

/** Lists the alerts of an alert incident, firing ones first. */
export function IncidentGroupedAlerts({ alerts }: { alerts: GroupedAlert[] }) {
  const pairs = alerts.map(
    (alert) =>
      new Set(
        Object.entries(alert.labels).map(([name, value]) => `${name}=${value}`),
      ),
  );
  const shared = new Set(
    [...(pairs[0] ?? [])].filter((pair) => pairs.every((set) => set.has(pair))),
  );
  const firing = alerts.filter((alert) => !alert.resolved).length;
  const shown = alerts.slice(0, SHOWN_ALERTS);
  return (
    <div data-testid="incident-grouped-alerts">
      <p className="mb-2 text-xs text-slate-500">
        {firing} of {alerts.length} firing
        {shared.size > 0 && <> · all have {[...shared].join(", ")}</>}
      </p>
      <ul className="divide-y divide-slate-100">
        {shown.map((alert) => (
          <li
            key={alert.fingerprint}
            className="flex min-w-0 flex-wrap items-center justify-between gap-2 py-1.5"
          >
            <div className="min-w-0">
              <p className="break-all text-sm text-slate-900">
                {alert.alertname ?? alert.fingerprint}
                <span className="ml-2 text-xs text-slate-500">
                  {distinctLabels(alert, shared)}
                </span>
              </p>
              <p className="text-xs text-slate-400">
                since <LocalTime value={alert.lastStartsAt} />
                {alert.endsAt && (
                  <>
                    {" · "}ended <LocalTime value={alert.endsAt} />
                  </>
                )}
              </p>
            </div>
            <Badge size="xs" color={alert.resolved ? "emerald" : "rose"}>
              {alert.resolved ? "resolved" : "firing"}
            </Badge>
          </li>
        ))}
      </ul>
      {alerts.length > shown.length && (
        <p className="mt-2 text-xs text-slate-500">
          and {alerts.length - shown.length} more
        </p>
      )}
    </div>
  );
}
