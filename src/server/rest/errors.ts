/**
 * REST errors: one JSON shape, `{error: {code, message, field?}}`, and one mapping from whatever a
 * procedure throws (TRPCError, wrapping an AppError or a ZodError) to an HTTP status. Messages of
 * 4xx errors are the services' own (safe to show, they say what to fix); a 500 says nothing inside.
 */
import { TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { AppError } from "../services/errors";

/** The status behind each error code; the OpenAPI document lists the same table. */
export const REST_ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unprocessable: 422,
  too_many_requests: 429,
  internal: 500,
} as const;

export type RestErrorCode = keyof typeof REST_ERROR_STATUS;

export interface RestErrorBody {
  error: { code: RestErrorCode; message: string; field?: string };
}

export class RestError extends Error {
  constructor(
    public readonly code: RestErrorCode,
    message: string,
    public readonly field?: string,
  ) {
    super(message);
    this.name = "RestError";
  }

  get status(): number {
    return REST_ERROR_STATUS[this.code];
  }

  toBody(): RestErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

const INTERNAL_MESSAGE = "Something went wrong on our side";

const FROM_TRPC: Partial<Record<TRPCError["code"], RestErrorCode>> = {
  PARSE_ERROR: "bad_request",
  BAD_REQUEST: "bad_request",
  UNAUTHORIZED: "unauthorized",
  // Never 403: a row of another workspace does not exist for this caller.
  FORBIDDEN: "not_found",
  NOT_FOUND: "not_found",
  METHOD_NOT_SUPPORTED: "method_not_allowed",
  CONFLICT: "conflict",
  PRECONDITION_FAILED: "conflict",
  PAYLOAD_TOO_LARGE: "payload_too_large",
  UNPROCESSABLE_CONTENT: "unprocessable",
  TOO_MANY_REQUESTS: "too_many_requests",
};

/** Any thrown value as a RestError; `internal` ones are the caller's to log. */
export function toRestError(error: unknown): RestError {
  if (error instanceof RestError) return error;
  if (error instanceof TRPCError) {
    const code = FROM_TRPC[error.code];
    if (!code) return new RestError("internal", INTERNAL_MESSAGE);
    const cause = error.cause;
    if (cause instanceof ZodError) {
      const issue = cause.issues[0];
      const field = issue?.path.map(String).join(".") || undefined;
      const message = issue ? `${field ? `${field}: ` : ""}${issue.message}` : "The request is not valid";
      return new RestError(code, message, field);
    }
    if (cause instanceof AppError) return new RestError(code, cause.message, cause.field);
    return new RestError(code, error.message);
  }
  return new RestError("internal", INTERNAL_MESSAGE);
}
