// Errors that API route handlers throw on purpose. The route wrapper in
// lib/api/handler.ts turns each one into a JSON response of the form
// { error: { code, message, field?, requestId } } and logs it at warn.

export type ApiErrorOptions = {
  /** Path of the offending request field, such as "series[2].points[5][1]". */
  field?: string;
  /** Extra response headers, such as WWW-Authenticate on a 401. */
  headers?: Record<string, string>;
  /** Ids to add to the warn log line (never a secret). */
  logContext?: Record<string, unknown>;
};

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly headers: Record<string, string>;
  readonly logContext: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.headers = options.headers ?? {};
    this.logContext = options.logContext ?? {};
  }
}

export function invalidField(field: string, message: string): ApiError {
  return new ApiError(400, "invalid_field", message, { field });
}

export type ApiErrorBody = {
  error: { code: string; message: string; field?: string; requestId: string };
};

export function apiErrorBody(error: ApiError, requestId: string): ApiErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      requestId,
    },
  };
}
