import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute, type ApiResult } from "@/lib/api/handler";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { canExportReports } from "@/lib/auth/roles";
import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db";
import { authenticateFeedbackRequest } from "@/lib/feedback/actor";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { publicUrl } from "@/lib/notifications/settings";
import { TooManyIncidentsError } from "@/lib/reports/incidents";
import {
  buildReliabilityReport,
  reportFileName,
  type ReliabilityReport,
} from "@/lib/reports/report";
import {
  resolveReportSelection,
  type ReportSelection,
} from "@/lib/reports/selection";

// Shared parts of the /api/v1/reports routes: who may export, the query
// parameters, and the download response.
//
// Exporting takes an admin-scope API token, or the session of a responder,
// manager or admin (lib/auth/roles.ts). Viewers get 403.

export type ReportActor =
  | { type: "user"; id: number; role: string }
  | { type: "token"; id: number; serviceId: number | null };


/** Authenticates a report request; throws ApiError 401 or 403. */
export async function authenticateReportRequest(
  request: Request,
): Promise<ReportActor> {
  if (request.headers.has("authorization")) {
    const token = await authenticateBearer(request);
    requireScope(token, TokenScope.admin);
    return { type: "token", id: token.id, serviceId: token.serviceId };
  }
  // A read: the session needs neither a JSON body nor an Origin check, and
  // the user's role is read below.
  const actor = await authenticateFeedbackRequest(request, "read");
  const user = await getPrisma().user.findUnique({
    where: { id: actor.id },
    select: { role: true },
  });
  const role = user?.role ?? "viewer";
  if (!canExportReports(role)) {
    throw new ApiError(
      403,
      "forbidden",
      `your role (${role}) cannot export reports; it needs the responder, manager or admin role`,
      { logContext: { userId: actor.id } },
    );
  }
  return { type: "user", id: actor.id, role };
}

/**
 * Limits a service-bound token to its service: no services parameter means
 * that service, and naming another one is a 403.
 */
function applyTokenBinding(
  actor: ReportActor,
  selection: ReportSelection,
  boundSlug: string | null,
): ReportSelection {
  if (actor.type !== "token" || actor.serviceId === null) return selection;
  const bound = selection.services.find((service) => service.id === actor.serviceId);
  const others = selection.services.filter((service) => service.id !== actor.serviceId);
  if (!selection.all && others.length > 0) {
    throw new ApiError(
      403,
      "forbidden",
      `this API token is bound to service ${JSON.stringify(boundSlug)} and cannot export ${JSON.stringify(others[0]!.slug)}`,
      { field: "services" },
    );
  }
  return { ...selection, services: bound ? [bound] : [], all: false };
}

async function boundServiceSlug(actor: ReportActor): Promise<string | null> {
  if (actor.type !== "token" || actor.serviceId === null) return null;
  const service = await getPrisma().service.findUnique({
    where: { id: actor.serviceId },
    select: { slug: true },
  });
  return service?.slug ?? null;
}

export type ReportFile = { body: string | Buffer; contentType: string; extension: string };

/**
 * Wraps a report route: authenticates, reads the selection from the query,
 * builds the report, and sends what `render` makes of it as a download.
 */
export function reportRoute(
  route: string,
  kind: string,
  render: (report: ReliabilityReport, baseUrl: string) => Promise<ReportFile> | ReportFile,
) {
  return unauthenticatedRoute(route, async ({ request, requestId, log }): Promise<ApiResult> => {
    const actor = await authenticateReportRequest(request);
    const query = new URL(request.url).searchParams;
    const now = new Date();
    const selection = applyTokenBinding(
      actor,
      await resolveReportSelection(
        {
          range: query.get("range"),
          from: query.get("from"),
          to: query.get("to"),
          services: query.get("services"),
          teams: query.get("teams"),
        },
        now,
      ),
      await boundServiceSlug(actor),
    );

    const startedAt = performance.now();
    let report: ReliabilityReport;
    try {
      report = await buildReliabilityReport(selection, now);
    } catch (error) {
      if (!(error instanceof TooManyIncidentsError)) throw error;
      throw new ApiError(
        422,
        "too_many_incidents",
        `the selection has more than ${error.limit} incidents; choose a shorter period or fewer services`,
        { field: "from" },
      );
    }
    const file = await render(report, publicUrl(getConfig()));
    log.info(
      {
        actor: { type: actor.type, id: actor.id },
        from: report.from.toISOString(),
        to: report.to.toISOString(),
        services: report.services.length,
        incidents: report.incidents.length,
        bytes: file.body.length,
        durationMs: Math.round(performance.now() - startedAt),
      },
      "exported report",
    );
    return {
      body: null,
      raw: new Response(new Uint8Array(Buffer.from(file.body)), {
        headers: {
          "content-type": file.contentType,
          "content-disposition": `attachment; filename="${reportFileName(kind, report, file.extension)}"`,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
          "x-request-id": requestId,
        },
      }),
    };
  });
}
