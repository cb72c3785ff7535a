import { Card } from "@tremor/react";
import Link from "next/link";

import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { serviceOnCall } from "@/lib/oncall/views";

/** Shows who level 1 of a service's escalation policy pages now. */
export async function OncallServiceCard({ slug }: { slug: string }) {
  const onCall = await serviceOnCall(getPool(), slug, now());
  return (
    <Card className="mb-4 p-4" data-testid="service-on-call-card">
      <div className="flex flex-wrap items-baseline justify-between gap-2 text-sm">
        <p>
          <span className="font-medium text-slate-900">On call now: </span>
          <span className="text-slate-700">
            {!onCall?.policy
              ? "no escalation policy"
              : onCall.onCall.length === 0
                ? "nobody"
                : onCall.onCall.map((person) => (person.via ? `${person.name} (${person.via})` : person.name)).join(", ")}
          </span>
        </p>
        <Link href="/oncall" prefetch={false} className="text-xs text-indigo-600 hover:underline">
          {onCall?.policy ? `Policy ${onCall.policy.name}` : "Set up on call"}
        </Link>
      </div>
    </Card>
  );
}
