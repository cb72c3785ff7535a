import type { Config } from "@/lib/config";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPrisma } from "@/lib/db";
import { Role, TokenScope } from "@/lib/generated/prisma/enums";
import { upsertRunbooks } from "@/lib/runbooks/library";
import { newUserSchema, upsertUser } from "@/lib/users";

import {
  migrateDatabase,
  resolveDatabase,
  type ResolvedDatabase,
} from "./database";
import { CliError, print } from "./output";
import { promptHidden } from "./prompt";

// The one-shot commands: migrate, create-admin and create-token. Each
// resolves the database like `start` does, applies pending migrations, does
// its work and stops an embedded cluster it started.

export async function withDatabase<T>(
  config: Config,
  work: (database: ResolvedDatabase) => Promise<T>,
): Promise<T> {
  const database = await resolveDatabase(config, { command: "admin" });
  process.env.DATABASE_URL = database.url;
  try {
    return await work(database);
  } finally {
    await closeDb();
    await database.stop();
  }
}

export async function migrateCommand(config: Config): Promise<void> {
  await withDatabase(config, async (database) => {
    const applied = await migrateDatabase(database.url);
    print(
      applied.length > 0
        ? `Applied ${applied.length} migration(s): ${applied.join(", ")}`
        : "No pending migrations.",
    );
    print("The job queue schema is up to date.");

    // Deployments that run `next start` directly (Docker) never run
    // `vigil start`, so migrate also installs the shipped runbook library.
    const runbooks = await upsertRunbooks();
    print(
      `Runbook library: ${runbooks.created} created, ${runbooks.updated} updated.`,
    );
  });
}

async function readNewPassword(config: Config): Promise<string> {
  if (config.VIGIL_ADMIN_PASSWORD) return config.VIGIL_ADMIN_PASSWORD;
  if (!process.stdin.isTTY) {
    throw new CliError(
      "No password given: set VIGIL_ADMIN_PASSWORD, or run create-admin in a terminal to type it.",
    );
  }
  const password = await promptHidden("Password: ");
  const repeated = await promptHidden("Repeat the password: ");
  if (password !== repeated) throw new CliError("The passwords do not match.");
  return password;
}

export async function createAdminCommand(
  config: Config,
  options: { email: string; name?: string },
): Promise<void> {
  const emailCheck = newUserSchema.shape.email.safeParse(options.email);
  if (!emailCheck.success) {
    throw new CliError(
      `--email: "${options.email}" is not a valid email address.`,
    );
  }
  const password = await readNewPassword(config);
  const passwordCheck = newUserSchema.shape.password.safeParse(password);
  if (!passwordCheck.success) {
    throw new CliError(`password: ${passwordCheck.error.issues[0]?.message}`);
  }

  await withDatabase(config, async (database) => {
    await migrateDatabase(database.url);
    const email = emailCheck.data;
    const existing = await getPrisma().user.findUnique({
      where: { email },
      select: { name: true },
    });
    const name = options.name ?? existing?.name ?? email.split("@")[0]!;
    const { created } = await upsertUser({
      email,
      name,
      password,
      role: Role.admin,
    });
    print(
      created
        ? `Created admin ${email}.`
        : `Updated ${email}: role admin, new password.`,
    );
  });
}

const SCOPES = [TokenScope.ingest, TokenScope.admin] as const;

export async function createTokenCommand(
  config: Config,
  options: { name: string; scope?: string; service?: string },
): Promise<void> {
  const name = options.name.trim();
  if (!name) throw new CliError("--name must not be empty.");
  const scope = options.scope ?? TokenScope.ingest;
  if (!SCOPES.includes(scope as (typeof SCOPES)[number])) {
    throw new CliError(`--scope must be ingest or admin, got "${scope}".`);
  }

  await withDatabase(config, async (database) => {
    await migrateDatabase(database.url);
    let serviceId: number | undefined;
    if (options.service) {
      const service = await getPrisma().service.findUnique({
        where: { slug: options.service },
        select: { id: true },
      });
      if (!service) {
        throw new CliError(
          `--service: no service with slug "${options.service}". Create it with PUT /api/v1/services/${options.service} or by sending its first metrics, then try again.`,
        );
      }
      serviceId = service.id;
    }

    const { token, id } = await createApiToken({
      name,
      scope: scope as (typeof SCOPES)[number],
      serviceId,
    });
    print(
      `Created API token ${id} "${name}" (scope ${scope}${options.service ? `, service ${options.service}` : ""}).`,
    );
    print("Copy it now; Vigil stores only its hash and cannot show it again:");
    print(token);
  });
}
