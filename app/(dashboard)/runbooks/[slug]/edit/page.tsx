import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { stringify as stringifyYaml } from "yaml";

import { PageHeader } from "@/components/page-header";
import { RunbookForm } from "@/components/runbook-form";
import { ForbiddenError, requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { SLUG_PATTERN } from "@/lib/runbooks/content";
import { findRunbookBySlug } from "@/lib/runbooks/versions";

export const metadata: Metadata = { title: "Edit runbook" };

export default async function EditRunbookPage({ params }: { params: Promise<{ slug: string }> }) {
  try {
    await requireUser("admin");
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    return (
      <>
        <PageHeader title="Edit runbook" />
        <p className="text-sm text-slate-600" role="alert">
          Only admins can edit runbooks; your role is {error.user.role}.
        </p>
      </>
    );
  }
  const { slug } = await params;
  if (!SLUG_PATTERN.test(slug)) notFound();
  const runbook = await findRunbookBySlug(getPool(), slug);
  if (!runbook) notFound();
  const { content } = runbook;

  return (
    <>
      <PageHeader
        title={`Edit ${content.title}`}
        description={`Saving stores version ${(runbook.currentVersion ?? 0) + 1} unless nothing changed.`}
      >
        <Link href={`/runbooks/${slug}`} prefetch={false} className="text-xs text-indigo-600 hover:underline">
          ← {content.title}
        </Link>
      </PageHeader>
      {runbook.archivedAt ? (
        <p className="text-sm text-slate-600" role="alert">
          This runbook is archived. Restore it on its page before editing.
        </p>
      ) : (
        <Card>
          <RunbookForm
            mode="edit"
            initial={{
              slug,
              title: content.title,
              body: content.body,
              services: content.services.join(", "),
              metricPattern: content.metricPattern ?? "",
              alertNames: content.alertNames.join(", "),
              labels: Object.entries(content.labels)
                .map(([key, value]) => `${key}=${value}`)
                .join("\n"),
              severities: content.severities,
              steps: content.steps.length === 0 ? "" : stringifyYaml(content.steps),
              automatic: content.automatic,
            }}
          />
        </Card>
      )}
    </>
  );
}
