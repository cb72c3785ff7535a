"use client";

import { Button, Callout } from "@tremor/react";

/** Shown in place of a dashboard page whose server render failed. */
export default function DashboardError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div className="mx-auto max-w-lg py-12">
      <Callout title="This page could not be loaded" color="rose">
        The server failed while rendering it
        {error.digest
          ? ` (error digest ${error.digest}, also in the server log)`
          : ""}
        . Try again; if it keeps failing, check that the database is reachable.
      </Callout>
      <Button className="mt-4" variant="secondary" onClick={reset}>
        Try again
      </Button>
    </div>
  );
}
