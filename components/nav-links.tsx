"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Overview" },
  { href: "/incidents", label: "Incidents" },
  { href: "/services", label: "Services" },
  { href: "/slos", label: "SLOs" },
  { href: "/deployments", label: "Deployments" },
  { href: "/models", label: "Models" },
  { href: "/oncall", label: "On call" },
  { href: "/runbooks", label: "Runbooks" },
  { href: "/reports", label: "Reports" },
];

/** The settings pages, which only admins may open, are listed on /settings. */
const ADMIN_LINKS = [{ href: "/settings", label: "Settings" }];

function isActive(pathname: string, href: string): boolean {
  return href === "/" ? pathname === "/" : pathname.startsWith(href);
}

export function NavLinks({ isAdmin = false }: { isAdmin?: boolean }) {
  const pathname = usePathname() ?? "/";
  const links = isAdmin ? [...LINKS, ...ADMIN_LINKS] : LINKS;
  return (
    // Below the xl width the links can be wider than the screen, so the
    // bar scrolls sideways instead of widening the page.
    <nav
      aria-label="Main"
      className="flex items-center gap-1 overflow-x-auto xl:overflow-visible"
    >
      {links.map((link) => {
        const active = isActive(pathname, link.href);
        return (
          <Link
            key={link.href}
            href={link.href}
            prefetch={false}
            aria-current={active ? "page" : undefined}
            className={
              active
                ? "shrink-0 whitespace-nowrap rounded-md bg-slate-800 px-2.5 py-1.5 text-sm font-medium text-white sm:px-3"
                : "shrink-0 whitespace-nowrap rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-300 hover:bg-slate-800/60 hover:text-white sm:px-3"
            }
          >
            {link.label}
          </Link>
        );
      })}
    </nav>
  );
}
