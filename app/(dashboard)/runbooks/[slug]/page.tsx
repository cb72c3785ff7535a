import { Badge, Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";

import { LocalTime } from "@/components/local-time";
import { PageHeader } from "@/components/page-header";
import { ArchiveButton, RollbackButton } from "@/components/runbook-admin-actions";
import { RunbookDiff } from "@/components/runbook-diff";
import { RunbookRules } from "@/components/runbook-rules";
import { hasRole, requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { hideStepHeaderValues, SLUG_PATTERN, type RunbookContent } from "@/lib/runbooks/content";
import { summarizeRunbookFeedback } from "@/lib/runbooks/feedback";
import { formatRunbookSource } from "@/lib/runbooks/source";
import { findRunbookBySlug, listVersions } from "@/lib/runbooks/versions";

export const metadata: Metadata = { title: "Runbook" };

function parseVersion(value: string | string[] | undefined): number | null {
  if (typeof value !== "string" || !/^[1-9][0-9]{0,8}$/.test(value)) return null;
  return Number(value);
}

function Steps({ content }: { content: RunbookContent }) {
  if (content.steps.length === 0) {
    return <p className="text-sm text-slate-500">No executable steps.</p>;
  }
  return (
    <ol className="list-decimal space-y-2 pl-5 text-sm" data-testid="runbook-steps">
      {content.steps.map((step) => (
        <li key={step.id}>
          <span className="font-medium text-slate-900">{step.title}</span>{" "}
          <span className="text-xs text-slate-500">({step.id})</span>
          <p className="break-all font-mono text-xs text-slate-600">
            {step.method} {step.url}
          </p>
          <p className="text-xs text-slate-500">
            timeout {step.timeoutSeconds} s, {step.retries} retries
          </p>
        </li>
      ))}
    </ol>
  );
}

export default async function RunbookPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await requireUser();
  const { slug } = await params;
  if (!SLUG_PATTERN.test(slug)) notFound();
  const query = await searchParams;
  const pool = getPool();
  const runbook = await findRunbookBySlug(pool, slug);
  if (!runbook) notFound();
  const versions = await listVersions(pool, runbook.id);
  const feedback = await summarizeRunbookFeedback(pool, runbook.id);
  const isAdmin = hasRole(user.role, "admin");
  // Step header values often carry credentials, so only admins see them.
  const visible = (content: RunbookContent) => (isAdmin ? content : hideStepHeaderValues(content));

  // ?version=N shows an older version and its diff with the one before it.
  const requested = parseVersion(query.version);
  const shown = requested === null ? null : (versions.find((entry) => entry.version === requested) ?? null);
  if (requested !== null && !shown) notFound();
  const content = visible(shown?.content ?? runbook.content);
  const previous = shown ? versions.find((entry) => entry.version === shown.version - 1) : undefined;
  const isCurrent = !shown || shown.version === runbook.currentVersion;

  return (
    <>
      <PageHeader
        title={content.title}
        description={`${slug} · version ${shown?.version ?? runbook.currentVersion ?? "none"}${isCurrent ? " (current)" : ""}`}
        actions={
          isAdmin ? (
            <>
              {runbook.archivedAt === null && (
                <Link
                  href={`/runbooks/${slug}/edit`}
                  prefetch={false}
                  className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                >
                  Edit
                </Link>
              )}
              <ArchiveButton slug={slug} archived={runbook.archivedAt !== null} />
            </>
          ) : null
        }
      >
        <Link href="/runbooks" prefetch={false} className="text-xs text-indigo-600 hover:underline">
          ← Runbooks
        </Link>
      </PageHeader>

      {runbook.archivedAt && (
        <p className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800" role="status">
          Archived on <LocalTime value={runbook.archivedAt} />: it is no longer suggested for incidents.
        </p>
      )}
      {!isCurrent && shown && (
        <div className="mb-4 flex flex-wrap items-center justify-between gap-3 rounded-md bg-slate-100 px-3 py-2 text-sm text-slate-700" role="status">
          <span>
            You are viewing version {shown.version} of {runbook.currentVersion}.{" "}
            <Link href={`/runbooks/${slug}`} prefetch={false} className="text-indigo-600 hover:underline">
              Show the current version
            </Link>
          </span>
          {isAdmin && runbook.archivedAt === null && <RollbackButton slug={slug} version={shown.version} />}
        </div>
      )}

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <Card>
            <div className="markdown" data-testid="runbook-body">
              <Markdown remarkPlugins={[remarkGfm]}>{content.body}</Markdown>
            </div>
          </Card>
          {shown && (
            <Card>
              <h2 className="mb-3 text-base font-semibold text-slate-900">
                {previous ? `Changes from version ${previous.version} to ${shown.version}` : `Version ${shown.version} is the first`}
              </h2>
              <RunbookDiff
                before={previous ? formatRunbookSource(slug, visible(previous.content)) : ""}
                after={formatRunbookSource(slug, visible(shown.content))}
              />
            </Card>
          )}
        </div>
        <div className="space-y-6">
          <Card>
            <h2 className="mb-3 text-base font-semibold text-slate-900">Match rules</h2>
            <RunbookRules content={content} />
          </Card>
          <Card>
            <h2 className="mb-3 flex items-center gap-2 text-base font-semibold text-slate-900">
              Steps
              {content.automatic && (
                <Badge size="xs" color="amber">
                  automatic
                </Badge>
              )}
            </h2>
            <Steps content={content} />
          </Card>
          <Card>
            <h2 className="mb-3 text-base font-semibold text-slate-900">Responder feedback</h2>
            <p className="text-sm text-slate-700" data-testid="runbook-feedback-summary">
              {feedback.helpful} helpful, {feedback.unhelpful} not helpful
            </p>
            {feedback.incidents.length > 0 && (
              <ul className="mt-2 space-y-1 text-xs">
                {feedback.incidents.map((incident) => (
                  <li key={incident.incidentId}>
                    <Link
                      href={`/incidents/${incident.incidentId}`}
                      prefetch={false}
                      className="text-indigo-600 hover:underline"
                    >
                      {incident.title}
                    </Link>{" "}
                    <span className="text-slate-500">
                      ({incident.status}: {incident.helpful} helpful, {incident.unhelpful} not helpful)
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card>
            <h2 className="mb-3 text-base font-semibold text-slate-900">Versions</h2>
            <ol className="space-y-2 text-sm" data-testid="runbook-versions">
              {versions.map((entry) => (
                <li key={entry.version} className="flex flex-wrap items-baseline justify-between gap-2">
                  <span>
                    <Link
                      href={`/runbooks/${slug}?version=${entry.version}`}
                      prefetch={false}
                      className="font-medium text-indigo-600 hover:underline"
                    >
                      Version {entry.version}
                    </Link>
                    {entry.version === runbook.currentVersion && (
                      <span className="ml-1 text-xs text-emerald-700">current</span>
                    )}
                    <span className="block text-xs text-slate-500">
                      {entry.author.name}, <LocalTime value={entry.createdAt} />
                      {entry.note && ` · ${entry.note}`}
                    </span>
                  </span>
                </li>
              ))}
            </ol>
          </Card>
        </div>
      </div>
    </>
  );
}
