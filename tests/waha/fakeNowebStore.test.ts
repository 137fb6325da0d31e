import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { WahaContract } from "./helpers";

/**
 * The fake's NOWEB mode without a store (`nowebStore: "config"`), as WAHA behaves: a NOWEB session
 * keeps messages only when created with `config.noweb.store.enabled: true`; the others accept sends
 * but answer WAHA's 400 to message reads (NowebInMemoryStore throws a BadRequestException).
 */

const API_KEY = "noweb-store-key";
const CHAT = "14155550123@c.us";
const STORE_CONFIG = { noweb: { store: { enabled: true, fullSync: false }, markOnline: true } };
const contract = new WahaContract();

async function call(fake: FakeWaha, method: string, path: string, body?: unknown) {
  const response = await fetch(fake.url + path, {
    method,
    headers: { "x-api-key": API_KEY, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const messagePath = (session: string, serialized: string) =>
  `/api/${session}/chats/${encodeURIComponent(CHAT)}/messages/${encodeURIComponent(serialized)}`;
const listPath = (session: string) => `/api/${session}/chats/${encodeURIComponent(CHAT)}/messages?limit=5`;

async function send(fake: FakeWaha, session: string, text: string): Promise<string> {
  const sent = await call(fake, "POST", "/api/sendText", { session, chatId: CHAT, text });
  expect(sent.status).toBe(201);
  const key = (sent.body as { key: { id: string } }).key;
  return `true_${CHAT}_${key.id}`;
}

const STORE_ERROR = {
  statusCode: 400,
  message: expect.stringContaining('Enable NOWEB store "config.noweb.store.enabled=True"'),
  error: "Bad Request",
};

describe("fake WAHA, NOWEB with the store as configured", () => {
  let fake: FakeWaha;
  beforeAll(async () => {
    fake = await startFakeWaha({ apiKey: API_KEY, engine: "NOWEB", nowebStore: "config" });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset({ sessions: true });
  });

  it("a session created with the store on echoes its config and finds its messages by id and in the chat", async () => {
    const created = await call(fake, "POST", "/api/sessions", { name: "kept", start: true, config: STORE_CONFIG });
    expect(created.status).toBe(201);
    expect(contract.check("POST", "/api/sessions", 201, "application/json", created.body)).toEqual([]);
    fake.setSessionStatus("kept", "WORKING");

    const info = await call(fake, "GET", "/api/sessions/kept");
    expect(info.body).toMatchObject({ config: STORE_CONFIG, engine: { engine: "NOWEB" } });
    expect(contract.check("GET", "/api/sessions/{session}", 200, "application/json", info.body)).toEqual([]);

    const id = await send(fake, "kept", "hello");
    expect(await call(fake, "GET", messagePath("kept", id))).toMatchObject({ status: 200, body: { id, body: "hello" } });
    expect(await call(fake, "GET", messagePath("kept", `true_${CHAT}_3EB0NEVERSENT`))).toMatchObject({ status: 404, body: { message: "Message not found" } });
    const list = await call(fake, "GET", listPath("kept"));
    expect(list.status).toBe(200);
    expect((list.body as Array<{ id: string }>).map((message) => message.id)).toEqual([id]);
  });

  it("a session without the store accepts sends but answers WAHA's 400 to every message read", async () => {
    fake.setSessionStatus("bare", "WORKING"); // no config, as a session made outside the app
    const id = await send(fake, "bare", "hello");
    expect(fake.messages().map((message) => message.id)).toEqual([id]); // it was sent all the same

    expect(await call(fake, "GET", messagePath("bare", id))).toEqual({ status: 400, body: STORE_ERROR });
    expect(await call(fake, "GET", listPath("bare"))).toEqual({ status: 400, body: STORE_ERROR });
    const info = await call(fake, "GET", "/api/sessions/bare");
    expect(info.body).toMatchObject({ engine: { engine: "NOWEB" } });
    expect(info.body).not.toHaveProperty("config");
  });

  it("store off in the config, an unknown session or one not WORKING: the session's own answer comes first", async () => {
    await call(fake, "POST", "/api/sessions", { name: "off", start: false, config: { noweb: { store: { enabled: false, fullSync: false }, markOnline: true } } });
    fake.setSessionStatus("off", "WORKING");
    expect(await call(fake, "GET", listPath("off"))).toEqual({ status: 400, body: STORE_ERROR });

    expect((await call(fake, "GET", listPath("nobody"))).status).toBe(404);
    fake.setSessionStatus("off", "SCAN_QR_CODE");
    expect(await call(fake, "GET", listPath("off"))).toMatchObject({ status: 422, body: { expected: ["WORKING"] } });
  });

  it("turning the store on later does not bring back what was sent before (WAHA: set it before the QR scan)", async () => {
    fake.setSessionStatus("late", "WORKING");
    const before = await send(fake, "late", "before");
    expect((await call(fake, "PUT", "/api/sessions/late", { config: STORE_CONFIG })).status).toBe(200);
    const after = await send(fake, "late", "after");
    expect((await call(fake, "GET", messagePath("late", before))).status).toBe(404);
    expect((await call(fake, "GET", messagePath("late", after))).status).toBe(200);
  });
});

describe("fake WAHA, nowebStore: config leaves other engines and the default alone", () => {
  it.each([
    ["WEBJS", "config"],
    ["GOWS", "config"],
    ["NOWEB", "always"],
  ] as const)("%s with nowebStore %s keeps the messages of a session created without config", async (engine, nowebStore) => {
    const fake = await startFakeWaha({ apiKey: API_KEY, engine, nowebStore });
    try {
      fake.setSessionStatus("s", "WORKING");
      const sent = await call(fake, "POST", "/api/sendText", { session: "s", chatId: CHAT, text: "hi", id: "3EB0ABCDEF" });
      expect(sent.status).toBe(201);
      const found = await call(fake, "GET", messagePath("s", `true_${CHAT}_3EB0ABCDEF`));
      expect(found).toMatchObject({ status: 200, body: { body: "hi" } });
    } finally {
      await fake.close();
    }
  });
});
