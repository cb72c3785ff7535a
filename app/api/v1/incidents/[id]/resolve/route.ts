import { resolveIncident } from "@/lib/incidents/actions";
import { statusActionRoute } from "@/lib/incidents/api";

/**
 * POST /api/v1/incidents/{id}/resolve, with an empty body or {}: moves a
 * triggered or acknowledged incident to resolved.
 */
export const POST = statusActionRoute("resolve", resolveIncident);
