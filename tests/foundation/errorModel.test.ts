/**
 * The one error model (src/server/services/errors.ts) and its one mapping (src/server/api/trpc.ts):
 * each AppError code as a tRPC code and an HTTP status, each foreign error class as the right
 * AppError, and the REST body built from it. Over HTTP: tests/rest/errors.test.ts.
 */
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ERROR_MAPPING, toAppError, toTrpcError } from "~/server/api/trpc";
import { toRestError } from "~/server/rest/errors";
import { CampaignStateError } from "~/server/services/campaignLifecycle";
import { APP_ERROR_CODES, AppError, type AppErrorCode } from "~/server/services/errors";
import { SchedulerError, type SchedulerErrorCode } from "~/server/services/scheduler";
import { WahaError, type WahaErrorKind } from "~/server/services/waha/client";

const EXPECTED: Record<AppErrorCode, { trpc: TRPCError["code"]; http: number; rest: string }> = {
  BAD_REQUEST: { trpc: "BAD_REQUEST", http: 400, rest: "bad_request" },
  UNAUTHORIZED: { trpc: "UNAUTHORIZED", http: 401, rest: "unauthorized" },
  NOT_FOUND: { trpc: "NOT_FOUND", http: 404, rest: "not_found" },
  CONFLICT: { trpc: "CONFLICT", http: 409, rest: "conflict" },
  UNPROCESSABLE: { trpc: "UNPROCESSABLE_CONTENT", http: 422, rest: "unprocessable" },
  UNAVAILABLE: { trpc: "SERVICE_UNAVAILABLE", http: 503, rest: "unavailable" },
  TOO_MANY_REQUESTS: { trpc: "TOO_MANY_REQUESTS", http: 429, rest: "too_many_requests" },
  INTERNAL: { trpc: "INTERNAL_SERVER_ERROR", http: 500, rest: "internal" },
};

describe("each AppError code", () => {
  it.each(APP_ERROR_CODES)("%s: one tRPC code, one HTTP status for tRPC and for REST", (code) => {
    expect(ERROR_MAPPING[code]).toEqual(EXPECTED[code]);
    const error = new AppError(code, "What to fix", "name");
    const trpc = toTrpcError(error);
    expect(trpc.code).toBe(EXPECTED[code].trpc);
    // The dashboard's /api/trpc answers with tRPC's own status for that code: the same as REST's.
    expect(getHTTPStatusCodeFromError(trpc)).toBe(EXPECTED[code].http);
    const rest = toRestError(trpc);
    expect(rest.status).toBe(EXPECTED[code].http);
    expect(rest.code).toBe(EXPECTED[code].rest);
  });

  it("the REST body: the message and field, and retryable only on a 503 or a 429", () => {
    expect(toRestError(toTrpcError(new AppError("UNPROCESSABLE", "The scheduled time has passed", "scheduledAt"))).toBody()).toEqual({
      error: { code: "unprocessable", message: "The scheduled time has passed", field: "scheduledAt" },
    });
    expect(toRestError(new AppError("UNAVAILABLE", "WAHA is down")).toBody()).toEqual({
      error: { code: "unavailable", message: "WAHA is down", retryable: true },
    });
    for (const code of APP_ERROR_CODES) expect(new AppError(code, "x").retryable).toBe(code === "UNAVAILABLE" || code === "TOO_MANY_REQUESTS");
  });

  it("an INTERNAL error never tells its detail, and keeps it for the log", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id') at campaigns.ts:42");
    const trpc = toTrpcError(bug);
    expect(trpc.code).toBe("INTERNAL_SERVER_ERROR");
    expect(trpc.message).toBe("Something went wrong on our side");
    expect(trpc.cause).toBe(bug);
    expect(toRestError(bug).toBody()).toEqual({ error: { code: "internal", message: "Something went wrong on our side" } });
    expect(toAppError(new AppError("INTERNAL", "the pool is exhausted")).message).toBe("Something went wrong on our side");
  });
});

