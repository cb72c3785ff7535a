import type { Role } from "@/lib/generated/prisma/enums";

// The role order, in a module without server-only imports so that route
// authenticators, the CLI and tests share it with lib/auth/session.ts.
//
// The roles form a diamond, not a line: viewers read; responders also act
// on incidents; managers also export and schedule reports; admins may do
// everything. A responder is not a manager and a manager is not a
// responder, so neither passes a check for the other.

export const ROLES = ["viewer", "responder", "manager", "admin"] as const satisfies readonly Role[];

const GRANTS: Record<Role, readonly Role[]> = {
  viewer: ["viewer"],
  responder: ["viewer", "responder"],
  manager: ["viewer", "manager"],
  admin: ["viewer", "responder", "manager", "admin"],
};

/** Checks that `role` may do what `minRole` may. */
export function roleAllows(role: Role, minRole: Role): boolean {
  return GRANTS[role]?.includes(minRole) ?? false;
}

/** Roles that may export reports from the UI or the API. */
export const REPORT_EXPORT_ROLES: readonly Role[] = ["responder", "manager", "admin"];

export function canExportReports(role: Role): boolean {
  return REPORT_EXPORT_ROLES.includes(role);
}

/**
 * Roles that may read, create, edit and delete report schedules. Responders
 * export reports but do not schedule them, because scheduled mail goes to
 * other people through the notification channels.
 */
export const REPORT_SCHEDULE_ROLES: readonly Role[] = ["manager", "admin"];

export function canScheduleReports(role: Role): boolean {
  return REPORT_SCHEDULE_ROLES.includes(role);
}
