import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import type { Config } from "@/lib/config";
import { getPrisma } from "@/lib/db";
import { Role } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";
import { upsertUser } from "@/lib/users";

// First-run setup of the start command: the next-auth secret and the first
// admin account. Generated secrets are written to files readable only by
// their owner and are never printed or logged.

export const NEXTAUTH_SECRET_FILE = "nextauth-secret";
export const INITIAL_PASSWORD_FILE = "initial-admin-password";
export const DEFAULT_ADMIN_EMAIL = "admin@vigil.local";

/** Returns NEXTAUTH_SECRET, or the one generated on the first start. */
export async function ensureNextAuthSecret(config: Config): Promise<string> {
  if (config.NEXTAUTH_SECRET) return config.NEXTAUTH_SECRET;

  const file = path.join(config.dataDir, NEXTAUTH_SECRET_FILE);
  if (existsSync(file)) {
    const secret = (await readFile(file, "utf8")).trim();
    if (secret.length >= 32) return secret;
    logger.warn({ file }, "stored next-auth secret is too short; replacing it");
  }
  await mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  logger.info({ file }, "generated next-auth secret");
  return secret;
}

export type AdminLogin = {
  email: string;
  // Source of the password for the start banner, never the password itself.
  passwordSource: string;
};

/**
 * Ensures an admin can log in: the account from VIGIL_ADMIN_EMAIL and
 * VIGIL_ADMIN_PASSWORD when both are set (created or updated), otherwise a
 * generated password for the first account when the database has no user.
 */
export async function ensureFirstAdmin(config: Config): Promise<AdminLogin> {
  const prisma = getPrisma();
  const passwordFile = path.join(config.dataDir, INITIAL_PASSWORD_FILE);

  if (config.VIGIL_ADMIN_EMAIL && config.VIGIL_ADMIN_PASSWORD) {
    const email = config.VIGIL_ADMIN_EMAIL.toLowerCase();
    const existing = await prisma.user.findUnique({
      where: { email },
      select: { name: true },
    });
    await upsertUser({
      email,
      name: existing?.name ?? "Administrator",
      password: config.VIGIL_ADMIN_PASSWORD,
      role: Role.admin,
    });
    return { email, passwordSource: "the VIGIL_ADMIN_PASSWORD variable" };
  }

  if (config.VIGIL_ADMIN_PASSWORD && !config.VIGIL_ADMIN_EMAIL) {
    logger.warn(
      "VIGIL_ADMIN_PASSWORD is ignored because VIGIL_ADMIN_EMAIL is not set; set both to choose the admin account",
    );
  }

  const userCount = await prisma.user.count();
  if (userCount === 0) {
    const email = (
      config.VIGIL_ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL
    ).toLowerCase();
    const password = randomBytes(18).toString("base64url");
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    await upsertUser({
      email,
      name: "Administrator",
      password,
      role: Role.admin,
    });
    logger.info({ file: passwordFile }, "created the first admin account");
    return { email, passwordSource: `the file ${passwordFile}` };
  }

  const admin = await prisma.user.findFirst({
    where: { role: Role.admin },
    orderBy: { id: "asc" },
    select: { email: true },
  });
  const email = admin?.email ?? "(no admin account)";
  const passwordSource = existsSync(passwordFile)
    ? `the file ${passwordFile}, unless it was changed`
    : "the password you set; reset it with `npm run vigil -- create-admin --email <email>`";
  return { email, passwordSource };
}
