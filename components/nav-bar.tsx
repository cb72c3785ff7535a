import Link from "next/link";

import { Logo } from "@/components/logo";
import { NavLinks } from "@/components/nav-links";
import { SignOutButton } from "@/components/sign-out-button";
import type { SessionUser } from "@/lib/auth/session";

export function NavBar({ user }: { user: SessionUser }) {
  return (
    <header className="sticky top-0 z-20 border-b border-slate-800 bg-slate-900">
      <div className="mx-auto flex h-14 max-w-7xl items-center gap-6 px-4 sm:px-6">
        <Link href="/" prefetch={false} aria-label="Vigil overview">
          <Logo />
        </Link>
        <NavLinks />
        <div className="ml-auto flex items-center gap-3">
          <div className="text-right leading-tight" data-testid="current-user">
            <div className="text-sm font-medium text-white">{user.name}</div>
            <div className="text-xs capitalize text-slate-400">{user.role}</div>
          </div>
          <SignOutButton />
        </div>
      </div>
    </header>
  );
}
