import { RiBookOpenLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import { EmptyState } from "@/components/empty-state";
import { formatAgo } from "@/components/format";
import { PageHeader } from "@/components/page-header";
import { RunbookRules } from "@/components/runbook-rules";
import { hasRole, requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { listRunbooks } from "@/lib/runbooks/versions";

export const metadata: Metadata = { title: "Runbooks" };

const MAX_SEARCH_LENGTH = 200;

export default async function RunbooksPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await requireUser();
  const params = await searchParams;
  const search = (typeof params.q === "string" ? params.q : "").slice(0, MAX_SEARCH_LENGTH);
  const showArchived = params.archived === "true";
  const runbooks = await listRunbooks(getPool(), { search, includeArchived: showArchived });
  const isAdmin = hasRole(user.role, "admin");
  const now = new Date();

  return (
    <>
      <PageHeader
        title="Runbooks"
        description="What to do when an incident opens: Markdown guides with match rules, executable steps and a version history."
        actions={
          isAdmin ? (
            <Link
              href="/runbooks/new"
              prefetch={false}
              className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
            >
              New runbook
            </Link>
          ) : null
        }
      />
      <form method="get" action="/runbooks" className="mb-4 flex flex-wrap items-center gap-2" role="search">
        <label className="sr-only" htmlFor="runbook-search">
          Search runbooks
        </label>
        <input
          id="runbook-search"
          name="q"
          type="search"
          defaultValue={search}
          maxLength={MAX_SEARCH_LENGTH}
          placeholder="Search title, slug or text"
          className="w-72 max-w-full rounded-md border-slate-300 text-sm"
        />
        <label className="flex items-center gap-1 text-sm text-slate-600">
          <input type="checkbox" name="archived" value="true" defaultChecked={showArchived} className="rounded border-slate-300" />
          Show archived
        </label>
        <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-50">
          Search
        </button>
      </form>
      {runbooks.length === 0 ? (
        <EmptyState title="No runbooks found" icon={<RiBookOpenLine className="size-6" aria-hidden />}>
          {search
            ? `No runbook contains "${search}".`
            : "Runbooks come from data/runbooks/*.md at start, or an admin adds them here."}
        </EmptyState>
      ) : (
        <Card className="p-0">
          <ul className="divide-y divide-slate-100" data-testid="runbook-table">
            {runbooks.map((runbook) => (
              <li key={runbook.id} className="flex flex-wrap items-start justify-between gap-3 px-4 py-3">
                <div className="min-w-0 space-y-1">
                  <Link
                    href={`/runbooks/${runbook.slug}`}
                    prefetch={false}
                    className="text-sm font-medium text-indigo-700 hover:underline"
                  >
                    {runbook.content.title}
                  </Link>
                  <p className="text-xs text-slate-500">
                    {runbook.slug} · version {runbook.currentVersion ?? "none"} · changed{" "}
                    {formatAgo(runbook.updatedAt, now)}
                    {runbook.content.steps.length > 0 && ` · ${runbook.content.steps.length} steps`}
                    {runbook.content.automatic && " · automatic"}
                    {runbook.archivedAt && " · archived"}
                  </p>
                  <RunbookRules content={runbook.content} compact />
                </div>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}
