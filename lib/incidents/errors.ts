import { ApiError } from "@/lib/api/errors";

/**
 * A rejected incident change. It is an ApiError, so the /api/v1 wrapper
 * turns it into a JSON error response with this status, and the server
 * actions of the incident page show its message.
 */
export class IncidentChangeError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    field?: string,
    details?: Record<string, unknown>,
  ) {
    super(status, code, message, { field, logContext: details ?? {} });
    this.name = "IncidentChangeError";
    this.details = details ?? {};
  }

  /** Extra facts for the response body, such as who changed the incident first. */
  readonly details: Record<string, unknown>;
}

/** Largest id of a PostgreSQL integer (int4) column. */
export const MAX_INT4 = 2_147_483_647;

/** Throws a 400 unless `value` is an int4 id above 0. */
export function checkIncidentId(value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_INT4) {
    throw new IncidentChangeError(
      400,
      "invalid_field",
      `incident id must be a positive integer up to ${MAX_INT4}, got ${value}`,
      "id",
    );
  }
}
