import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WahaApiClient, WahaError, toChatId, type WahaErrorKind } from "~/server/services/waha/client";
import { startFakeWaha, type FakeWaha, type WahaEngine } from "../../tools/fake-waha/server";
import { waitFor } from "../helpers/waitFor";
import { expectWahaError as expectWahaErrorOfKind, json, startTestServer, type TestServer } from "./helpers";

const API_KEY = "sekret-API-key-0123456789";
const CHAT = toChatId("+14155550123");

/** A call that must fail with a WahaError of `kind`; the API key never appears in it, whatever the failure. */
async function expectWahaError(promise: Promise<unknown>, kind: WahaErrorKind): Promise<WahaError> {
  const wahaError = await expectWahaErrorOfKind(promise, kind, API_KEY);
  expect(wahaError.retryable).toBe(kind === "transient");
  return wahaError;
}


describe.each<WahaEngine>(["NOWEB", "WEBJS", "GOWS"])("WahaApiClient against the fake (%s)", (engine) => {
  let fake: FakeWaha;
  let client: WahaApiClient;

  beforeAll(async () => {
    fake = await startFakeWaha({ apiKey: API_KEY, engine });
    client = new WahaApiClient({ baseUrl: fake.url, apiKey: API_KEY, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset({ sessions: true });
    fake.setSessionStatus("default", "WORKING");
  });

  it("sendText normalises the engine's answer to the serialized id that getMessage finds", async () => {
    const { messageId } = await client.sendText({ session: "default", chatId: CHAT, text: "Hi Ann" });
    expect(messageId).toMatch(/^true_14155550123@c\.us_3EB0[0-9A-F]+$/);
    expect(fake.messages()).toEqual([
      { id: messageId, session: "default", chatId: CHAT, text: "Hi Ann", hasFile: false, at: expect.any(String) },
    ]);
    const found = await client.getMessage("default", CHAT, messageId);
    expect(found).toMatchObject({ id: messageId, body: "Hi Ann" });
    expect(found?.ack).toBeGreaterThanOrEqual(0);
  });

  it("a message id fixed with newMessageId is the one sent, and getMessage accepts it raw", async () => {
    const fixed = await client.newMessageId("default");
    expect(fixed).toMatch(/^3EB0[0-9A-F]+$/);
    const { messageId } = await client.sendText({ session: "default", chatId: CHAT, text: "x", messageId: fixed! });
    expect(messageId).toBe(`true_${CHAT}_${fixed}`);
    expect(await client.getMessage("default", CHAT, fixed!)).toMatchObject({ id: messageId, body: "x" });
  });

  it("getMessage is null for a message WAHA does not have", async () => {
    expect(await client.getMessage("default", CHAT, "3EB0NEVERSENT")).toBeNull();
  });

  it("listChatMessages returns the chat's messages newest first, up to the limit", async () => {
    for (const text of ["one", "two", "three"]) await client.sendText({ session: "default", chatId: CHAT, text });
    const recent = await client.listChatMessages("default", CHAT, { limit: 2 });
    expect(recent.map((message) => message.body)).toEqual(["three", "two"]);
    expect(recent[0]).toMatchObject({ fromMe: true, id: expect.stringMatching(/^true_/) });
    expect(await client.listChatMessages("default", toChatId("+14155550999"))).toEqual([]);
  });

  it("sendImage by URL and by base64 data, with caption", async () => {
    const byUrl = await client.sendImage({ session: "default", chatId: CHAT, file: { url: "https://example.com/pic.png" }, caption: "look" });
    const byData = await client.sendImage({
      session: "default",
      chatId: CHAT,
      file: { data: Buffer.from("png").toString("base64"), mimetype: "image/png", filename: "a.png" },
    });
    expect(byUrl.messageId).not.toBe(byData.messageId);
    expect(fake.messages()).toEqual([
      { id: byUrl.messageId, session: "default", chatId: CHAT, text: null, caption: "look", hasFile: true, at: expect.any(String) },
      { id: byData.messageId, session: "default", chatId: CHAT, text: null, hasFile: true, fileName: "a.png", at: expect.any(String) },
    ]);
    expect(await client.getMessage("default", CHAT, byUrl.messageId)).toMatchObject({ body: "look" });
  });

  it("reports the engine in session info", async () => {
    expect(await client.getSession("default")).toMatchObject({ name: "default", status: "WORKING", engine });
  });
});

describe("WahaApiClient sessions and auth", () => {
  let fake: FakeWaha;
  let client: WahaApiClient;

  beforeAll(async () => {
    fake = await startFakeWaha({ apiKey: API_KEY });
    client = new WahaApiClient({ baseUrl: fake.url, apiKey: API_KEY, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset({ sessions: true });
  });

  it("create with start, QR (image and raw), pairing code, scan, stop, start, logout", async () => {
    const created = await client.createSession("shop", { start: true });
    expect(created).toMatchObject({ name: "shop", status: "STARTING" });
    await waitFor("shop to show its QR code", async () => (await client.getSession("shop")).status === "SCAN_QR_CODE");

    const qr = await client.getQrImage("shop");
    expect(qr.mimetype).toBe("image/png");
    expect(Buffer.from(qr.data, "base64").subarray(1, 4).toString("ascii")).toBe("PNG");
    expect(await client.getQrValue("shop")).toMatch(/^2@/);
    expect((await client.requestPairingCode("shop", "+14155550123")).code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);

    fake.setSessionStatus("shop", "WORKING"); // the user scanned the QR code
    const working = await client.getSession("shop");
    expect(working.status).toBe("WORKING");
    expect(working.me?.id).toMatch(/^\d+@c\.us$/);

    await client.stopSession("shop");
    // Listing includes STOPPED sessions (WAHA hides them unless asked with all=true).
    expect(await client.listSessions()).toEqual([expect.objectContaining({ name: "shop", status: "STOPPED" })]);

    await client.startSession("shop");
    await waitFor("shop WORKING again", async () => (await client.getSession("shop")).status === "WORKING"); // still logged in

    await client.logoutSession("shop");
    await waitFor("shop to show a new QR code", async () => (await client.getSession("shop")).status === "SCAN_QR_CODE");
    expect((await client.getSession("shop")).me).toBeNull();
  });

  it("createSession with start false stays STOPPED and sends the webhook config in WAHA's shape", async () => {
    const created = await client.createSession("quiet", {
      start: false,
      webhooks: [{ url: "http://127.0.0.1:9/hook", events: ["session.status", "message.ack"], hmacKey: "hook-key" }],
    });
    expect(created.status).toBe("STOPPED");
    const raw = (await (await fetch(`${fake.url}/api/sessions/quiet`, { headers: { "x-api-key": API_KEY } })).json()) as {
      config: { webhooks: unknown[] };
    };
    expect(raw.config.webhooks).toEqual([{ url: "http://127.0.0.1:9/hook", events: ["session.status", "message.ack"], hmac: { key: "hook-key" } }]);
  });

  it("createSession asks for NOWEB's message store in WAHA's shape, and getSession reports it", async () => {
    const noweb = await startFakeWaha({ apiKey: API_KEY, engine: "NOWEB", nowebStore: "config" });
    try {
      const nowebClient = new WahaApiClient({ baseUrl: noweb.url, apiKey: API_KEY });
      const created = await nowebClient.createSession("kept", { start: false, nowebStore: { enabled: true, fullSync: false } });
      expect(created).toMatchObject({ name: "kept", status: "STOPPED", nowebStoreEnabled: true });
      const raw = (await (await fetch(`${noweb.url}/api/sessions/kept`, { headers: { "x-api-key": API_KEY } })).json()) as { config: unknown };
      expect(raw.config).toEqual({ noweb: { store: { enabled: true, fullSync: false }, markOnline: true } });
      expect(await nowebClient.getSession("kept")).toMatchObject({ engine: "NOWEB", nowebStoreEnabled: true, gowsMessageStorage: true });

      // And the store is what lets WAHA find the session's messages.
      noweb.setSessionStatus("kept", "WORKING");
      const { messageId } = await nowebClient.sendText({ session: "kept", chatId: CHAT, text: "x" });
      expect(await nowebClient.getMessage("kept", CHAT, messageId)).toMatchObject({ id: messageId });

      // A session created without config: WAHA's answer has none, so nothing is claimed.
      await nowebClient.createSession("bare", { start: false });
      const bare = await nowebClient.getSession("bare");
      expect(bare).not.toHaveProperty("nowebStoreEnabled");
      expect(bare).not.toHaveProperty("gowsMessageStorage");
    } finally {
      await noweb.close();
    }
  });

  it("getSession reads the store settings from WAHA's config, with WAHA's defaults where it is silent", async () => {
    const answers: Record<string, unknown> = {
      nulled: { name: "nulled", status: "WORKING", config: null, engine: { engine: "NOWEB" } },
      empty: { name: "empty", status: "WORKING", config: { webhooks: [] }, engine: { engine: "NOWEB" } },
      off: { name: "off", status: "WORKING", config: { noweb: { store: { enabled: false, fullSync: false } } }, engine: { engine: "NOWEB" } },
      gows: { name: "gows", status: "WORKING", config: { gows: { storage: { messages: false } } }, engine: { engine: "GOWS" } },
    };
    const scripted = await startTestServer((request, res) => json(res, 200, answers[request.url.split("/").pop()!]));
    try {
      const scriptedClient = new WahaApiClient({ baseUrl: scripted.url });
      expect(await scriptedClient.getSession("nulled")).toMatchObject({ nowebStoreEnabled: false, gowsMessageStorage: true });
      expect(await scriptedClient.getSession("empty")).toMatchObject({ nowebStoreEnabled: false, gowsMessageStorage: true });
      expect(await scriptedClient.getSession("off")).toMatchObject({ nowebStoreEnabled: false, gowsMessageStorage: true });
      expect(await scriptedClient.getSession("gows")).toMatchObject({ engine: "GOWS", nowebStoreEnabled: false, gowsMessageStorage: false });
    } finally {
      await scripted.close();
    }
  });

  it("typing and check-exists", async () => {
    fake.setSessionStatus("default", "WORKING");
    await expect(client.startTyping({ session: "default", chatId: CHAT })).resolves.toBeUndefined();
    await expect(client.stopTyping({ session: "default", chatId: CHAT })).resolves.toBeUndefined();
    expect(await client.checkNumberExists("default", "+14155550123")).toEqual({ numberExists: true, chatId: CHAT });
    fake.setNumberExists("+14155550124", false);
    expect(await client.checkNumberExists("default", "+14155550124")).toEqual({ numberExists: false, chatId: null });
  });

  it("newMessageId resolves null on a WAHA older than 2026.4.3, and sending still works", async () => {
    const legacy = await startFakeWaha({ apiKey: API_KEY, newMessageId: false });
    try {
      legacy.setSessionStatus("default", "WORKING");
      const legacyClient = new WahaApiClient({ baseUrl: legacy.url, apiKey: API_KEY });
      expect(await legacyClient.newMessageId("default")).toBeNull();
      const { messageId } = await legacyClient.sendText({ session: "default", chatId: CHAT, text: "x" });
      expect(await legacyClient.getMessage("default", CHAT, messageId)).toMatchObject({ id: messageId });
    } finally {
      await legacy.close();
    }
  });
});

describe("WahaApiClient errors", () => {
  let fake: FakeWaha;
  let client: WahaApiClient;
  let scripted: TestServer | undefined;

  beforeAll(async () => {
    fake = await startFakeWaha({ apiKey: API_KEY });
    client = new WahaApiClient({ baseUrl: fake.url, apiKey: API_KEY, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset({ sessions: true });
    fake.setSessionStatus("default", "WORKING");
  });
  afterEach(async () => {
    await scripted?.close();
    scripted = undefined;
  });

  it("401 without a key and with a wrong key: unauthorized", async () => {
    for (const apiKey of [undefined, "wrong-key"]) {
      const error = await expectWahaError(new WahaApiClient({ baseUrl: fake.url, ...(apiKey ? { apiKey } : {}) }).listSessions(), "unauthorized");
      expect(error.httpStatus).toBe(401);
      expect(error.operation).toBe("listSessions");
      expect(error.message).toMatch(/^WAHA listSessions failed: unauthorized/);
    }
  });

  it("404 for an unknown session: session_not_found, naming the session", async () => {
    const error = await expectWahaError(client.getSession("ghost"), "session_not_found");
    expect(error.httpStatus).toBe(404);
    expect(error.message).toBe('WAHA getSession failed: session "ghost" not found (HTTP 404)');
    await expectWahaError(client.sendText({ session: "ghost", chatId: CHAT, text: "x" }), "session_not_found");
    await expectWahaError(client.newMessageId("ghost"), "session_not_found");
    await expectWahaError(client.getMessage("ghost", CHAT, "3EB0X"), "session_not_found");
  });

  it("422 when the session is not WORKING: session_not_working with WAHA's status and expected", async () => {
    fake.setSessionStatus("default", "SCAN_QR_CODE");
    const error = await expectWahaError(client.sendText({ session: "default", chatId: CHAT, text: "x" }), "session_not_working");
    expect(error).toMatchObject({ httpStatus: 422, sessionStatus: "SCAN_QR_CODE", expected: ["WORKING"], operation: "sendText" });
    expect(error.message).toBe('WAHA sendText failed: session "default" is not WORKING (status SCAN_QR_CODE)');
    expect(fake.messages()).toEqual([]);

    fake.setSessionStatus("default", "WORKING");
    const qr = await expectWahaError(client.getQrImage("default"), "session_not_working");
    expect(qr.expected).toEqual(["SCAN_QR_CODE"]);
  });

  it("400 for a malformed request: invalid_request with WAHA's reason", async () => {
    const error = await expectWahaError(client.sendText({ session: "default", chatId: "14155550123", text: "x" }), "invalid_request");
    expect(error.httpStatus).toBe(400);
    expect(error.message).toMatch(/^WAHA sendText failed: invalid request \(HTTP 400\): chatId/);
  });

  it("500: transient, retryable, outcome unknown; nothing was recorded and the next send works", async () => {
    fake.setFaults({ failNext: 1 });
    const error = await expectWahaError(client.sendText({ session: "default", chatId: CHAT, text: "x" }), "transient");
    expect(error).toMatchObject({ httpStatus: 500, outcomeUnknown: true });
    expect(error.message).toMatch(/^WAHA sendText failed: WAHA answered HTTP 500/);
    expect(fake.messages()).toEqual([]);
    await client.sendText({ session: "default", chatId: CHAT, text: "x" });
    expect(fake.messages()).toHaveLength(1);
  });

  it("a slow WAHA times out as transient, and the fake still keeps the send it accepted", async () => {
    fake.setFaults({ latencyMs: 600 });
    const impatient = new WahaApiClient({ baseUrl: fake.url, apiKey: API_KEY, timeoutMs: 100 });
    const started = Date.now();
    const error = await expectWahaError(impatient.sendText({ session: "default", chatId: CHAT, text: "slow" }), "transient");
    expect(Date.now() - started).toBeLessThan(500);
    expect(error.message).toBe("WAHA sendText failed: WAHA did not answer within 100 ms");
    expect(error.outcomeUnknown).toBe(true);
    expect(fake.messages().map((message) => message.text)).toEqual(["slow"]);
  });

  it("connection refused: transient, and the request certainly did not arrive", async () => {
    const gone = await startFakeWaha();
    const url = gone.url;
    await gone.close();
    const error = await expectWahaError(new WahaApiClient({ baseUrl: url, apiKey: API_KEY }).listSessions(), "transient");
    expect(error.message).toMatch(/^WAHA listSessions failed: cannot connect to http:\/\/127\.0\.0\.1:\d+ \(connection refused\)$/);
    expect(error.outcomeUnknown).toBe(false);
  });

  it("429 is transient; a non-JSON success answer is unexpected", async () => {
    scripted = await startTestServer((request, res) => {
      if (request.url.startsWith("/api/sessions/")) {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>proxy login</html>");
      } else json(res, 429, { message: "Too Many Requests" });
    });
    const odd = new WahaApiClient({ baseUrl: scripted.url, apiKey: API_KEY });
    const limited = await expectWahaError(odd.listSessions(), "transient");
    expect(limited).toMatchObject({ httpStatus: 429, outcomeUnknown: false });
    const garbled = await expectWahaError(odd.getSession("default"), "unexpected");
    expect(garbled.message).toBe("WAHA getSession failed: the answer is not a session");
  });

  it("a server that echoes the API key does not get it into the message", async () => {
    scripted = await startTestServer((request, res) => json(res, 400, { message: `bad key ${String(request.headers["x-api-key"])}` }));
    const error = await expectWahaError(new WahaApiClient({ baseUrl: scripted.url, apiKey: API_KEY }).listSessions(), "invalid_request");
    expect(scripted.requests[0]?.headers["x-api-key"]).toBe(API_KEY); // the key was sent...
    expect(error.message).toBe("WAHA listSessions failed: invalid request (HTTP 400): bad key [redacted]"); // ...and not repeated
  });

  it("maps WAHA's passkey statuses onto SCAN_QR_CODE and keeps the raw one", async () => {
    scripted = await startTestServer((_request, res) => json(res, 200, { name: "p", status: "PASSKEY_REQUIRED", me: null, engine: { engine: "GOWS" } }));
    const info = await new WahaApiClient({ baseUrl: scripted.url }).getSession("p");
    expect(info).toEqual({ name: "p", status: "SCAN_QR_CODE", rawStatus: "PASSKEY_REQUIRED", me: null, engine: "GOWS" });
    expect(scripted.requests[0]?.headers["x-api-key"]).toBeUndefined();
  });

  it("sends the key as X-Api-Key and path segments URL-encoded", async () => {
    scripted = await startTestServer((_request, res) => json(res, 404, { statusCode: 404, message: "Message not found" }));
    expect(await new WahaApiClient({ baseUrl: `${scripted.url}/`, apiKey: API_KEY }).getMessage("my shop", CHAT, "3EB0A")).toBeNull();
    expect(scripted.requests[0]?.url).toBe(`/api/my%20shop/chats/14155550123%40c.us/messages/true_14155550123%40c.us_3EB0A?downloadMedia=false`);
    expect(scripted.requests[0]?.headers["x-api-key"]).toBe(API_KEY);
  });
});
