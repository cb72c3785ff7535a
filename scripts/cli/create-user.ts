import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";

import type { Config } from "@/lib/config";
import { Role } from "@/lib/generated/prisma/enums";
import { createUser, newUserSchema, UserExistsError } from "@/lib/users";

import { withDatabase } from "./commands";
import { migrateDatabase } from "./database";
import { CliError, print } from "./output";

// `create-user`: adds an admin, manager, responder or viewer with a generated
// password (printed once) or one read from a file.

const ROLES = [Role.admin, Role.manager, Role.responder, Role.viewer] as const;

export type CreateUserOptions = {
  email: string;
  name: string;
  role: string;
  passwordFile?: string;
};

/** Reads the password from the first line of a file, without its line break. */
async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`--password-file: cannot read ${path}: ${(error as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, "");
  if (/[\r\n]/.test(password)) {
    throw new CliError(`--password-file: ${path} must contain the password on one line.`);
  }
  return password;
}

export async function createUserCommand(
  config: Config,
  options: CreateUserOptions,
): Promise<void> {
  const email = newUserSchema.shape.email.safeParse(options.email);
  if (!email.success) {
    throw new CliError(`--email: "${options.email}" is not a valid email address.`);
  }
  const name = newUserSchema.shape.name.safeParse(options.name);
  if (!name.success) {
    throw new CliError(`--name: must be 1 to 200 characters, got "${options.name}".`);
  }
  if (!ROLES.includes(options.role as (typeof ROLES)[number])) {
    throw new CliError(`--role must be admin, manager, responder or viewer, got "${options.role}".`);
  }
  const generated = options.passwordFile === undefined;
  // 18 random bytes are 24 base64url characters (144 bits), within bcrypt's 72 bytes.
  const password = generated
    ? randomBytes(18).toString("base64url")
    : await readPasswordFile(options.passwordFile!);
  const passwordCheck = newUserSchema.shape.password.safeParse(password);
  if (!passwordCheck.success) {
    throw new CliError(`--password-file: the password ${passwordCheck.error.issues[0]?.message}.`);
  }

  await withDatabase(config, async (database) => {
    await migrateDatabase(database.url);
    let id: number;
    try {
      ({ id } = await createUser({
        email: email.data,
        name: name.data,
        password,
        role: options.role as (typeof ROLES)[number],
      }));
    } catch (error) {
      if (error instanceof UserExistsError) {
        throw new CliError(
          `--email: a user with email ${error.email} exists already. To make it an admin with a new password, run create-admin.`,
        );
      }
      throw error;
    }
    print(`Created ${options.role} ${email.data} (user id ${id}).`);
    if (generated) {
      print("Password (copy it now; Vigil stores only its hash and cannot show it again):");
      print(password);
    }
  });
}
