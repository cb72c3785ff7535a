import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import { serviceSlugSchema } from "@/lib/ingest/schemas";
import { checkStoredText } from "@/lib/runbooks/text";

// Request bodies of the team API. A slug is 1 to 63 lower-case letters,
// digits and hyphens, as a service slug is, and starts with a letter or digit.

export const TEAM_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_TEAM_NAME_LENGTH = 100;
export const MAX_TEAM_DESCRIPTION_LENGTH = 1000;
/** Maximum number of services one request may assign to a team. */
export const MAX_TEAM_SERVICES = 500;

export const teamSlugSchema = z.string().regex(TEAM_SLUG_PATTERN, {
  message: "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit",
});

const nameSchema = z.string().trim().min(1).max(MAX_TEAM_NAME_LENGTH).superRefine(checkStoredText);

const descriptionSchema = z
  .string()
  .trim()
  .max(MAX_TEAM_DESCRIPTION_LENGTH)
  .superRefine(checkStoredText)
  .nullable()
  .transform((value) => (value === "" ? null : value));

// Each item must have the service slug form before it reaches the database,
// because PostgreSQL rejects text with NUL and the error would be a 500.
const serviceSlugsSchema = z
  .array(serviceSlugSchema)
  .max(MAX_TEAM_SERVICES)
  .transform((slugs) => [...new Set(slugs)]);

const createTeamSchema = z.strictObject({
  slug: teamSlugSchema,
  name: nameSchema,
  description: descriptionSchema.optional(),
  services: serviceSlugsSchema.optional(),
});

const updateTeamSchema = z.strictObject({
  name: nameSchema.optional(),
  description: descriptionSchema.optional(),
  services: serviceSlugsSchema.optional(),
});

export type CreateTeamInput = z.output<typeof createTeamSchema>;
export type UpdateTeamInput = z.output<typeof updateTeamSchema>;

/** Validates a POST /api/v1/teams body; throws a 400 naming the field. */
export function parseCreateTeam(body: unknown): CreateTeamInput {
  return parseInput(createTeamSchema, body);
}

/**
 * Validates a PATCH /api/v1/teams/{slug} body. Absent fields are kept,
 * `services` replaces the team's whole service list.
 */
export function parseUpdateTeam(body: unknown): UpdateTeamInput {
  return parseInput(updateTeamSchema, body);
}
