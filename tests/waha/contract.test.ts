import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeWaha, type FakeWaha, type WahaEngine } from "../../tools/fake-waha/server";
import { waitFor } from "../helpers/waitFor";
import { WahaContract, startTestServer, type TestServer } from "./helpers";

/**
 * Every answer of the fake that the client relies on, checked against WAHA's own OpenAPI document
 * (shared/waha/openapi.json): the path and method exist, the status code is the documented one,
 * and the body matches the documented schema. The fake cannot drift from WAHA without failing here.
 */

const API_KEY = "contract-key";
const contract = new WahaContract();

interface Raw {
  status: number;
  contentType: string;
  bytes: Buffer;
  json: unknown;
}

async function call(fake: FakeWaha, method: string, path: string, options: { body?: unknown; accept?: string } = {}): Promise<Raw> {
  const response = await fetch(fake.url + path, {
    method,
    headers: {
      "x-api-key": API_KEY,
      accept: options.accept ?? "application/json",
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  let json: unknown;
  if (contentType === "application/json") json = JSON.parse(bytes.toString("utf8"));
  return { status: response.status, contentType, bytes, json };
}

/** Asserts that `raw` is what WAHA documents for (method, template). */
function expectDocumented(method: string, template: string, raw: Raw): void {
  const documented = contract.response(method, template, raw.status); // throws for an undocumented status
  if (!documented.content) {
    expect(raw.bytes.length === 0 || raw.contentType === "application/json", `${method} ${template}: undocumented body`).toBe(true);
    return;
  }
  expect(contract.check(method, template, raw.status, raw.contentType, raw.json), `${method} ${template}`).toEqual([]);
}

describe("fake WAHA answers match WAHA's OpenAPI document", () => {
  let fake: FakeWaha;

  beforeAll(async () => {
    fake = await startFakeWaha({ apiKey: API_KEY, engine: "GOWS", transitionDelayMs: 400 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset({ sessions: true });
  });

  it("the contract itself rejects a body that breaks the schema", () => {
    // Guards the guard: a validator that accepts everything would make every test below pass.
    expect(contract.check("GET", "/api/sessions/{session}", 200, "application/json", { name: "x", status: "NOPE" })).not.toEqual([]);
    expect(contract.check("GET", "/api/{session}/new-message-id", 200, "application/json", {})).not.toEqual([]);
    expect(() => contract.response("POST", "/api/sendText", 200)).toThrow(/no HTTP 200/);
  });

  it("session create, get (every status), list, start, stop and logout", async () => {
    const created = await call(fake, "POST", "/api/sessions", {
      body: {
        name: "c1",
        start: true,
        config: { webhooks: [{ url: "http://127.0.0.1:9/hook", events: ["session.status", "message.ack"], hmac: { key: "k" } }] },
      },
    });
    expect(created.status).toBe(201);
    expectDocumented("POST", "/api/sessions", created);

    const starting = await call(fake, "GET", "/api/sessions/c1");
    expect((starting.json as { status: string }).status).toBe("STARTING");
    expectDocumented("GET", "/api/sessions/{session}", starting);

    await waitFor("c1 to show its QR code", () => fake.sessionStatus("c1") === "SCAN_QR_CODE");
    const scanning = await call(fake, "GET", "/api/sessions/c1");
    expect((scanning.json as { me: unknown }).me).toBeNull();
    expectDocumented("GET", "/api/sessions/{session}", scanning);

    fake.setSessionStatus("c1", "WORKING");
    const working = await call(fake, "GET", "/api/sessions/c1");
    expect((working.json as { me: { id: string } }).me.id).toMatch(/@c\.us$/);
    expectDocumented("GET", "/api/sessions/{session}", working);

    const stopped = await call(fake, "POST", "/api/sessions/c1/stop");
    expect(stopped.status).toBe(201);
    expectDocumented("POST", "/api/sessions/{session}/stop", stopped);
    expectDocumented("GET", "/api/sessions/{session}", await call(fake, "GET", "/api/sessions/c1"));

    const list = await call(fake, "GET", "/api/sessions?all=true");
    expect(list.status).toBe(200);
    expect(list.json).toHaveLength(1);
    expectDocumented("GET", "/api/sessions", list);

    const started = await call(fake, "POST", "/api/sessions/c1/start");
    expect(started.status).toBe(201);
    expectDocumented("POST", "/api/sessions/{session}/start", started);

    const loggedOut = await call(fake, "POST", "/api/sessions/c1/logout");
    expect(loggedOut.status).toBe(201);
    expectDocumented("POST", "/api/sessions/{session}/logout", loggedOut);
  });

  it("QR code as JSON image, as raw value and as a PNG; pairing code", async () => {
    fake.setSessionStatus("qr", "SCAN_QR_CODE");

    const image = await call(fake, "GET", "/api/qr/auth/qr?format=image");
    expectDocumented("GET", "/api/{session}/auth/qr", image);
    expect((image.json as { mimetype: string }).mimetype).toBe("image/png");

    const raw = await call(fake, "GET", "/api/qr/auth/qr?format=raw");
    expectDocumented("GET", "/api/{session}/auth/qr", raw);
    expect((raw.json as { value: string }).value).toMatch(/^2@/);

    const png = await call(fake, "GET", "/api/qr/auth/qr", { accept: "image/png" });
    expect(png.status).toBe(200);
    expect(png.contentType).toBe("image/png");
    expect(contract.response("GET", "/api/{session}/auth/qr", 200).content).toHaveProperty(["image/png"]);
    expect(png.bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    const code = await call(fake, "POST", "/api/qr/auth/request-code", { body: { phoneNumber: "14155550123" } });
    expect(code.status).toBe(201);
    expectDocumented("POST", "/api/{session}/auth/request-code", code);
  });

  it("sendText (GOWS answers a WAMessage), sendImage, sendSeen, typing, check-exists", async () => {
    fake.setSessionStatus("s", "WORKING");
    const text = await call(fake, "POST", "/api/sendText", { body: { session: "s", chatId: "14155550123@c.us", text: "hello" } });
    expect(text.status).toBe(201);
    expectDocumented("POST", "/api/sendText", text);

    const image = await call(fake, "POST", "/api/sendImage", {
      body: { session: "s", chatId: "14155550123@c.us", file: { url: "https://example.com/a.jpg", mimetype: "image/jpeg" }, caption: "c" },
    });
    expect(image.status).toBe(201);
    expectDocumented("POST", "/api/sendImage", image);

    const seen = await call(fake, "POST", "/api/sendSeen", { body: { session: "s", chatId: "14155550123@c.us" } });
    expect(seen.status).toBe(201);
    expectDocumented("POST", "/api/sendSeen", seen);

    for (const path of ["/api/startTyping", "/api/stopTyping"] as const) {
      const typing = await call(fake, "POST", path, { body: { session: "s", chatId: "14155550123@c.us" } });
      expect(typing.status).toBe(201);
      expectDocumented("POST", path, typing);
    }

    const exists = await call(fake, "GET", "/api/contacts/check-exists?phone=14155550123&session=s");
    expect(exists.json).toEqual({ numberExists: true, chatId: "14155550123@c.us" });
    expectDocumented("GET", "/api/contacts/check-exists", exists);
    fake.setNumberExists("+14155550124", false);
    const missing = await call(fake, "GET", "/api/contacts/check-exists?phone=14155550124&session=s");
    expect(missing.json).toEqual({ numberExists: false });
    expectDocumented("GET", "/api/contacts/check-exists", missing);
  });

  it("new-message-id, a message by id and a chat's messages", async () => {
    fake.setSessionStatus("s", "WORKING");
    const fresh = await call(fake, "GET", "/api/s/new-message-id");
    expectDocumented("GET", "/api/{session}/new-message-id", fresh);
    const id = (fresh.json as { id: string }).id;

    const sent = await call(fake, "POST", "/api/sendText", { body: { session: "s", chatId: "14155550123@c.us", text: "x", id } });
    const serialized = (sent.json as { id: string }).id;
    expect(serialized).toBe(`true_14155550123@c.us_${id}`);

    const one = await call(fake, "GET", `/api/s/chats/${encodeURIComponent("14155550123@c.us")}/messages/${encodeURIComponent(serialized)}`);
    expect(one.status).toBe(200);
    expectDocumented("GET", "/api/{session}/chats/{chatId}/messages/{messageId}", one);

    const many = await call(fake, "GET", `/api/s/chats/${encodeURIComponent("14155550123@c.us")}/messages?limit=5`);
    expect(many.json).toHaveLength(1);
    expectDocumented("GET", "/api/{session}/chats/{chatId}/messages", many);
  });

  it("the 422 for a session that is not WORKING has WAHA's body", async () => {
    fake.setSessionStatus("s", "SCAN_QR_CODE");
    const refused = await call(fake, "POST", "/api/sendText", { body: { session: "s", chatId: "14155550123@c.us", text: "x" } });
    expect(refused.status).toBe(422);
    expect(refused.json).toEqual({ error: expect.any(String), session: "s", status: "SCAN_QR_CODE", expected: ["WORKING"] });
  });

  describe("webhook events", () => {
    let receiver: TestServer;
    beforeAll(async () => {
      receiver = await startTestServer();
    });
    afterAll(async () => {
      await receiver.close();
    });

    it("session.status and message.ack match WAHA's webhook schemas", async () => {
      receiver.requests.length = 0;
      await call(fake, "POST", "/api/sessions", {
        body: { name: "w", start: true, config: { webhooks: [{ url: receiver.url, events: ["session.status", "message.ack"] }] } },
      });
      await waitFor("w to show its QR code", () => fake.sessionStatus("w") === "SCAN_QR_CODE");
      fake.setSessionStatus("w", "WORKING");
      await call(fake, "POST", "/api/sendText", { body: { session: "w", chatId: "14155550123@c.us", text: "x" } });
      await waitFor("two message.ack deliveries", () => receiver.requests.filter((request) => (request.json as { event: string }).event === "message.ack").length >= 2);

      const events = receiver.requests.map((request) => request.json as { event: string });
      expect(events.filter((event) => event.event === "session.status").length).toBeGreaterThanOrEqual(3);
      for (const event of events) {
        const schema = event.event === "session.status" ? "WAHAWebhookSessionStatus" : "WAHAWebhookMessageAck";
        expect(contract.checkComponent(schema, event), `${event.event} event`).toEqual([]);
      }
    });
  });
});

describe("send answers per engine", () => {
  const engines: WahaEngine[] = ["NOWEB", "WEBJS", "GOWS"];
  const fakes = new Map<WahaEngine, FakeWaha>();

  beforeAll(async () => {
    for (const engine of engines) fakes.set(engine, await startFakeWaha({ apiKey: API_KEY, engine }));
  });
  afterAll(async () => {
    for (const fake of fakes.values()) await fake.close();
  });

  it.each(engines)("%s: sendText answers 201 in the engine's own shape", async (engine) => {
    const fake = fakes.get(engine)!;
    fake.setSessionStatus("s", "WORKING");
    const sent = await call(fake, "POST", "/api/sendText", { body: { session: "s", chatId: "14155550123@c.us", text: "hi", id: "3EB0AAAA" } });
    expect(sent.status).toBe(201);
    contract.response("POST", "/api/sendText", 201);
    const body = sent.json as Record<string, unknown>;
    // WAHA documents a WAMessage; GOWS answers one, NOWEB and WEBJS answer their engine's native object.
    if (engine === "GOWS") {
      expect(contract.check("POST", "/api/sendText", 201, "application/json", body)).toEqual([]);
      expect(body.id).toBe("true_14155550123@c.us_3EB0AAAA");
    } else if (engine === "WEBJS") {
      expect(body.id).toEqual({ fromMe: true, remote: "14155550123@c.us", id: "3EB0AAAA", _serialized: "true_14155550123@c.us_3EB0AAAA" });
    } else {
      expect(body.key).toEqual({ remoteJid: "14155550123@s.whatsapp.net", fromMe: true, id: "3EB0AAAA" });
    }
    const session = await call(fake, "GET", "/api/sessions/s");
    expect((session.json as { engine: { engine: string } }).engine.engine).toBe(engine);
  });
});
