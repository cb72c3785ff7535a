import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { cache } from "react";

import { authOptions } from "@/lib/auth/options";
import { roleAllows } from "@/lib/auth/roles";
import { getPrisma } from "@/lib/db";
import type { Role } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";

// Session helpers for server components, layouts and server actions.

export type SessionUser = {
  id: number;
  name: string;
  email: string;
  role: Role;
};

/**
 * Checks that `role` may do what `minRole` may: admin passes every check,
 * responder and manager each pass their own and viewer (see lib/auth/roles.ts).
 */
export function hasRole(role: Role, minRole: Role): boolean {
  return roleAllows(role, minRole);
}

export class ForbiddenError extends Error {
  constructor(
    readonly requiredRole: Role,
    readonly user: SessionUser,
  ) {
    super(
      `This needs the ${requiredRole} role or above; ${user.email} has the ${user.role} role`,
    );
    this.name = "ForbiddenError";
  }
}

/**
 * Returns the signed-in user as stored in the database now, or null when
 * the request has no session or the session's user no longer exists. Cached per
 * request, so a layout and its page share one lookup.
 */
export const getSessionUser = cache(async (): Promise<SessionUser | null> => {
  const session = await getServerSession(authOptions);
  const userId = session?.user?.id;
  if (!userId) return null;

  const user = await getPrisma().user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, email: true, role: true },
  });
  if (!user) {
    logger.warn({ userId }, "session refers to a deleted user");
    return null;
  }
  return user;
});

/**
 * Returns the signed-in user. Redirects to /login when the request has no
 * session, and throws ForbiddenError when the user's role is below `minRole`.
 */
export async function requireUser(
  minRole: Role = "viewer",
): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) redirect("/login");

  if (!hasRole(user.role, minRole)) {
    logger.warn(
      { userId: user.id, role: user.role, requiredRole: minRole },
      "request rejected: role too low",
    );
    throw new ForbiddenError(minRole, user);
  }
  return user;
}
