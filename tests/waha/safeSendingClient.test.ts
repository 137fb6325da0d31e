/**
 * The client calls safe sending needs (sendSeen, typing, check-exists, the new-chat capping) and
 * the `restricted` send failure (WhatsApp's error 463), each against WAHA's answers as WAHA's
 * issues show them, served by a scripted server so the request the client makes is visible too.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WahaApiClient, WahaError, toChatId } from "~/server/services/waha/client";
import { classifySendFailure, describeSendFailure } from "~/server/services/waha/errors";
import { json, startTestServer, type ReceivedRequest, type TestServer } from "./helpers";

const CHAT = toChatId("+14155550123");
let server: TestServer | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
});

async function clientAnswering(answer: (request: ReceivedRequest) => { status: number; body?: unknown }): Promise<WahaApiClient> {
  server = await startTestServer((request, res) => {
    const { status, body } = answer(request);
    if (body === undefined) {
      res.writeHead(status, { "content-length": 0 });
      res.end();
    } else json(res, status, body);
  });
  return new WahaApiClient({ baseUrl: server.url, timeoutMs: 2_000 });
}

async function sendError(client: WahaApiClient): Promise<WahaError> {
  const error = await client.sendText({ session: "default", chatId: CHAT, text: "hello" }).then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WahaError);
  return error as WahaError;
}

/** GOWS's answer to a send refused with WhatsApp's 463 (waha#1904, waha#2219). */
const GOWS_463 = {
  statusCode: 500,
  timestamp: "2026-08-08T12:00:00.000Z",
  exception: { message: "2 UNKNOWN: server returned error 463", code: 2, details: "server returned error 463", metadata: {}, name: "Error" },
};

describe("sendSeen, typing and check-exists send what WAHA's OpenAPI document describes", () => {
  it("POST /api/sendSeen, /api/startTyping, /api/stopTyping with {session, chatId}", async () => {
    const client = await clientAnswering(() => ({ status: 201, body: {} }));
    await client.sendSeen({ session: "s1", chatId: CHAT });
    await client.sendSeen({ session: "s1", chatId: CHAT, messageIds: ["false_14155550123@c.us_AAA"] });
    await client.startTyping({ session: "s1", chatId: CHAT });
    await client.stopTyping({ session: "s1", chatId: CHAT });
    expect(server!.requests.map((request) => [request.method, request.url, request.json])).toEqual([
      ["POST", "/api/sendSeen", { session: "s1", chatId: CHAT }],
      ["POST", "/api/sendSeen", { session: "s1", chatId: CHAT, messageIds: ["false_14155550123@c.us_AAA"] }],
      ["POST", "/api/startTyping", { session: "s1", chatId: CHAT }],
      ["POST", "/api/stopTyping", { session: "s1", chatId: CHAT }],
    ]);
  });

  it("check-exists asks with the phone's digits and returns WAHA's chatId (Brazil's 9th digit fixed there)", async () => {
    const client = await clientAnswering(() => ({ status: 200, body: { numberExists: true, chatId: "551199998888@c.us" } }));
    expect(await client.checkNumberExists("s1", "+55 11 9 9999-8888")).toEqual({ numberExists: true, chatId: "551199998888@c.us" });
    expect(server!.requests[0]!.url).toBe("/api/contacts/check-exists?phone=5511999998888&session=s1");
  });
});

describe("getCapping: WhatsApp's new-chat cap (waha PR#2186)", () => {
  it("parses WAHA's MessageCappingData: status, quota (-1 = no cap), used, cycle as dates", async () => {
    const cycleEnd = Math.floor(Date.parse("2026-12-01T00:00:00Z") / 1000);
    const answers: unknown[] = [
      { cappingStatus: "SECOND_WARNING", totalQuota: 50, usedQuota: 46, cycleStart: cycleEnd - 86_400, cycleEnd, mvStatus: "x", oteStatus: "y" },
      { cappingStatus: "NONE", totalQuota: -1, usedQuota: 0, cycleStart: "2026-11-30T00:00:00Z", cycleEnd: null },
      { messageCapping: { cappingStatus: "CAPPED", totalQuota: "20", usedQuota: "20", cycleEnd: String(cycleEnd * 1000) } },
      { cappingStatus: "SOMETHING_NEW", totalQuota: 10, usedQuota: 1 },
    ];
    const client = await clientAnswering(() => ({ status: 200, body: answers.shift() }));
    expect(await client.getCapping("s 1")).toEqual({
      status: "SECOND_WARNING",
      totalQuota: 50,
      usedQuota: 46,
      cycleStart: new Date((cycleEnd - 86_400) * 1000),
      cycleEnd: new Date("2026-12-01T00:00:00Z"),
    });
    expect(server!.requests[0]!.url).toBe("/api/sessions/s%201/capping");
    expect(await client.getCapping("s1")).toEqual({ status: "NONE", totalQuota: null, usedQuota: 0, cycleStart: new Date("2026-11-30T00:00:00Z"), cycleEnd: null });
    expect(await client.getCapping("s1")).toMatchObject({ status: "CAPPED", totalQuota: 20, usedQuota: 20, cycleEnd: new Date("2026-12-01T00:00:00Z") });
    expect(await client.getCapping("s1")).toMatchObject({ status: "UNKNOWN", rawStatus: "SOMETHING_NEW" });
  });

  it("null when this WAHA cannot say (route unknown, engine without it); an unknown session is an error", async () => {
    const answers = [
      { status: 404, body: { message: "Cannot GET /api/sessions/s1/capping", error: "Not Found", statusCode: 404 } },
      { status: 501, body: { statusCode: 501, message: "The method is not implemented by the WEBJS engine", error: "Not Implemented" } },
      { status: 404, body: { statusCode: 404, message: "We didn't find a session with name 's1'", error: "Not Found" } },
      { status: 200, body: { nothing: true } },
    ];
    const client = await clientAnswering(() => answers.shift()!);
    expect(await client.getCapping("s1")).toBeNull();
    expect(await client.getCapping("s1")).toBeNull();
    await expect(client.getCapping("s1")).rejects.toMatchObject({ kind: "session_not_found" });
    await expect(client.getCapping("s1")).rejects.toMatchObject({ kind: "unexpected", message: expect.stringContaining("cappingStatus") });
  });
});

