import { ApiError } from "@/lib/api/errors";

/**
 * A rejected feedback request. It is an ApiError, so the /api/v1 wrapper
 * turns it into a JSON error response with this status, and the server
 * action reports its message and field.
 */
export class FeedbackError extends ApiError {
  constructor(status: number, code: string, message: string, field?: string) {
    super(status, code, message, { field });
    this.name = "FeedbackError";
  }
}
