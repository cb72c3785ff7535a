import {
  RiAlarmWarningLine,
  RiArrowGoBackLine,
  RiBarChartLine,
  RiCheckDoubleLine,
  RiCheckLine,
  RiFileTextLine,
  RiKey2Line,
  RiRobot2Line,
  RiStickyNoteLine,
  RiUserLine,
  RiUserSharedLine,
  type RemixiconComponentType,
} from "@remixicon/react";

import { formatAgo } from "@/components/format";
import { LocalTime } from "@/components/local-time";
import { TextWithTimes } from "@/components/text-with-times";
import type { IncidentDetail } from "@/lib/incidents/queries";

const KIND_STYLE: Record<
  string,
  { icon: RemixiconComponentType; tone: string }
> = {
  opened: { icon: RiAlarmWarningLine, tone: "bg-rose-100 text-rose-600" },
  acknowledged: { icon: RiCheckLine, tone: "bg-amber-100 text-amber-600" },
  resolved: {
    icon: RiCheckDoubleLine,
    tone: "bg-emerald-100 text-emerald-600",
  },
  reopened: { icon: RiArrowGoBackLine, tone: "bg-rose-100 text-rose-600" },
  note: { icon: RiStickyNoteLine, tone: "bg-sky-100 text-sky-700" },
  severity_changed: {
    icon: RiBarChartLine,
    tone: "bg-orange-100 text-orange-600",
  },
  assigned: { icon: RiUserSharedLine, tone: "bg-violet-100 text-violet-600" },
  unassigned: {
    icon: RiUserSharedLine,
    tone: "bg-slate-100 text-slate-600",
  },
  postmortem_updated: {
    icon: RiFileTextLine,
    tone: "bg-slate-100 text-slate-600",
  },
};

/** Label after the actor's name, empty for people. */
const ACTOR_TYPE_LABEL: Record<string, string> = {
  user: "",
  token: "API token",
  worker: "worker",
  system: "system",
};

function styleFor(event: IncidentDetail["events"][number]) {
  const known = KIND_STYLE[event.kind];
  if (known) return known;
  if (event.actorType === "user")
    return { icon: RiUserLine, tone: "bg-slate-100 text-slate-600" };
  if (event.actorType === "worker")
    return { icon: RiRobot2Line, tone: "bg-indigo-100 text-indigo-600" };
  if (event.actorType === "token")
    return { icon: RiKey2Line, tone: "bg-slate-100 text-slate-600" };
  return { icon: RiStickyNoteLine, tone: "bg-slate-100 text-slate-600" };
}

/** Lists the incident's events, oldest first, with the actor and the time of each. */
export function IncidentTimeline({
  events,
  now,
}: {
  events: IncidentDetail["events"];
  now: Date;
}) {
  if (events.length === 0) {
    return (
      <p className="text-sm text-slate-500">
        No events recorded for this incident.
      </p>
    );
  }
  return (
    <ol className="relative space-y-5" data-testid="incident-timeline">
      {events.map((event, index) => {
        const { icon: Icon, tone } = styleFor(event);
        return (
          <li key={event.id} className="relative flex gap-3">
            {index < events.length - 1 && (
              <span
                className="absolute left-3.5 top-8 -bottom-5 w-px bg-slate-200"
                aria-hidden
              />
            )}
            <span
              className={`relative flex size-7 shrink-0 items-center justify-center rounded-full ${tone}`}
            >
              <Icon className="size-4" aria-hidden />
            </span>
            <div className="min-w-0 flex-1">
              <p className="text-sm text-slate-900">
                <span className="font-medium">{event.actorName}</span>
                <span className="ml-1.5 text-xs text-slate-400">
                  {ACTOR_TYPE_LABEL[event.actorType] ?? event.actorType}
                </span>
              </p>
              {event.kind === "note" ? (
                <p
                  className="whitespace-pre-wrap break-words rounded-md bg-sky-50 px-2 py-1 text-sm text-slate-800"
                  data-testid="timeline-note"
                >
                  {event.message}
                </p>
              ) : (
                <p className="text-sm text-slate-600">
                  <TextWithTimes text={event.message} />
                </p>
              )}
              <p className="mt-0.5 text-xs text-slate-400">
                <LocalTime value={event.createdAt} /> ·{" "}
                {formatAgo(event.createdAt, now)}
              </p>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
