/**
 * tRPC setup: the context every procedure gets, the one error mapping, and the two procedure kinds.
 * `protectedProcedure` is the only door to workspace data: it refuses anonymous callers and hands
 * the procedure the caller's workspaceId, which every service call is scoped by.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { AppServices } from "../app";
import type { Caller } from "../services/auth";
import { CampaignStateError } from "../services/campaignLifecycle";
import { AppError, type AppErrorCode, INTERNAL_MESSAGE, isDataException } from "../services/errors";
import { SchedulerError } from "../services/scheduling/schedulerError";
import { WahaError } from "../services/waha/errors";

export interface SessionCookieJar {
  token: string | null;
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface TrpcContext {
  services: AppServices;
  caller: Caller | null;
  cookies: SessionCookieJar | null;
  /** The client's IP address (src/server/http/proxy.ts), for the log-in throttle; null when not over HTTP. */
  clientIp?: string | null;
}

/**
 * The one mapping of what a caller is told: each AppError code as a tRPC code, an HTTP status and
 * the REST body's `code` (src/server/rest/errors.ts reads it; docs/rest-api.md shows it as a table).
 * The HTTP status is the one tRPC's own HTTP adapter gives the tRPC code (a test checks).
 */
export const ERROR_MAPPING = {
  BAD_REQUEST: { trpc: "BAD_REQUEST", http: 400, rest: "bad_request" },
  UNAUTHORIZED: { trpc: "UNAUTHORIZED", http: 401, rest: "unauthorized" },
  NOT_FOUND: { trpc: "NOT_FOUND", http: 404, rest: "not_found" },
  CONFLICT: { trpc: "CONFLICT", http: 409, rest: "conflict" },
  UNPROCESSABLE: { trpc: "UNPROCESSABLE_CONTENT", http: 422, rest: "unprocessable" },
  UNAVAILABLE: { trpc: "SERVICE_UNAVAILABLE", http: 503, rest: "unavailable" },
  TOO_MANY_REQUESTS: { trpc: "TOO_MANY_REQUESTS", http: 429, rest: "too_many_requests" },
  INTERNAL: { trpc: "INTERNAL_SERVER_ERROR", http: 500, rest: "internal" },
} as const satisfies Record<AppErrorCode, { trpc: TRPCError["code"]; http: number; rest: string }>;

/** tRPC's own errors (validation, no caller) as AppError codes; a code not listed here is a bug. */
const FROM_TRPC_CODE: Partial<Record<TRPCError["code"], AppErrorCode>> = {
  PARSE_ERROR: "BAD_REQUEST",
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  // Never 403: a row of another workspace does not exist for this caller.
  FORBIDDEN: "NOT_FOUND",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PRECONDITION_FAILED: "CONFLICT",
  UNPROCESSABLE_CONTENT: "UNPROCESSABLE",
  SERVICE_UNAVAILABLE: "UNAVAILABLE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
};

/**
 * Anything thrown, as the AppError the caller is told about: the one place where the other error
 * classes are converted. Whatever is not recognised is INTERNAL, its detail kept as `cause` for the log.
 */
export function toAppError(error: unknown): AppError {
  // An INTERNAL error's own message is for the log, never for the caller.
  if (error instanceof AppError) return error.code === "INTERNAL" && error.message !== INTERNAL_MESSAGE ? internal(error) : error;
  if (error instanceof TRPCError) {
    // A procedure's own throw arrives wrapped as INTERNAL_SERVER_ERROR: what it wraps decides.
    if (error.code === "INTERNAL_SERVER_ERROR") return error.cause ? toAppError(error.cause) : internal(error);
    if (error.cause instanceof AppError) return error.cause;
    if (error.cause instanceof ZodError) return fromZodError(error.cause);
    const code = FROM_TRPC_CODE[error.code];
    return code ? new AppError(code, error.message, undefined, { cause: error }) : internal(error);
  }
  if (error instanceof ZodError) return fromZodError(error);
  if (error instanceof CampaignStateError) return new AppError("CONFLICT", error.message, undefined, { cause: error });
  if (error instanceof SchedulerError) return fromSchedulerError(error);
  if (error instanceof WahaError) return fromWahaError(error);
  if (isDataException(error)) {
    return new AppError("BAD_REQUEST", "The input contains characters or values that cannot be stored (e.g. a NUL character)", undefined, { cause: error });
  }
  return internal(error);
}

