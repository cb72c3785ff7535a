/**
 * Result a client component shows when a server action threw or its request
 * never got a response.
 */
export const REQUEST_FAILED = {
  ok: false,
  error: {
    code: "request_failed",
    message:
      "The server did not complete the request. Reload the page and try again.",
  },
} as const;
