import { Badge } from "@tremor/react";
import Link from "next/link";

import { LocalTime } from "@/components/local-time";
import type { DeliveryLogEntry } from "@/lib/notifications/store";

const STATUS_COLOR: Record<DeliveryLogEntry["status"], string> = {
  pending: "slate",
  retrying: "amber",
  sent: "emerald",
  failed: "rose",
};

function peerResponse(entry: DeliveryLogEntry): string {
  const last = entry.attempts.at(-1);
  if (!last) return "";
  if (last.httpStatus !== null) return `HTTP ${last.httpStatus}`;
  return last.smtpResponse ?? "";
}

/** Lists the newest deliveries with their status, attempts and last error. */
export function NotificationDeliveryLog({ entries }: { entries: DeliveryLogEntry[] }) {
  if (entries.length === 0) {
    return <p className="text-sm text-slate-500">No notifications sent yet.</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-left text-sm" data-testid="delivery-log">
        <thead className="border-b border-slate-200 text-xs uppercase text-slate-500">
          <tr>
            <th className="py-2 pr-4 font-medium">Queued</th>
            <th className="py-2 pr-4 font-medium">Channel</th>
            <th className="py-2 pr-4 font-medium">Event</th>
            <th className="py-2 pr-4 font-medium">Status</th>
            <th className="py-2 pr-4 font-medium">Attempts</th>
            <th className="py-2 pr-4 font-medium">Response</th>
            <th className="py-2 font-medium">Error</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {entries.map((entry) => (
            <tr key={entry.id} data-status={entry.status}>
              <td className="whitespace-nowrap py-2 pr-4 text-slate-600">
                <LocalTime value={entry.createdAt} />
              </td>
              <td className="py-2 pr-4 text-slate-900">
                {entry.channelName}
                <span className="ml-1 text-xs text-slate-400">{entry.channelType}</span>
              </td>
              <td className="py-2 pr-4 text-slate-700">
                {entry.incidentId === null ? (
                  "test"
                ) : (
                  <Link href={`/incidents/${entry.incidentId}`} prefetch={false} className="text-indigo-600 hover:underline">
                    {entry.event} #{entry.incidentId}
                  </Link>
                )}
                {entry.escalationLevel !== null && (
                  <span className="ml-1 text-xs text-slate-500">
                    level {entry.escalationLevel}
                    {entry.recipientName ? `, ${entry.recipientName}` : ""}
                  </span>
                )}
              </td>
              <td className="py-2 pr-4">
                <Badge color={STATUS_COLOR[entry.status]}>{entry.status}</Badge>
                {entry.status === "retrying" && entry.nextAttemptAt && (
                  <span className="ml-2 text-xs text-slate-500">
                    next <LocalTime value={entry.nextAttemptAt} />
                  </span>
                )}
              </td>
              <td className="py-2 pr-4 text-slate-700">{entry.attempts.length}</td>
              <td className="py-2 pr-4 text-slate-600">{peerResponse(entry)}</td>
              <td className="max-w-md py-2 text-rose-700">{entry.lastError ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
