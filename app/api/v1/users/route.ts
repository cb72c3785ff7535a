import { unauthenticatedRoute } from "@/lib/api/handler";
import { authenticateModelRequest } from "@/lib/models/request-auth";
import { listUsers } from "@/lib/users";

/**
 * Lists the users (id, name, role) so API clients can find the ids that
 * assignees, schedule members, follow-up owners and overrides take. Any
 * signed-in user and any admin-scope token may read it; ingest tokens get
 * 403. Email addresses are included only for admins and for admin tokens
 * not bound to a service.
 */
export const GET = unauthenticatedRoute("GET /api/v1/users", async ({ request, requestId }) => {
  const actor = await authenticateModelRequest(request, { minRole: "viewer", scope: "admin" });
  const withEmail = actor.type === "token" ? actor.serviceId === null : actor.role === "admin";
  const users = await listUsers({ withEmail });
  return { body: { users, requestId } };
});
