import { ApiError } from "@/lib/api/errors";
import type { Config } from "@/lib/config";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import { createTeam } from "@/lib/teams/store";
import { parseCreateTeam } from "@/lib/teams/validation";

import { withDatabase } from "./commands";
import { migrateDatabase } from "./database";
import { CliError, print } from "./output";

// `create-team`: adds a team and assigns services to it, with the checks of
// POST /api/v1/teams. Listed services move to the new team from any other.

export type CreateTeamOptions = {
  slug: string;
  name: string;
  description?: string;
  /** Comma-separated service slugs. */
  services?: string;
};

/** Turns an API validation error into a CLI error naming the option. */
function toCliError(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const option = (error.field ?? "").replace(/\[\d+\]$/, "");
  return new CliError(option ? `--${option}: ${error.message}` : error.message);
}

export async function createTeamCommand(config: Config, options: CreateTeamOptions): Promise<void> {
  const services =
    options.services === undefined
      ? []
      : options.services
          .split(",")
          .map((slug) => slug.trim())
          .filter((slug) => slug !== "");
  let input;
  try {
    input = parseCreateTeam({
      slug: options.slug,
      name: options.name,
      description: options.description ?? null,
      services,
    });
  } catch (error) {
    throw toCliError(error);
  }

  await withDatabase(config, async (database) => {
    await migrateDatabase(database.url);
    let team;
    try {
      team = await withTransaction(getPool(), (client) => createTeam(client, input));
    } catch (error) {
      throw toCliError(error);
    }
    const listed = team.services.map((service) => service.slug).join(", ");
    print(
      `Created team ${team.slug} (${team.name}) with ${team.services.length} services` +
        (listed ? `: ${listed}.` : "."),
    );
  });
}