describe("a send refused with WhatsApp's 463 is `restricted`, not a maybe-sent 500", () => {
  it("GOWS's 500 naming error 463 -> restricted, not sent, with WhatsApp's reason", async () => {
    const error = await sendError(await clientAnswering(() => ({ status: 500, body: GOWS_463 })));
    expect(error.kind).toBe("restricted");
    expect(error.outcomeUnknown).toBe(false);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/restricts this number.*server returned error 463/);
    expect(classifySendFailure(error)).toBe("restricted");
    expect(describeSendFailure(error)).toEqual({ kind: "restricted", until: null, reason: "server returned error 463" });
  });

  it("other wordings of the timelock are restricted too; a plain 500 stays outcome_unknown", async () => {
    const answers = [
      { status: 500, body: { statusCode: 500, message: "reachout timelock is active for this account", error: "Internal Server Error" } },
      { status: 400, body: { statusCode: 400, message: ["NackCallerReachoutTimelocked (463)"], error: "Bad Request" } },
      { status: 500, body: { statusCode: 500, message: "2 UNKNOWN: websocket not connected", error: "Internal Server Error" } },
      { status: 500, body: { statusCode: 500, message: "failed after 463 ms", error: "Internal Server Error" } },
    ];
    const client = await clientAnswering(() => answers.shift()!);
    expect(classifySendFailure(await sendError(client))).toBe("restricted");
    expect(classifySendFailure(await sendError(client))).toBe("restricted");
    expect(classifySendFailure(await sendError(client))).toBe("outcome_unknown");
    expect(classifySendFailure(await sendError(client))).toBe("outcome_unknown");
  });

  it("describeSendFailure keeps the other classes as they were", async () => {
    const answers = [
      { status: 422, body: { error: "Session status is not as expected", session: "default", status: "STARTING", expected: ["WORKING"] } },
      { status: 400, body: { statusCode: 400, message: ["chatId must be a valid chat id"], error: "Bad Request" } },
      { status: 429, body: { statusCode: 429, message: "Too Many Requests" } },
    ];
    const client = await clientAnswering(() => answers.shift()!);
    expect(describeSendFailure(await sendError(client))).toEqual({ kind: "session" });
    expect(describeSendFailure(await sendError(client))).toEqual({ kind: "rejected" });
    expect(describeSendFailure(await sendError(client))).toEqual({ kind: "not_sent" });
  });
});

describe("getSession reads me.reachoutTimelock", () => {
  it("active with its end, null when none, absent when WAHA does not say", async () => {
    const until = "2026-12-02T09:33:50.000Z";
    const answers = [
      { name: "s1", status: "WORKING", me: { id: "1@c.us", pushName: "A", reachoutTimelock: { isActive: true, timeEnforcementEnds: until, enforcementType: "RESTRICT_ALL_COMPANIONS" } } },
      { name: "s1", status: "WORKING", me: { id: "1@c.us", pushName: "A", reachoutTimelock: null } },
      { name: "s1", status: "WORKING", me: { id: "1@c.us", pushName: "A" } },
    ];
    const client = await clientAnswering(() => ({ status: 200, body: answers.shift() }));
    expect((await client.getSession("s1")).reachoutTimelock).toEqual({ active: true, until: new Date(until), enforcementType: "RESTRICT_ALL_COMPANIONS" });
    expect((await client.getSession("s1")).reachoutTimelock).toBeNull();
    expect("reachoutTimelock" in (await client.getSession("s1"))).toBe(false);
  });
});
