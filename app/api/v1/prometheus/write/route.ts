import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { receiveRemoteWrite } from "@/lib/ingest/prometheus/remote-write";

/** Receives Prometheus remote write 1.0 requests; see docs/api.md. */
export const POST = apiRoute(
  { route: "POST /api/v1/prometheus/write", scope: TokenScope.ingest },
  receiveRemoteWrite,
);
