import {
  incidentNotFound,
  incidentRoute,
  parseIncidentId,
  requireIncidentAccess,
} from "@/lib/incidents/api";
import {
  loadPostmortemExport,
  postmortemFileName,
  renderPostmortemMarkdown,
} from "@/lib/incidents/postmortem-markdown";

/**
 * GET /api/v1/incidents/{id}/postmortem.md: the postmortem as a Markdown
 * download. Before a postmortem is written, its sections read "Not written yet".
 */
export const GET = incidentRoute(
  "GET /api/v1/incidents/{id}/postmortem.md",
  { access: "read" },
  async ({ params, actor, requestId }) => {
    const incidentId = parseIncidentId(params.id);
    await requireIncidentAccess(incidentId, actor);
    const data = await loadPostmortemExport(incidentId);
    if (!data) throw incidentNotFound(incidentId);
    return {
      body: null,
      raw: new Response(renderPostmortemMarkdown(data), {
        headers: {
          "content-type": "text/markdown; charset=utf-8",
          "content-disposition": `attachment; filename="${postmortemFileName(incidentId)}"`,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
          "x-request-id": requestId,
        },
      }),
    };
  },
);
