import { isIP } from "node:net";

import { z } from "zod";

// Channel types, their input schemas and how they are stored and shown.
// Each channel keeps its secrets (the Slack webhook URL, the SMTP password)
// in secret_config, apart from the settings that the API and the UI show.

export const CHANNEL_TYPES = ["webhook", "slack", "email"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const SEVERITIES = ["sev1", "sev2", "sev3", "sev4"] as const;
export type Severity = (typeof SEVERITIES)[number];

export type WebhookConfig = { url: string };
export type SlackConfig = { urlHint: string };
export type SlackSecret = { url: string };
export type EmailConfig = {
  host: string;
  port: number;
  secure: boolean;
  username: string | null;
  from: string;
  to: string[];
};
export type EmailSecret = { password: string | null };

/** A channel row as stored, secrets included: for the worker only. */
export type StoredChannel = {
  id: number;
  name: string;
  type: ChannelType;
  enabled: boolean;
  config: Record<string, unknown>;
  secretConfig: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
};

/**
 * Rejects link-local addresses, which include the cloud metadata service at
 * 169.254.169.254, so that an admin cannot point a channel at it by mistake.
 */
function isBlockedHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "metadata.google.internal") return true;
  if (isIP(host) === 4) return host.startsWith("169.254.");
  if (isIP(host) === 6) return /^fe[89ab]/.test(host);
  return false;
}

const httpUrl = z
  .string()
  .max(2000)
  .superRefine((value, context) => {
    // One check at a time, because the later ones need a parsable URL.
    if (!URL.canParse(value)) {
      context.addIssue({ code: "custom", message: "must be an absolute URL" });
    } else if (!/^https?:$/.test(new URL(value).protocol)) {
      context.addIssue({ code: "custom", message: "must use http or https" });
    } else if (isBlockedHost(new URL(value).hostname)) {
      context.addIssue({
        code: "custom",
        message: "must not point at a link-local or cloud metadata address",
      });
    }
  });

const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:[\]-]+$/, {
    message: "must be a host name or an IP address",
  })
  .refine((value) => !isBlockedHost(value), {
    message: "must not be a link-local or cloud metadata address",
  });

const email = z.string().max(320).email({ message: "must be an email address" });

export const webhookInput = z.strictObject({ url: httpUrl });
export const slackInput = z.strictObject({ url: httpUrl });
export const emailInput = z.strictObject({
  host: hostname,
  port: z.number().int().min(1).max(65535).default(587),
  secure: z.boolean().default(false),
  username: z.string().min(1).max(320).nullable().default(null),
  password: z.string().min(1).max(1000).nullable().default(null),
  from: email,
  to: z.array(email).min(1).max(20),
});

export const CHANNEL_CONFIG_SCHEMAS = {
  webhook: webhookInput,
  slack: slackInput,
  email: emailInput,
} as const;

export const channelName = z.string().trim().min(1).max(100);

/** Splits a validated channel input into what the API shows and the secrets. */
export function splitSecrets(
  type: ChannelType,
  input: Record<string, unknown>,
): { config: Record<string, unknown>; secretConfig: Record<string, unknown> } {
  switch (type) {
    case "webhook":
      return { config: { url: input.url }, secretConfig: {} };
    case "slack":
      return {
        config: { urlHint: maskUrl(String(input.url)) },
        secretConfig: { url: input.url },
      };
    case "email": {
      const { password, ...config } = input;
      return { config, secretConfig: { password: password ?? null } };
    }
  }
}

/**
 * Rebuilds the full input of a stored channel, secrets included, so that a
 * partial update can be merged into it and validated again.
 */
export function joinSecrets(channel: StoredChannel): Record<string, unknown> {
  switch (channel.type) {
    case "webhook":
      return { url: channel.config.url };
    case "slack":
      return { url: channel.secretConfig.url };
    case "email":
      return { ...channel.config, password: channel.secretConfig.password ?? null };
  }
}

/**
 * Masks a secret URL to its origin and the last 4 characters, such as
 * "https://hooks.slack.com/…Xy9Z". Slack puts the token in the path.
 */
export function maskUrl(url: string): string {
  const parsed = new URL(url);
  const rest = url.slice(parsed.origin.length);
  const tail = rest.length > 8 ? rest.slice(-4) : "";
  return `${parsed.origin}/…${tail}`;
}

/**
 * Removes the userinfo and query string from a generic webhook URL for
 * display, because either may carry a credential.
 */
export function displayWebhookUrl(url: string): string {
  const parsed = new URL(url);
  const hidden = parsed.username !== "" || parsed.password !== "" || parsed.search !== "";
  parsed.username = "";
  parsed.password = "";
  parsed.search = "";
  return hidden ? `${parsed.toString()}?…` : parsed.toString();
}

/** A channel as the API and the UI show it, secrets masked. */
export type PublicChannel = {
  id: number;
  name: string;
  type: ChannelType;
  enabled: boolean;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
};

/** Returns a channel for the API and the UI, without its secrets. */
export function publicChannel(channel: StoredChannel): PublicChannel {
  let config: Record<string, unknown>;
  switch (channel.type) {
    case "webhook":
      config = { url: displayWebhookUrl(String(channel.config.url)) };
      break;
    case "slack":
      config = { url: channel.config.urlHint };
      break;
    case "email":
      config = {
        ...channel.config,
        password: channel.secretConfig.password ? "set" : null,
      };
      break;
  }
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    enabled: channel.enabled,
    config,
    createdAt: channel.createdAt.toISOString(),
    updatedAt: channel.updatedAt.toISOString(),
  };
}
