"use client";

import { Button, Callout, TextInput } from "@tremor/react";
import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { safeCallbackPath } from "@/lib/auth/callback-url";

/**
 * Email and password form, plus a single sign-on button when `ssoName` is
 * set. After login it follows same-origin paths only.
 */
export function LoginForm({
  callbackUrl,
  ssoName,
  initialError,
}: {
  callbackUrl?: string;
  ssoName?: string;
  initialError?: string;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(initialError ?? null);
  const [pending, setPending] = useState(false);
  const [ssoPending, setSsoPending] = useState(false);

  async function onSso() {
    setSsoPending(true);
    setError(null);
    // Leaves the page for the provider, so the button stays busy.
    await signIn("oidc", { callbackUrl: safeCallbackPath(callbackUrl) });
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);

    const result = await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      redirect: false,
    });

    if (!result || result.error) {
      setPending(false);
      setError(
        result?.error === "CredentialsSignin"
          ? "Invalid email or password."
          : "Sign-in failed: the server did not respond as expected. Try again, and check the server log if it persists.",
      );
      return;
    }
    router.replace(safeCallbackPath(callbackUrl));
    router.refresh();
  }

  return (
    <form onSubmit={onSubmit} className="space-y-5" noValidate>
      {error && (
        <Callout title="Sign-in failed" color="rose" role="alert">
          {error}
        </Callout>
      )}
      <div className="space-y-1.5">
        <label htmlFor="email" className="text-sm font-medium text-slate-700">
          Email
        </label>
        <TextInput
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          placeholder="you@example.com"
          required
          autoFocus
        />
      </div>
      <div className="space-y-1.5">
        <label
          htmlFor="password"
          className="text-sm font-medium text-slate-700"
        >
          Password
        </label>
        <TextInput
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          placeholder="Your password"
          required
        />
      </div>
      <Button
        type="submit"
        className="w-full"
        loading={pending}
        disabled={pending || ssoPending}
      >
        Sign in
      </Button>
      {ssoName && (
        <>
          <div className="flex items-center gap-3 text-xs text-slate-400">
            <span className="h-px flex-1 bg-slate-200" />
            or
            <span className="h-px flex-1 bg-slate-200" />
          </div>
          <Button
            type="button"
            variant="secondary"
            className="w-full"
            loading={ssoPending}
            disabled={pending || ssoPending}
            onClick={onSso}
          >
            Sign in with {ssoName}
          </Button>
        </>
      )}
    </form>
  );
}
