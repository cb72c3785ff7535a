import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import { PageHeader } from "@/components/page-header";
import { RunbookForm } from "@/components/runbook-form";
import { ForbiddenError, requireUser } from "@/lib/auth/session";

export const metadata: Metadata = { title: "New runbook" };

export default async function NewRunbookPage() {
  try {
    await requireUser("admin");
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    return (
      <>
        <PageHeader title="New runbook" />
        <p className="text-sm text-slate-600" role="alert">
          Only admins can add runbooks; your role is {error.user.role}.
        </p>
      </>
    );
  }
  return (
    <>
      <PageHeader title="New runbook" description="Version 1 of a runbook; every later save adds a version.">
        <Link href="/runbooks" prefetch={false} className="text-xs text-indigo-600 hover:underline">
          ← Runbooks
        </Link>
      </PageHeader>
      <Card>
        <RunbookForm
          mode="create"
          initial={{
            slug: "",
            title: "",
            body: "",
            services: "",
            metricPattern: "",
            alertNames: "",
            labels: "",
            severities: [],
            steps: "",
            automatic: false,
          }}
        />
      </Card>
    </>
  );
}
