"use client";

import { RiLogoutBoxRLine } from "@remixicon/react";
import { signOut } from "next-auth/react";
import { useState } from "react";

export function SignOutButton() {
  const [pending, setPending] = useState(false);
  return (
    <button
      type="button"
      disabled={pending}
      onClick={() => {
        setPending(true);
        void signOut({ callbackUrl: "/login" });
      }}
      className="inline-flex shrink-0 items-center gap-1.5 whitespace-nowrap rounded-md px-2.5 py-1.5 text-sm text-slate-300 hover:bg-slate-800 hover:text-white disabled:opacity-60"
    >
      <RiLogoutBoxRLine className="size-4" aria-hidden />
      Sign out
    </button>
  );
}
