import type { ReactNode } from "react";

import { NavBar } from "@/components/nav-bar";
import { requireUser } from "@/lib/auth/session";

// Every page of the dashboard sits behind this layout, which sends signed-out
// visitors to /login. Pages call requireUser() as well, because a layout is
// not re-rendered on every client-side navigation.
export default async function DashboardLayout({
  children,
}: {
  children: ReactNode;
}) {
  const user = await requireUser();
  return (
    <div className="min-h-screen">
      <NavBar user={user} />
      <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6">{children}</main>
    </div>
  );
}
