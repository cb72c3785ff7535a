"use client";

import { useEffect, useState } from "react";

import { formatDateTime, formatFullDateTime } from "@/components/format";

const utcFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});

/**
 * Renders a timestamp in the viewer's time zone. The server cannot know that
 * zone, so the server render and the first client render both show UTC and
 * an effect then switches to local time. The tooltip shows the full time,
 * after `description` when one is given.
 */
export function LocalTime({
  value,
  description,
}: {
  value: Date | string;
  description?: string;
}) {
  const iso = typeof value === "string" ? value : value.toISOString();
  const [local, setLocal] = useState<{ short: string; full: string } | null>(
    null,
  );

  useEffect(() => {
    const date = new Date(iso);
    setLocal({ short: formatDateTime(date), full: formatFullDateTime(date) });
  }, [iso]);

  return (
    <time
      dateTime={iso}
      title={
        description
          ? `${description}: ${local?.full ?? iso}`
          : (local?.full ?? iso)
      }
    >
      {local?.short ?? `${utcFormat.format(new Date(iso))} UTC`}
    </time>
  );
}
