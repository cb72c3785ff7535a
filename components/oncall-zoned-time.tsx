// A timestamp shown in a schedule's time zone with the zone named, so that
// "09:00 Europe/Madrid" matches the handoff time the schedule was given,
// whatever zone the browser is in.

const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone,
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** Formats an instant such as "Mon 7 Dec, 09:00" in `timeZone` (an IANA name). */
export function formatZonedTime(value: Date | string, timeZone: string): string {
  return formatIn(timeZone).format(new Date(value));
}

/** Renders an instant in `timeZone`, followed by the zone's name. */
export function ZonedTime({ value, timeZone }: { value: Date | string; timeZone: string }) {
  const iso = typeof value === "string" ? value : value.toISOString();
  return (
    <time dateTime={iso} title={iso}>
      {formatZonedTime(iso, timeZone)} {timeZone}
    </time>
  );
}
