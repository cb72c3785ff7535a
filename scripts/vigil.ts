import { existsSync, readFileSync } from "node:fs";
import { parseArgs, parseEnv } from "node:util";

import { parseOidcConfig } from "@/lib/auth/oidc-config";
import { ConfigError, getConfig } from "@/lib/config";

import {
  createAdminCommand,
  createTokenCommand,
  migrateCommand,
} from "./cli/commands";
import { createTeamCommand } from "./cli/create-team";
import { createUserCommand } from "./cli/create-user";
import { CliError, print, printError } from "./cli/output";
import { startCommand } from "./cli/start";

// Vigil's command line. `npm start` runs `start`, and
// `npm run vigil -- <command>` runs any command.

const USAGE = `Usage: npm run vigil -- <command> [options]

Commands:
  start [--demo]                 Start the database (embedded unless DATABASE_URL
                                 is set), the web server and the worker. --demo
                                 also replays the NAB demo telemetry.
  create-admin --email E [--name N]
                                 Create an admin, or make an existing user admin
                                 with a new password. The password comes from
                                 VIGIL_ADMIN_PASSWORD or is typed twice.
  create-user --email E --name N --role admin|manager|responder|viewer [--password-file F]
                                 Create a user. Without --password-file the
                                 password is generated and printed once; with it,
                                 the first line of file F is the password.
  create-token --name N [--scope ingest|admin] [--service SLUG]
                                 Create an API token and print it once.
  create-team --slug S --name N [--description D] [--services A,B]
                                 Create a team and move the listed services
                                 (comma-separated slugs) to it.
  migrate                        Apply database migrations and the job queue schema.

Configuration comes from the environment and from .env; see .env.example.`;

const COMMAND_OPTIONS = {
  start: { demo: { type: "boolean" } },
  "create-admin": { email: { type: "string" }, name: { type: "string" } },
  "create-user": {
    email: { type: "string" },
    name: { type: "string" },
    role: { type: "string" },
    "password-file": { type: "string" },
  },
  "create-token": {
    name: { type: "string" },
    scope: { type: "string" },
    service: { type: "string" },
  },
  "create-team": {
    slug: { type: "string" },
    name: { type: "string" },
    description: { type: "string" },
    services: { type: "string" },
  },
  migrate: {},
} as const;

type Command = keyof typeof COMMAND_OPTIONS;

/** Loads ./.env into process.env without overriding variables already set. */
function loadDotEnv(): void {
  if (!existsSync(".env")) return;
  const values = parseEnv(readFileSync(".env", "utf8"));
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (
    !command ||
    command === "help" ||
    command === "--help" ||
    command === "-h"
  ) {
    print(USAGE);
    return;
  }
  if (!(command in COMMAND_OPTIONS)) {
    throw new CliError(`Unknown command "${command}".\n\n${USAGE}`);
  }

  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: rest,
      options: COMMAND_OPTIONS[command as Command],
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${USAGE}`);
  }

  loadDotEnv();
  const config = getConfig();

  switch (command as Command) {
    case "start":
      // Fails here, naming the variable, rather than on the first sign-in.
      parseOidcConfig(process.env);
      await startCommand(config, { demo: values.demo === true });
      return;
    case "migrate":
      await migrateCommand(config);
      return;
    case "create-admin":
      if (typeof values.email !== "string") {
        throw new CliError("create-admin needs --email.");
      }
      await createAdminCommand(config, {
        email: values.email,
        name: values.name as string | undefined,
      });
      return;
    case "create-user":
      if (
        typeof values.email !== "string" ||
        typeof values.name !== "string" ||
        typeof values.role !== "string"
      ) {
        throw new CliError("create-user needs --email, --name and --role.");
      }
      await createUserCommand(config, {
        email: values.email,
        name: values.name,
        role: values.role,
        passwordFile: values["password-file"] as string | undefined,
      });
      return;
    case "create-token":
      if (typeof values.name !== "string") {
        throw new CliError("create-token needs --name.");
      }
      await createTokenCommand(config, {
        name: values.name,
        scope: values.scope as string | undefined,
        service: values.service as string | undefined,
      });
      return;
    case "create-team":
      if (typeof values.slug !== "string" || typeof values.name !== "string") {
        throw new CliError("create-team needs --slug and --name.");
      }
      await createTeamCommand(config, {
        slug: values.slug,
        name: values.name,
        description: values.description as string | undefined,
        services: values.services as string | undefined,
      });
      return;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof CliError) {
    printError(error.message);
  } else {
    printError(`Failed: ${(error as Error).stack ?? String(error)}`);
  }
  process.exit(1);
});