describe("each foreign error becomes the right AppError", () => {
  const expectApp = (error: unknown, code: AppErrorCode, more: { field?: string; message?: string | RegExp } = {}) => {
    const app = toAppError(error);
    expect(app.code).toBe(code);
    expect(app.field).toBe(more.field);
    if (typeof more.message === "string") expect(app.message).toBe(more.message);
    else if (more.message) expect(app.message).toMatch(more.message);
    // A procedure's throw reaches the mapping wrapped by tRPC: the same answer.
    expect(toAppError(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: error instanceof Error ? error : undefined })).code).toBe(
      error instanceof Error ? code : "INTERNAL",
    );
    return app;
  };

  it("a campaign in the wrong state: CONFLICT, with the status in the message", () => {
    expectApp(new CampaignStateError("Completed", "The campaign is Completed and cannot be paused"), "CONFLICT", {
      message: "The campaign is Completed and cannot be paused",
    });
  });

  it.each<[SchedulerErrorCode, AppErrorCode, string | undefined]>([
    ["NOT_IN_FUTURE", "UNPROCESSABLE", "scheduledAt"],
    ["INVALID_DATE", "BAD_REQUEST", "scheduledAt"],
    ["STOPPED", "UNAVAILABLE", undefined],
    ["NOT_INITIALIZED", "UNAVAILABLE", undefined],
    ["MISCONFIGURED", "INTERNAL", undefined],
  ])("SchedulerError %s: %s", (schedulerCode, code, field) => {
    const app = expectApp(new SchedulerError("scheduler says no", schedulerCode), code, field ? { field } : {});
    if (code === "UNAVAILABLE") expect(app.message).toMatch(/try again/);
  });

  it.each<[WahaErrorKind, AppErrorCode]>([
    ["transient", "UNAVAILABLE"],
    ["unauthorized", "UNPROCESSABLE"],
    ["session_not_found", "UNPROCESSABLE"],
    ["session_not_working", "UNPROCESSABLE"],
    ["invalid_request", "UNPROCESSABLE"],
    ["unexpected", "UNPROCESSABLE"],
  ])("WahaError %s: %s", (kind, code) => {
    const message = `WAHA createSession failed: ${kind}`;
    const app = expectApp(new WahaError({ kind, operation: "createSession", message }), code, { message });
    expect(app.retryable).toBe(kind === "transient");
  });

  it("a data exception (SQLSTATE 22xxx, possibly wrapped): BAD_REQUEST", () => {
    const pgError = Object.assign(new Error("invalid byte sequence for encoding \"UTF8\": 0x00"), { code: "22021" });
    expectApp(new Error("Failed query", { cause: pgError }), "BAD_REQUEST", { message: /cannot be stored/ });
  });

  it("zod's validation: BAD_REQUEST naming the field, as tRPC reports it", () => {
    const parsed = z.object({ contacts: z.array(z.object({ phone: z.string() })) }).safeParse({ contacts: [{ phone: 1 }] });
    const zodError = parsed.error!;
    expectApp(zodError, "BAD_REQUEST", { field: "contacts.0.phone", message: /^contacts\.0\.phone: / });
    expect(toAppError(new TRPCError({ code: "BAD_REQUEST", cause: zodError })).field).toBe("contacts.0.phone");
  });

  it("tRPC's own refusals keep their meaning; a forbidden row is not found", () => {
    expect(toAppError(new TRPCError({ code: "UNAUTHORIZED", message: "Log in first" }))).toMatchObject({ code: "UNAUTHORIZED", message: "Log in first" });
    expect(toAppError(new TRPCError({ code: "FORBIDDEN" })).code).toBe("NOT_FOUND");
    expect(toAppError(new TRPCError({ code: "PARSE_ERROR" })).code).toBe("BAD_REQUEST");
  });

  it("anything else: INTERNAL", () => {
    expectApp(new Error("boom"), "INTERNAL", { message: "Something went wrong on our side" });
    expect(toAppError("a string thrown").code).toBe("INTERNAL");
  });
});
