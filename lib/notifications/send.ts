import nodemailer from "nodemailer";

import type { EmailConfig } from "@/lib/notifications/channels";
import {
  emailMessage,
  slackBody,
  webhookBody,
  type NotificationContent,
} from "@/lib/notifications/payload";

// Sends one notification over HTTP or SMTP, within a timeout, and returns
// the peer's response. A peer's failure is returned, not thrown, so that the
// caller can log the attempt.

export type SendResult = {
  succeeded: boolean;
  httpStatus: number | null;
  smtpResponse: string | null;
  /** Reason for the failure, without secrets. Null on success. */
  error: string | null;
};

/** Maximum characters of a failed peer's response body kept in the error. */
const MAX_ERROR_BODY_CHARS = 200;

function failure(error: string, extra: Partial<SendResult> = {}): SendResult {
  return { succeeded: false, httpStatus: null, smtpResponse: null, error, ...extra };
}

/**
 * Describes a fetch error without the URL, which contains the Slack token.
 * undici wraps network errors as "fetch failed" with the reason in `cause`.
 */
function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string }).name;
  if (name === "TimeoutError" || name === "AbortError") {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `request failed: ${cause.code}`;
  if (cause?.message) return `request failed: ${cause.message}`;
  return `request failed: ${(error as Error).message ?? String(error)}`;
}

/** POSTs a JSON body and treats any 2xx status as success. */
export async function postJson(
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<SendResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Vigil" },
      body: JSON.stringify(body),
      // A redirect could lead to another host; the admin set this one.
      redirect: "manual",
      signal,
    });
  } catch (error) {
    return failure(describeFetchError(error, timeoutMs));
  }
  let text = "";
  try {
    text = await response.text();
  } catch (error) {
    return failure(describeFetchError(error, timeoutMs), { httpStatus: response.status });
  }
  if (response.status >= 200 && response.status < 300) {
    return { succeeded: true, httpStatus: response.status, smtpResponse: null, error: null };
  }
  const excerpt = text.trim().slice(0, MAX_ERROR_BODY_CHARS);
  return failure(
    `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ""}`,
    { httpStatus: response.status },
  );
}

export function sendWebhook(
  url: string,
  content: NotificationContent,
  timeoutMs: number,
): Promise<SendResult> {
  return postJson(url, webhookBody(content), timeoutMs);
}

export function sendSlack(
  url: string,
  content: NotificationContent,
  timeoutMs: number,
): Promise<SendResult> {
  return postJson(url, slackBody(content), timeoutMs);
}

/**
 * Sends a notification email. The timeout applies to the connection, the
 * server greeting and every socket read, as nodemailer counts them, so a
 * slow server may take longer than `timeoutMs` in all.
 */
export async function sendEmail(
  config: EmailConfig,
  password: string | null,
  content: NotificationContent,
  timeoutMs: number,
): Promise<SendResult> {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    auth:
      config.username !== null
        ? { user: config.username, pass: password ?? "" }
        : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const message = emailMessage(content);
  try {
    const info = await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: message.subject,
      text: message.text,
    });
    return { succeeded: true, httpStatus: null, smtpResponse: info.response, error: null };
  } catch (error) {
    const smtpError = error as { response?: string; code?: string; message?: string };
    return failure(
      `SMTP ${smtpError.code ?? "error"}: ${smtpError.message ?? String(error)}`,
      { smtpResponse: smtpError.response ?? null },
    );
  } finally {
    transport.close();
  }
}
