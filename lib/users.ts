import { z } from "zod";

import { hashPassword, MIN_PASSWORD_LENGTH } from "@/lib/auth/password";
import { getPrisma } from "@/lib/db";
import { Role } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";

export const newUserSchema = z.object({
  email: z.string().email().transform((email) => email.toLowerCase()),
  name: z.string().trim().min(1).max(200),
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, {
      message: `must be at least ${MIN_PASSWORD_LENGTH} characters`,
    })
    // bcrypt reads only the first 72 bytes, so a longer password would
    // accept any text after them.
    .refine((password) => Buffer.byteLength(password, "utf8") <= 72, {
      message: "must be at most 72 bytes in UTF-8 (bcrypt's limit)",
    }),
  role: z.enum([Role.admin, Role.manager, Role.responder, Role.viewer]),
});

export type NewUser = z.input<typeof newUserSchema>;

/**
 * Creates a user, or updates the name, password and role of the user with
 * that email. Returns the user's id and whether it was created.
 */
export async function upsertUser(
  input: NewUser,
): Promise<{ id: number; created: boolean }> {
  const user = newUserSchema.parse(input);
  const passwordHash = await hashPassword(user.password);
  const prisma = getPrisma();
  const existing = await prisma.user.findUnique({
    where: { email: user.email },
    select: { id: true },
  });
  const saved = await prisma.user.upsert({
    where: { email: user.email },
    create: { email: user.email, name: user.name, passwordHash, role: user.role },
    update: { name: user.name, passwordHash, role: user.role },
    select: { id: true },
  });
  logger.info(
    { userId: saved.id, role: user.role, created: !existing },
    existing ? "updated user" : "created user",
  );
  return { id: saved.id, created: !existing };
}

/** Raised by createUser when a user with that email exists already. */
export class UserExistsError extends Error {
  constructor(readonly email: string) {
    super(`a user with email ${email} exists already`);
    this.name = "UserExistsError";
  }
}

/**
 * Creates a user and returns its id. Unlike upsertUser it never changes an
 * existing user: the unique index on email makes a second create with the
 * same address fail with UserExistsError, also when two run at once.
 */
export async function createUser(input: NewUser): Promise<{ id: number }> {
  const user = newUserSchema.parse(input);
  const passwordHash = await hashPassword(user.password);
  try {
    const created = await getPrisma().user.create({
      data: { email: user.email, name: user.name, passwordHash, role: user.role },
      select: { id: true },
    });
    logger.info({ userId: created.id, role: user.role }, "created user");
    return created;
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") throw new UserExistsError(user.email);
    throw error;
  }
}

export type UserListEntry = { id: number; name: string; role: Role; email?: string };

/** Lists all users by name, with their email addresses only when `withEmail`. */
export async function listUsers(options: { withEmail: boolean }): Promise<UserListEntry[]> {
  const users = await getPrisma().user.findMany({
    select: { id: true, name: true, role: true, email: true },
    orderBy: [{ name: "asc" }, { id: "asc" }],
  });
  return users.map(({ email, ...user }) => (options.withEmail ? { ...user, email } : user));
}
