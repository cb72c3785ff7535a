import { formatAgo } from "@/components/format";
import { LocalTime } from "@/components/local-time";

/** Renders a timestamp in local time over how long ago it was. */
export function TimeWithAgo({ value, now }: { value: Date; now: Date }) {
  return (
    <>
      <div className="text-slate-700">
        <LocalTime value={value} />
      </div>
      <div className="text-xs text-slate-400">{formatAgo(value, now)}</div>
    </>
  );
}