const internal = (cause: unknown) => new AppError("INTERNAL", INTERNAL_MESSAGE, undefined, { cause });

/** The first issue names the field (a dotted path into arrays: `contacts.0.phone`). */
function fromZodError(error: ZodError): AppError {
  const issue = error.issues[0];
  // An unknown field (strictInput.ts) is named by the key itself; its message already says it.
  if (issue?.code === "unrecognized_keys") {
    const field = [...issue.path, issue.keys[0]].map(String).join(".");
    return new AppError("BAD_REQUEST", issue.message, field, { cause: error });
  }
  const field = issue?.path.map(String).join(".") || undefined;
  const message = issue ? `${field ? `${field}: ` : ""}${issue.message}` : "The request is not valid";
  return new AppError("BAD_REQUEST", message, field, { cause: error });
}

function fromSchedulerError(error: SchedulerError): AppError {
  switch (error.code) {
    case "NOT_IN_FUTURE":
      return new AppError("UNPROCESSABLE", error.message, "scheduledAt", { cause: error });
    case "INVALID_DATE":
      // As zod's own "Not a real date and time": a malformed value, not a refusal.
      return new AppError("BAD_REQUEST", error.message, "scheduledAt", { cause: error });
    case "STOPPED":
    case "NOT_INITIALIZED":
      // This process is starting or shutting down: another request (or this one, shortly) succeeds.
      return new AppError("UNAVAILABLE", "Scheduling is not available right now (the server is starting or stopping): try again shortly", undefined, { cause: error });
    case "MISCONFIGURED":
      return internal(error);
  }
}

/**
 * WAHA down or slow (`transient`: unreachable, a timeout, a 5xx, a 429) is UNAVAILABLE: retry later.
 * Every other kind is WAHA refusing, UNPROCESSABLE: the same request would be refused again. That
 * includes `session_not_found`: the number exists in the caller's workspace (a 404 would say it does
 * not), it is WAHA that has no session for it; `unauthorized`: WAHA refused this app's key, not the
 * caller's, so a 401 would mislead too; and `unexpected`, an answer we cannot read, which the same
 * call would get again.
 */
function fromWahaError(error: WahaError): AppError {
  return new AppError(error.kind === "transient" ? "UNAVAILABLE" : "UNPROCESSABLE", error.message, undefined, { cause: error });
}

/** Errors become tRPC errors once, here; an INTERNAL one says nothing and keeps the original for the log. */
export function toTrpcError(error: unknown): TRPCError {
  if (error instanceof TRPCError && error.code !== "INTERNAL_SERVER_ERROR") return error;
  const appError = toAppError(error);
  const cause = appError.code === "INTERNAL" && appError.cause instanceof Error ? appError.cause : appError;
  return new TRPCError({ code: ERROR_MAPPING[appError.code].trpc, message: appError.message, cause });
}

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    // The code is settled (mapErrors); this only adds what the AppError says: the field, retryable.
    const appError = error.code === "INTERNAL_SERVER_ERROR" ? null : toAppError(error);
    return {
      ...shape,
      message: appError?.message ?? INTERNAL_MESSAGE,
      data: { ...shape.data, field: appError?.field ?? null, retryable: appError?.retryable ?? false, stack: undefined },
    };
  },
});

const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  // A thrown domain error arrives wrapped as INTERNAL_SERVER_ERROR; give it its real code.
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR" && result.error.cause) {
    throw toTrpcError(result.error.cause);
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.caller) throw new TRPCError({ code: "UNAUTHORIZED", message: "Log in first" });
  return next({ ctx: { ...ctx, caller: ctx.caller, workspaceId: ctx.caller.workspaceId } });
});
