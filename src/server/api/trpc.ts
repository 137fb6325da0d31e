/**
 * tRPC setup: the context every procedure gets, error mapping, and the two procedure kinds.
 * `protectedProcedure` is the only door to workspace data: it refuses anonymous callers and hands
 * the procedure the caller's workspaceId, which every service call is scoped by.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { AppServices } from "../app";
import type { Caller } from "../services/auth";
import { CampaignStateError } from "../services/campaignLifecycle";
import { AppError, isDataException } from "../services/errors";
import { WahaError } from "../services/wahaClient";

export interface SessionCookieJar {
  token: string | null;
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface TrpcContext {
  services: AppServices;
  caller: Caller | null;
  cookies: SessionCookieJar | null;
}

const TRPC_CODE: Record<AppError["code"], TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNPROCESSABLE: "UNPROCESSABLE_CONTENT",
};

/** Domain errors become tRPC errors once, here; anything unexpected stays a 500 without detail. */
export function toTrpcError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof AppError) return new TRPCError({ code: TRPC_CODE[error.code], message: error.message, cause: error });
  if (error instanceof CampaignStateError) return new TRPCError({ code: "CONFLICT", message: (error as Error).message, cause: error as Error });
  if (isDataException(error)) {
    return new TRPCError({ code: "BAD_REQUEST", message: "The input contains characters or values that cannot be stored (e.g. a NUL character)", cause: error as Error });
  }
  if (error instanceof WahaError) {
    return new TRPCError({ code: "UNPROCESSABLE_CONTENT", message: error.message, cause: error });
  }
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side", cause: error });
}

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const zodIssue = cause instanceof ZodError ? cause.issues[0] : undefined;
    const field = cause instanceof AppError ? cause.field : zodIssue ? zodIssue.path.join(".") : undefined;
    return {
      ...shape,
      message: zodIssue ? `${zodIssue.path.length ? `${zodIssue.path.join(".")}: ` : ""}${zodIssue.message}` : shape.message,
      data: { ...shape.data, field: field || null, stack: undefined },
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
