/**
 * One error type for everything a caller may be told. Codes map once to tRPC codes and HTTP
 * statuses (src/server/api/errors.ts); messages are safe to show and say what to fix.
 */
export type AppErrorCode = "BAD_REQUEST" | "UNAUTHORIZED" | "NOT_FOUND" | "CONFLICT" | "UNPROCESSABLE";

export class AppError extends Error {
  constructor(
    public readonly code: AppErrorCode,
    message: string,
    public readonly field?: string,
  ) {
    super(message);
    this.name = "AppError";
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
