// Messages for the `error` parameter that next-auth and the single sign-on
// callbacks (lib/auth/oidc-users.ts) put on /login. The server log has the
// details behind each one.

/** Returns the message for a sign-in error code. `providerName` is VIGIL_OIDC_NAME. */
export function signInErrorMessage(code: string, providerName: string): string {
  switch (code) {
    case "OAuthSignin":
      return `Could not start sign-in with ${providerName}: Vigil could not read the provider's discovery document. Check VIGIL_OIDC_ISSUER and the server log.`;
    case "OAuthCallback":
    case "Callback":
      return `Sign-in with ${providerName} failed: Vigil could not verify the provider's response, for example because the login expired, was replayed or came from another issuer. Try again, and check the server log if it persists.`;
    case "SsoInvalidToken":
      return `Sign-in with ${providerName} failed: the provider's ID token has no subject or another issuer than VIGIL_OIDC_ISSUER.`;
    case "SsoNoRole":
      return `Your ${providerName} account has no group that Vigil maps to a role. Ask a Vigil admin for access.`;
    case "SsoNoAccount":
      return `No Vigil user is linked to your ${providerName} account, and Vigil does not create users on first sign-in. Ask a Vigil admin for an account.`;
    case "SsoNoEmail":
      return `${providerName} sent no email address, which Vigil needs to create your user. Ask your identity provider admin to release the email claim.`;
    case "SsoAccountNotLinked":
      return `A Vigil user with your email exists but is not linked to your ${providerName} account. Sign in with your password, or ask a Vigil admin to turn on linking by verified email.`;
    case "AccessDenied":
      return "Sign-in was denied.";
    case "Configuration":
      return "Sign-in is misconfigured on the server. Check the server log.";
    default:
      return `Sign-in failed (${code.slice(0, 40)}). Try again, and check the server log if it persists.`;
  }
}
