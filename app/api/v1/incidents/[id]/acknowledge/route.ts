import { acknowledgeIncident } from "@/lib/incidents/actions";
import { statusActionRoute } from "@/lib/incidents/api";

/**
 * POST /api/v1/incidents/{id}/acknowledge, with an empty body or {}: moves a
 * triggered incident to acknowledged.
 */
export const POST = statusActionRoute("acknowledge", acknowledgeIncident);
