import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import { PageHeader } from "@/components/page-header";
import { ForbiddenError, requireUser } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Settings" };

const SECTIONS = [
  {
    href: "/settings/notifications",
    title: "Notifications",
    description: "Channels (webhook, Slack, email) and the rules that send incidents to them.",
  },
  {
    href: "/settings/runbook-allowlist",
    title: "Runbook allowlist",
    description: "The hosts that executable runbook steps may send requests to.",
  },
  {
    href: "/settings/teams",
    title: "Teams",
    description: "Teams and the services that belong to them, for the team filter and reports.",
  },
];

export default async function SettingsPage() {
  try {
    await requireUser("admin");
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    return (
      <>
        <PageHeader title="Settings" />
        <p className="text-sm text-slate-600" role="alert">
          Only admins can change settings; your role is {error.user.role}.
        </p>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Settings" description="What admins set up for everyone." />
      <nav aria-label="Settings" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {SECTIONS.map((section) => (
          <Link key={section.href} href={section.href} prefetch={false} className="block">
            <Card className="h-full hover:bg-slate-50">
              <h2 className="text-sm font-semibold text-slate-900">{section.title}</h2>
              <p className="mt-1 text-sm text-slate-500">{section.description}</p>
            </Card>
          </Link>
        ))}
      </nav>
    </>
  );
}
