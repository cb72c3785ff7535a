import { Card } from "@tremor/react";
import type { Metadata } from "next";

import { EmptyState } from "@/components/empty-state";
import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { AddAllowedHostForm, RemoveAllowedHostButton } from "@/components/runbook-step-actions";
import { ForbiddenError, requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { formatAllowedHost, listAllowedHosts } from "@/lib/runbooks/allowlist";

export const metadata: Metadata = { title: "Runbook allowlist" };

export default async function RunbookAllowlistPage() {
  try {
    await requireUser("admin");
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    return (
      <>
        <PageHeader title="Runbook allowlist" />
        <p className="text-sm text-slate-600" role="alert">
          Only admins can change the runbook allowlist; your role is {error.user.role}.
        </p>
      </>
    );
  }
  const hosts = await listAllowedHosts(getPool());

  return (
    <>
      <PageHeader
        title="Runbook allowlist"
        description="The hosts that executable runbook steps may send requests to. A step to any other host is refused and nothing is sent."
      />
      <Card>
        <p className="mb-3 text-sm text-slate-500">
          Every attempt of a step checks its URL against this list. An entry without a port allows every
          port of the host. A host name whose address is link-local (169.254.0.0/16, fe80::/10), such as a
          cloud metadata endpoint, stays refused unless that IP address itself is listed. Redirects are
          never followed.
        </p>
        {hosts.length === 0 ? (
          <div className="mb-4">
            <EmptyState title="No hosts yet">
              No runbook step can run until its host is listed. Add the
              first host below.
            </EmptyState>
          </div>
        ) : (
          <ul className="mb-6 divide-y divide-slate-100" data-testid="allowed-host-list">
            {hosts.map((entry) => {
              const label = formatAllowedHost(entry);
              return (
                <li key={entry.id} className="flex flex-wrap items-start justify-between gap-3 py-3">
                  <div className="min-w-0">
                    <p className="font-mono text-sm text-slate-900">
                      {label}
                      {entry.port === null && <span className="ml-2 font-sans text-xs text-slate-400">any port</span>}
                    </p>
                    {entry.note && <p className="text-xs text-slate-600">{entry.note}</p>}
                    <p className="text-xs text-slate-400">
                      added by {entry.actorName}, <LocalTime value={entry.createdAt} />
                    </p>
                  </div>
                  <RemoveAllowedHostButton id={entry.id} label={label} />
                </li>
              );
            })}
          </ul>
        )}
        <AddAllowedHostForm />
      </Card>
    </>
  );
}
