import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { LoginForm } from "@/components/login-form";
import { Logo } from "@/components/logo";
import { getOidcConfig } from "@/lib/auth/oidc-config";
import { getSessionUser } from "@/lib/auth/session";

import { signInErrorMessage } from "./sign-in-errors";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  if (await getSessionUser()) redirect("/");
  const { callbackUrl, error } = await searchParams;
  const oidc = getOidcConfig();
  const providerName = oidc?.displayName ?? "single sign-on";

  return (
    <main className="flex min-h-screen items-center justify-center bg-slate-100 px-4">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex justify-center">
          <Logo tone="light" />
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
          <h1 className="text-lg font-semibold text-slate-900">Sign in</h1>
          <p className="mb-6 mt-1 text-sm text-slate-500">
            Incidents, anomalies and KPIs of your services.
          </p>
          <LoginForm
            callbackUrl={
              typeof callbackUrl === "string" ? callbackUrl : undefined
            }
            ssoName={oidc?.displayName}
            initialError={
              typeof error === "string" && error !== ""
                ? signInErrorMessage(error, providerName)
                : undefined
            }
          />
        </div>
        <p className="mt-6 text-center text-xs text-slate-500">
          {oidc?.createUsers
            ? `No account yet? Sign in with ${providerName} to create one, or ask a Vigil admin.`
            : "No account yet? Accounts are created by a Vigil admin."}
        </p>
      </div>
    </main>
  );
}
