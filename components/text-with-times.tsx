import { Fragment } from "react";

import { LocalTime } from "@/components/local-time";
import { splitTimestamps } from "@/components/timestamp-text";

/** Stored text with each ISO timestamp shown as a LocalTime. */
export function TextWithTimes({ text }: { text: string }) {
  return (
    <>
      {splitTimestamps(text).map((part, index) =>
        part.kind === "time" ? (
          <LocalTime key={index} value={part.iso} />
        ) : (
          <Fragment key={index}>{part.text}</Fragment>
        ),
      )}
    </>
  );
}
