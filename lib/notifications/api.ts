import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { apiErrorMap, issueToApiError, parseInput } from "@/lib/api/validation";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { parsePositiveId } from "@/lib/models/route-params";
import { authenticateModelRequest } from "@/lib/models/request-auth";
import {
  CHANNEL_CONFIG_SCHEMAS,
  CHANNEL_TYPES,
  channelName,
  joinSecrets,
  SEVERITIES,
  splitSecrets,
  type ChannelType,
  type StoredChannel,
} from "@/lib/notifications/channels";
import type { ChannelWrite } from "@/lib/notifications/store";

// Request parsing and access checks of the notification admin API.

/** The admin user or API token behind a request. */
export type NotificationAdmin = { id: number | null; name: string };

/**
 * Returns the admin behind a request: an admin-scope API token that is not
 * bound to a service, or an admin's session. Channels are global, so a
 * token bound to one service gets 403.
 */
export async function authenticateNotificationAdmin(
  request: Request,
): Promise<NotificationAdmin> {
  if (request.headers.has("authorization")) {
    const token = await authenticateBearer(request);
    requireScope(token, "admin");
    if (token.serviceId !== null) {
      throw new ApiError(
        403,
        "forbidden",
        "notification channels apply to every service, so a token bound to one service may not configure them; use an unbound admin token",
        { logContext: { tokenId: token.id } },
      );
    }
    return { id: token.id, name: `API token ${token.name}` };
  }
  return authenticateModelRequest(request, { minRole: "admin", scope: "admin" });
}

/** Parses a path id such as "12"; throws a 400 naming `field` otherwise. */
export const parseId = parsePositiveId;

/** Validates a channel's config for its type, naming fields as "config.<name>". */
function parseChannelConfig(
  type: ChannelType,
  config: unknown,
): Record<string, unknown> {
  const result = CHANNEL_CONFIG_SCHEMAS[type].safeParse(config, { error: apiErrorMap });
  if (result.success) return result.data as Record<string, unknown>;
  const issue = result.error.issues[0]!;
  throw issueToApiError({ ...issue, path: ["config", ...issue.path] } as typeof issue);
}

const createChannelBody = z.strictObject({
  name: channelName,
  type: z.enum(CHANNEL_TYPES),
  enabled: z.boolean().default(true),
  config: z.record(z.string(), z.unknown()),
});

const updateChannelBody = z.strictObject({
  name: channelName.optional(),
  enabled: z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
});

/** Parses the body of POST /api/v1/notification-channels. */
export function parseCreateChannel(body: unknown): ChannelWrite {
  const input = parseInput(createChannelBody, body);
  const config = parseChannelConfig(input.type, input.config);
  return {
    name: input.name,
    type: input.type,
    enabled: input.enabled,
    ...splitSecrets(input.type, config),
  };
}

/**
 * Parses the body of PATCH /api/v1/notification-channels/{id}. Config
 * fields left out keep their stored values, secrets included, so a client
 * that never saw the Slack URL or SMTP password can still edit the rest.
 */
export function parseUpdateChannel(
  body: unknown,
  stored: StoredChannel,
): Omit<ChannelWrite, "type"> {
  const input = parseInput(updateChannelBody, body);
  const merged = { ...joinSecrets(stored), ...(input.config ?? {}) };
  const config = parseChannelConfig(stored.type, merged);
  return {
    name: input.name ?? stored.name,
    enabled: input.enabled ?? stored.enabled,
    ...splitSecrets(stored.type, config),
  };
}

const createRuleBody = z.strictObject({
  channelId: z.number().int().positive(),
  service: z
    .string()
    .regex(/^[a-z0-9-]{1,63}$/, { message: "must be a service slug (1 to 63 characters of a-z, 0-9 and -) or null" })
    .nullable()
    .default(null),
  minSeverity: z.enum(SEVERITIES).default("sev4"),
});

export type CreateRuleInput = z.output<typeof createRuleBody>;

/** Parses the body of POST /api/v1/routing-rules. */
export function parseCreateRule(body: unknown): CreateRuleInput {
  return parseInput(createRuleBody, body);
}
