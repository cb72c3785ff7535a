// Validation of the login form's callback URL: after signing in, the browser
// may only go to a path on Vigil's own origin. Browsers read "/\host" and
// "/<tab>/host" as "//host", so the check parses the value with the WHATWG
// URL parser, as they do, instead of looking at its first characters.

const PLACEHOLDER_ORIGIN = "http://vigil.invalid";

/** Returns the callback's path, query and hash, or "/" when it leaves the origin. */
export function safeCallbackPath(callbackUrl: string | undefined): string {
  if (!callbackUrl || !callbackUrl.startsWith("/")) return "/";
  let parsed: URL;
  try {
    parsed = new URL(callbackUrl, PLACEHOLDER_ORIGIN);
  } catch {
    return "/";
  }
  if (parsed.origin !== PLACEHOLDER_ORIGIN) return "/";
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}
