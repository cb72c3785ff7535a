import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import {
  isProtobufRequest,
  receiveOtlpMetrics,
  toProtobufErrorResponse,
} from "@/lib/ingest/otlp/receiver";

const handle = apiRoute(
  { route: "POST /api/v1/otlp/v1/metrics", scope: TokenScope.ingest },
  receiveOtlpMetrics,
);

/**
 * Receives OTLP/HTTP metrics in protobuf or JSON; see docs/api.md. Errors
 * to protobuf requests, authentication errors included, are re-encoded as
 * google.rpc.Status messages.
 */
export async function POST(
  request: Request,
  context?: Parameters<typeof handle>[1],
): Promise<Response> {
  const response = await handle(request, context);
  if (response.status < 400 || !isProtobufRequest(request)) return response;
  return toProtobufErrorResponse(response);
}
