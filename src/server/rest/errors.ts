/**
 * REST errors: one JSON shape, `{error: {code, message, field?, retryable?}}`. What a procedure
 * throws is told through the one mapping of the tRPC layer (`toAppError`, `ERROR_MAPPING` in
 * src/server/api/trpc.ts); this file adds only what HTTP itself can refuse before a procedure runs
 * (no such method, a body too large). Messages of 4xx errors are the services' own (safe to show,
 * they say what to fix); a 500 says nothing inside. A 503 says `retryable: true`.
 */
import { ERROR_MAPPING, toAppError } from "../api/trpc";

type MappedCode = (typeof ERROR_MAPPING)[keyof typeof ERROR_MAPPING];

/** The status behind each error code; the OpenAPI document lists the same table. */
export const REST_ERROR_STATUS = {
  ...(Object.fromEntries(Object.values(ERROR_MAPPING).map(({ rest, http }) => [rest, http])) as {
    [C in MappedCode as C["rest"]]: C["http"];
  }),
  // HTTP's own refusals, answered by the REST layer before any procedure runs.
  method_not_allowed: 405,
  payload_too_large: 413,
} as const;

export type RestErrorCode = keyof typeof REST_ERROR_STATUS;

export interface RestErrorBody {
  error: { code: RestErrorCode; message: string; field?: string; retryable?: true };
}

export class RestError extends Error {
  constructor(
    public readonly code: RestErrorCode,
    message: string,
    public readonly field?: string,
    /** The same request may succeed later (AppError.retryable). */
    public readonly retryable = false,
  ) {
    super(message);
    this.name = "RestError";
  }

  get status(): number {
    return REST_ERROR_STATUS[this.code];
  }

  toBody(): RestErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
        ...(this.retryable ? { retryable: true as const } : {}),
      },
    };
  }
}

/** Any thrown value as a RestError; `internal` ones are the caller's to log. */
export function toRestError(error: unknown): RestError {
  if (error instanceof RestError) return error;
  const appError = toAppError(error);
  return new RestError(ERROR_MAPPING[appError.code].rest, appError.message, appError.field, appError.retryable);
}
