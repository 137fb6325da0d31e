import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WahaApiClient } from "~/server/services/waha/client";
import { classifySendFailure } from "~/server/services/waha/errors";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";

/**
 * The fake's safe-sending surface, driven over HTTP as the app or a script would: sendSeen, typing
 * and check-exists; the call log (/__fake/calls); numbers not on WhatsApp; the new-chat capping
 * endpoint and cap; the reachout-timelock restriction fault answering WAHA's 463.
 */

const API_KEY = "fake-safe-key";
const CHAT = "14155550123@c.us";

let fake: FakeWaha;
let client: WahaApiClient;

async function http(method: string, path: string, body?: unknown, options: { key?: string | null } = {}) {
  const key = options.key === undefined ? API_KEY : options.key;
  const response = await fetch(fake.url + path, {
    method,
    headers: { ...(key ? { "x-api-key": key } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const control = (method: string, path: string, body?: unknown) => http(method, path, body, { key: null });
const sendText = (session: string, chatId: string, text: string) => http("POST", "/api/sendText", { session, chatId, text });

beforeAll(async () => {
  fake = await startFakeWaha({ apiKey: API_KEY, engine: "GOWS" });
  client = new WahaApiClient({ baseUrl: fake.url, apiKey: API_KEY, timeoutMs: 2_000 });
});
afterAll(async () => {
  client.close();
  await fake.close();
});
beforeEach(async () => {
  await control("POST", "/__fake/reset", { sessions: true });
  await control("POST", "/__fake/sessions/default/status", { status: "WORKING" });
});

describe("GET /__fake/calls: every WAHA call, in order, with its path, session and chatId", () => {
  it("shows the typing sequence around a send, and nothing outside /api/", async () => {
    await client.sendSeen({ session: "default", chatId: CHAT });
    await client.startTyping({ session: "default", chatId: CHAT });
    await client.stopTyping({ session: "default", chatId: CHAT });
    await client.sendText({ session: "default", chatId: CHAT, text: "Hi" });
    await client.getSession("default");
    await client.checkNumberExists("default", "+14155550199");
    await control("GET", "/__fake/messages");
    const calls = (await control("GET", "/__fake/calls")).body as { method: string; path: string; session: string | null; chatId: string | null; at: string }[];
    expect(calls.map(({ method, path, session, chatId }) => ({ method, path, session, chatId }))).toEqual([
      { method: "POST", path: "/api/sendSeen", session: "default", chatId: CHAT },
      { method: "POST", path: "/api/startTyping", session: "default", chatId: CHAT },
      { method: "POST", path: "/api/stopTyping", session: "default", chatId: CHAT },
      { method: "POST", path: "/api/sendText", session: "default", chatId: CHAT },
      { method: "GET", path: "/api/sessions/default", session: "default", chatId: null },
      { method: "GET", path: "/api/contacts/check-exists", session: "default", chatId: "14155550199@c.us" },
    ]);
    expect(calls.every((call) => !Number.isNaN(Date.parse(call.at)))).toBe(true);
    expect(fake.calls()).toHaveLength(6);
  });

  it("records refused calls too, can be filtered by session, and reset empties it", async () => {
    await http("POST", "/api/sendText", { session: "default", chatId: CHAT, text: "x" }, { key: "wrong" });
    await sendText("nope", CHAT, "x");
    await http("GET", "/api/nope/chats/" + encodeURIComponent(CHAT) + "/messages");
    expect(((await control("GET", "/__fake/calls?session=nope")).body as unknown[]).length).toBe(2);
    expect(((await control("GET", "/__fake/calls")).body as { path: string }[]).map((call) => call.path)).toEqual([
      "/api/sendText",
      "/api/sendText",
      `/api/nope/chats/${encodeURIComponent(CHAT)}/messages`,
    ]);
    await control("POST", "/__fake/reset");
    expect((await control("GET", "/__fake/calls")).body).toEqual([]);
  });
});

describe("sendSeen and typing answer as WAHA does", () => {
  it("201; an unknown session 404; a session that is not WORKING 422; a bad chatId 400", async () => {
    expect((await http("POST", "/api/sendSeen", { session: "default", chatId: CHAT })).status).toBe(201);
    expect((await http("POST", "/api/sendSeen", { session: "default", chatId: CHAT, messageIds: [1] })).status).toBe(400);
    expect((await http("POST", "/api/sendSeen", { session: "missing", chatId: CHAT })).status).toBe(404);
    expect((await http("POST", "/api/sendSeen", { session: "default", chatId: "nope" })).status).toBe(400);
    await control("POST", "/__fake/sessions/default/status", { status: "STARTING" });
    expect((await http("POST", "/api/sendSeen", { session: "default", chatId: CHAT })).status).toBe(422);
    expect((await http("POST", "/api/startTyping", { session: "default", chatId: CHAT })).status).toBe(422);
  });
});

describe("POST /__fake/not-on-whatsapp", () => {
  it("marks numbers so check-exists says numberExists false; others still exist; reset forgets them", async () => {
    expect((await control("POST", "/__fake/not-on-whatsapp", { phones: ["+14155550100", "14155550101"] })).status).toBe(200);
    expect(await client.checkNumberExists("default", "+14155550100")).toEqual({ numberExists: false, chatId: null });
    expect(await client.checkNumberExists("default", "+1 415 555 0101")).toEqual({ numberExists: false, chatId: null });
    expect(await client.checkNumberExists("default", "+14155550102")).toEqual({ numberExists: true, chatId: "14155550102@c.us" });
    await control("POST", "/__fake/reset");
    expect(await client.checkNumberExists("default", "+14155550100")).toEqual({ numberExists: true, chatId: "14155550100@c.us" });
  });

  it("refuses a body without a list of phones, saying what to send", async () => {
    const answer = await control("POST", "/__fake/not-on-whatsapp", { phones: "+14155550100" });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toMatch(/phones must be a list/);
  });
});

describe("the restriction fault: WAHA's 463 until untilMs", () => {
  it("sends fail with WAHA's 500 naming error 463, are not recorded, and the client calls it restricted", async () => {
    const untilMs = Date.now() + 60_000;
    expect((await control("POST", "/__fake/faults", { restricted: { untilMs } })).body).toMatchObject({ restricted: { untilMs } });
    const answer = await sendText("default", CHAT, "Hi");
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ statusCode: 500, exception: { message: "2 UNKNOWN: server returned error 463", details: "server returned error 463" } });
    const failure = await client.sendText({ session: "default", chatId: CHAT, text: "Hi" }).catch((error: unknown) => error);
    expect(classifySendFailure(failure as never)).toBe("restricted");
    expect(fake.messages()).toEqual([]);
    // GOWS reports the timelock on the session's `me`.
    expect((await client.getSession("default")).reachoutTimelock).toEqual({ active: true, until: new Date(untilMs), enforcementType: "RESTRICT_ALL_COMPANIONS" });
  });

  it("ends at untilMs (a time already past restricts nothing); limited to one session when it names one", async () => {
    await control("POST", "/__fake/sessions/other/status", { status: "WORKING" });
    await control("POST", "/__fake/faults", { restricted: { untilMs: Date.now() + 60_000, session: "other" } });
    expect((await sendText("default", CHAT, "a")).status).toBe(201);
    expect((await sendText("other", CHAT, "b")).status).toBe(500);
    await control("POST", "/__fake/faults", { restricted: { untilMs: Date.now() - 1 } });
    expect((await sendText("other", CHAT, "c")).status).toBe(201);
    expect((await client.getSession("other")).reachoutTimelock).toBeNull();
    await control("POST", "/__fake/faults", { restricted: null });
    expect(fake.messages().map((message) => message.text)).toEqual(["a", "c"]);
    expect((await control("POST", "/__fake/faults", { restricted: { untilMs: "soon" } })).status).toBe(400);
  });
});

describe("GET /api/sessions/{session}/capping (waha PR#2186)", () => {
  it("no cap by default: NONE with totalQuota -1; the cycle in unix seconds", async () => {
    const answer = await http("GET", "/api/sessions/default/capping");
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ cappingStatus: "NONE", totalQuota: -1, usedQuota: 0, mvStatus: "NONE", oteStatus: "NONE" });
    const { cycleStart, cycleEnd } = answer.body as { cycleStart: number; cycleEnd: number };
    expect(cycleEnd - cycleStart).toBe(86_400);
    expect(await client.getCapping("default")).toMatchObject({ status: "NONE", totalQuota: null, usedQuota: 0 });
  });

  it("counts new chats against newChatQuota, warns, then caps: a new chat gets 463, a known chat still goes", async () => {
    await control("POST", "/__fake/faults", { newChatQuota: 4 });
    const chats = ["14155550001@c.us", "14155550002@c.us", "14155550003@c.us", "14155550004@c.us", "14155550005@c.us"];
    expect((await sendText("default", chats[0]!, "1")).status).toBe(201);
    expect((await sendText("default", chats[0]!, "1 again")).status).toBe(201); // the same chat is not new
    expect(await client.getCapping("default")).toMatchObject({ status: "NONE", totalQuota: 4, usedQuota: 1 });
    await sendText("default", chats[1]!, "2");
    await sendText("default", chats[2]!, "3");
    expect(await client.getCapping("default")).toMatchObject({ status: "FIRST_WARNING", usedQuota: 3 });
    await sendText("default", chats[3]!, "4");
    expect(await client.getCapping("default")).toMatchObject({ status: "CAPPED", usedQuota: 4 });
    expect((await sendText("default", chats[4]!, "5")).status).toBe(500);
    expect((await sendText("default", chats[0]!, "to a known chat")).status).toBe(201);
    expect(fake.messages()).toHaveLength(6);
  });

  it("other engines answer 501 (GOWS only) and the client reads that as 'cannot say'", async () => {
    const webjs = await startFakeWaha({ apiKey: API_KEY, engine: "WEBJS" });
    const webjsClient = new WahaApiClient({ baseUrl: webjs.url, apiKey: API_KEY, timeoutMs: 2_000 });
    try {
      webjs.setSessionStatus("default", "WORKING");
      expect(await webjsClient.getCapping("default")).toBeNull();
      await expect(webjsClient.getCapping("missing")).rejects.toMatchObject({ kind: "session_not_found" });
    } finally {
      webjsClient.close();
      await webjs.close();
    }
  });
});
