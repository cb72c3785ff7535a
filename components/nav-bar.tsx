import Link from "next/link";

import { Logo } from "@/components/logo";
import { NavLinks } from "@/components/nav-links";
import { SignOutButton } from "@/components/sign-out-button";
import type { SessionUser } from "@/lib/auth/session";

export function NavBar({ user }: { user: SessionUser }) {
  return (
    <header className="sticky top-0 z-20 border-b border-slate-800 bg-slate-900">
      {/* Below the xl width the links take a second row under the logo and user. */}
      <div className="mx-auto flex min-h-14 max-w-7xl flex-wrap items-center gap-x-6 gap-y-1 px-4 py-2 xl:flex-nowrap sm:px-6">
        <Link href="/" prefetch={false} aria-label="Vigil overview">
          <Logo />
        </Link>
        <div className="relative order-last -ml-3 w-full xl:order-none xl:ml-0 xl:w-auto">
          <NavLinks isAdmin={user.role === "admin"} />
          {/* Below the xl width the links scroll sideways, and this fade
              over the right edge shows that more follow. */}
          <div
            className="pointer-events-none absolute inset-y-0 right-0 w-8 bg-gradient-to-l from-slate-900 xl:hidden"
            aria-hidden
          />
        </div>
        <div className="ml-auto flex min-w-0 items-center gap-3">
          <div
            className="min-w-0 text-right leading-tight"
            data-testid="current-user"
          >
            <div className="truncate text-sm font-medium text-white">
              {user.name}
            </div>
            <div className="text-xs capitalize text-slate-400">{user.role}</div>
          </div>
          <SignOutButton />
        </div>
      </div>
    </header>
  );
}
