import { randomUUID } from "node:crypto";

import { NextResponse, type NextRequest } from "next/server";

import { logger } from "@/lib/logger";

// Runs before routing. A path with invalid percent-encoding (such as
// /api/v1/services/%ED%A0%80, not UTF-8) makes Next.js fail while it decodes
// route parameters, with a bare 500 and no log line. Such a path is
// rejected here with a 400 that names the problem.

export function proxy(request: NextRequest): NextResponse | undefined {
  const path = request.nextUrl.pathname;
  try {
    decodeURIComponent(path);
    return undefined;
  } catch {
    const requestId = randomUUID();
    logger.warn(
      { requestId, path: path.slice(0, 200), status: 400 },
      "rejected a request path with invalid percent-encoding",
    );
    return NextResponse.json(
      {
        error: {
          code: "invalid_path",
          message:
            "the request path has invalid percent-encoding; " +
            "encode it as UTF-8 with %XX escapes",
          requestId,
        },
      },
      { status: 400, headers: { "x-request-id": requestId } },
    );
  }
}

export const config = { matcher: "/:path*" };
