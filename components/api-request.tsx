"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

// The request hook and result line of the admin and incident buttons and
// forms. Requests carry the session cookie, so the server checks the role,
// and a rejected request shows the API's error message, which names the
// field.

export type Feedback = { tone: "ok" | "error"; text: string } | null;

export const NETWORK_ERROR = "The request failed; check the connection and try again.";

/** Sends a JSON request with the session cookie and returns the parsed body, or null. */
export async function sendJson(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ ok: boolean; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let parsed: any = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  return { ok: response.ok, body: parsed };
}

/** Shows the result of the last request as a status line or an alert. */
export function FeedbackLine({ feedback }: { feedback: Feedback }) {
  if (!feedback) return null;
  return (
    <p
      role={feedback.tone === "error" ? "alert" : "status"}
      className={feedback.tone === "error" ? "text-xs text-rose-700" : "text-xs text-emerald-700"}
    >
      {feedback.text}
    </p>
  );
}

/**
 * Returns `send`, which runs one API request, shows its result and
 * refreshes the page on success, with the pending state and the last result.
 */
export function useApiRequest() {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [feedback, setFeedback] = useState<Feedback>(null);

  async function send(
    method: string,
    url: string,
    body: unknown,
    messages: { ok: (body: any) => string; failed: string },
  ): Promise<boolean> {
    setPending(true);
    try {
      const result = await sendJson(method, url, body);
      if (!result.ok) {
        const message = result.body?.error?.message;
        setFeedback({ tone: "error", text: typeof message === "string" ? message : messages.failed });
        return false;
      }
      setFeedback({ tone: "ok", text: messages.ok(result.body) });
      router.refresh();
      return true;
    } catch {
      setFeedback({ tone: "error", text: NETWORK_ERROR });
      return false;
    } finally {
      setPending(false);
    }
  }

  return { pending, feedback, send };
}
