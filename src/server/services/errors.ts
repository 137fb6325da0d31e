/**
 * One error type for everything a caller may be told. Other errors (the scheduler's, WAHA's, a
 * campaign in the wrong state, a bug) become one at the API boundary, in one place, which also maps
 * each code to its tRPC code and HTTP status (`toAppError` and `ERROR_MAPPING`, src/server/api/trpc.ts).
 * Messages are safe to show and say what to fix; an INTERNAL one is never shown.
 */
export const APP_ERROR_CODES = [
  /** Malformed or invalid input (400); `field` names it. */
  "BAD_REQUEST",
  /** No caller, or an unknown or revoked key (401). */
  "UNAUTHORIZED",
  /** No such row in the caller's workspace (404): another workspace's row is not found either, never forbidden. */
  "NOT_FOUND",
  /** The row's state does not allow this (409), e.g. pausing a completed campaign, or a name already taken. */
  "CONFLICT",
  /** Well-formed but refused by the domain (422), e.g. a time in the past, or WAHA refusing; `field` when an input is at fault. */
  "UNPROCESSABLE",
  /** Something we depend on is down or busy, e.g. WAHA unreachable (503): the same request may succeed later. */
  "UNAVAILABLE",
  /** Too many attempts, e.g. wrong passwords (429): `retryAfterSeconds` says when to try again. */
  "TOO_MANY_REQUESTS",
  /** A bug (500). */
  "INTERNAL",
] as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export const INTERNAL_MESSAGE = "Something went wrong on our side";

export class AppError extends Error {
  constructor(
    public readonly code: AppErrorCode,
    message: string,
    public readonly field?: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.retryAfterSeconds = options?.retryAfterSeconds ?? null;
  }

  /** When the same request may succeed (HTTP `Retry-After`), for UNAVAILABLE and TOO_MANY_REQUESTS. */
  readonly retryAfterSeconds: number | null;

  /** Worth sending the same request again later: only when what failed was unavailable or throttled. */
  get retryable(): boolean {
    return this.code === "UNAVAILABLE" || this.code === "TOO_MANY_REQUESTS";
  }
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);
export const conflict = (message: string, field?: string) => new AppError("CONFLICT", message, field);
export const badRequest = (message: string, field?: string) => new AppError("BAD_REQUEST", message, field);
export const unprocessable = (message: string, field?: string) => new AppError("UNPROCESSABLE", message, field);

/** PostgreSQL's unique_violation, as thrown by node-postgres and PGlite (possibly wrapped by Drizzle). */
export function isUniqueViolation(error: unknown): boolean {
  return pgErrorCode(error) === "23505";
}

/** SQLSTATE class 22 (data exception): e.g. a NUL character PostgreSQL text cannot hold. */
export function isDataException(error: unknown): boolean {
  return pgErrorCode(error)?.startsWith("22") ?? false;
}

function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
