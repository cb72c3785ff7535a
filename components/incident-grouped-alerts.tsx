import { Badge } from "@tremor/react";

import { LocalTime } from "@/components/local-time";
import type { GroupedAlert } from "@/lib/incidents/correlation";

/** Alerts listed before the "Show N more" toggle. */
const FIRST_ALERTS = 10;
/** Alerts listed at most, because a storm can list thousands. */
const MAX_ALERTS = 200;

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

function AlertRows({
  alerts,
  shared,
}: {
  alerts: GroupedAlert[];
  shared: ReadonlySet<string>;
}) {
  return (
    <ul className="divide-y divide-slate-100">
      {alerts.map((alert) => (
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
  );
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
  const first = alerts.slice(0, FIRST_ALERTS);
  const rest = alerts.slice(FIRST_ALERTS, MAX_ALERTS);
  return (
    <div data-testid="incident-grouped-alerts">
      <p className="mb-2 text-xs text-slate-500">
        {firing} of {alerts.length} firing
        {shared.size > 0 && <> · all have {[...shared].join(", ")}</>}
      </p>
      <AlertRows alerts={first} shared={shared} />
      {rest.length > 0 && (
        <details className="group">
          <summary className="mt-2 cursor-pointer text-xs font-medium text-indigo-600 hover:text-indigo-800">
            Show {rest.length} more
          </summary>
          <AlertRows alerts={rest} shared={shared} />
        </details>
      )}
      {alerts.length > MAX_ALERTS && (
        <p className="mt-2 text-xs text-slate-500">
          and {alerts.length - MAX_ALERTS} more, listed in
          GET /api/v1/incidents/{"{id}"}
        </p>
      )}
    </div>
  );
}
