import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { waitFor } from "../helpers/waitFor";

/** The fake's own behaviour, driven over HTTP as a script or another process would. */

const API_KEY = "fake-control-key";
const CHAT = "14155550123@c.us";

let fake: FakeWaha;

async function http(method: string, path: string, body?: unknown, options: { key?: string | null; signal?: AbortSignal } = {}) {
  const key = options.key === undefined ? API_KEY : options.key;
  const response = await fetch(fake.url + path, {
    method,
    headers: { ...(key ? { "x-api-key": key } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const sendText = (session: string, text: string, extra: Record<string, unknown> = {}) =>
  http("POST", "/api/sendText", { session, chatId: CHAT, text, ...extra });

beforeAll(async () => {
  fake = await startFakeWaha({ apiKey: API_KEY });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  await http("POST", "/__fake/reset", { sessions: true }, { key: null });
  await http("POST", "/__fake/sessions/default/status", { status: "WORKING" }, { key: null });
});

describe("WAHA behaviour", () => {
  it("requires X-Api-Key on /api/ (401 without or wrong), not on /__fake/ or /ping", async () => {
    expect((await http("GET", "/api/sessions", undefined, { key: null })).status).toBe(401);
    expect((await http("GET", "/api/sessions", undefined, { key: "nope" })).status).toBe(401);
    expect((await sendText("default", "x").then(() => http("GET", "/api/sessions", undefined, { key: "nope" }))).body).toEqual({
      message: "Unauthorized",
      statusCode: 401,
    });
    expect((await http("GET", "/api/sessions")).status).toBe(200);
    expect((await http("GET", "/__fake/stats", undefined, { key: null })).status).toBe(200);
    expect((await http("GET", "/ping", undefined, { key: null })).body).toEqual({ message: "pong" });
  });

  it("answers POST with 201, an unknown session with 404, an unknown route with Nest's 404", async () => {
    expect((await sendText("default", "x")).status).toBe(201);
    const unknown = await sendText("nobody", "x");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, message: expect.stringContaining("session with name 'nobody'") });
    const route = await http("GET", "/api/nothing/here");
    expect(route).toMatchObject({ status: 404, body: { message: "Cannot GET /api/nothing/here", statusCode: 404 } });
  });

  it("routes: an unknown session under /api/sessions/{name} is WAHA's 404 whatever the method; other paths there are Nest's 404", async () => {
    expect(await http("PATCH", "/api/sessions/nobody")).toMatchObject({ status: 404, body: { message: expect.stringContaining("'nobody'") } });
    expect(await http("POST", "/api/sessions/nobody/dance")).toMatchObject({ status: 404, body: { message: expect.stringContaining("'nobody'") } });
    expect(await http("PATCH", "/api/sessions/default")).toMatchObject({ status: 404, body: { message: "Cannot PATCH /api/sessions/default" } });
    expect(await http("POST", "/api/sessions/default/dance")).toMatchObject({ status: 404, body: { message: "Cannot POST /api/sessions/default/dance" } });
    // "sessions" is never taken for a session name by the /api/{session}/... routes.
    expect(await http("GET", "/api/sessions/new-message-id")).toMatchObject({ status: 404, body: { message: expect.stringContaining("'new-message-id'") } });
    expect(await http("GET", "/api/sessions/auth/qr")).toMatchObject({ status: 404, body: { message: "Cannot GET /api/sessions/auth/qr" } });
    expect(await http("GET", "/api/default/chats/x/messages/y/z")).toMatchObject({ status: 404, body: { message: "Cannot GET /api/default/chats/x/messages/y/z" } });
    // Path parameters arrive decoded.
    const sent = (await sendText("default", "x")).body as { id: { _serialized: string } };
    const found = await http("GET", `/api/default/chats/${encodeURIComponent(CHAT)}/messages/${encodeURIComponent(sent.id._serialized)}`);
    expect(found).toMatchObject({ status: 200, body: { id: sent.id._serialized, body: "x" } });
  });

  it("walks WAHA's session lifecycle", async () => {
    const created = await http("POST", "/api/sessions", { name: "a", start: true });
    expect(created).toMatchObject({ status: 201, body: { name: "a", status: "STARTING" } });
    expect((await http("POST", "/api/sessions", { name: "a" })).status).toBe(422); // already exists
    await waitFor("a to show its QR code", () => fake.sessionStatus("a") === "SCAN_QR_CODE");

    const png = await fetch(`${fake.url}/api/a/auth/qr`, { headers: { "x-api-key": API_KEY } });
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe("PNG");

    const scanned = await http("POST", "/__fake/sessions/a/status", { status: "WORKING", me: { id: "4915112345678@c.us", pushName: "Shop" } }, { key: null });
    expect(scanned.body).toMatchObject({ status: "WORKING", me: { id: "4915112345678@c.us", pushName: "Shop" } });
    expect((await http("GET", "/api/a/auth/qr")).status).toBe(422); // no QR once logged in

    await http("POST", "/api/sessions/a/stop");
    expect(fake.sessionStatus("a")).toBe("STOPPED");
    expect((await http("GET", "/api/sessions")).body).toEqual([expect.objectContaining({ name: "default" })]); // STOPPED hidden...
    expect((await http("GET", "/api/sessions?all=true")).body).toHaveLength(2); // ...unless all=true

    await http("POST", "/api/sessions/a/start");
    await waitFor("a WORKING again", () => fake.sessionStatus("a") === "WORKING"); // auth survived the stop
    expect((await http("GET", "/api/sessions/a")).body).toMatchObject({ me: { id: "4915112345678@c.us" } });

    await http("POST", "/api/sessions/a/logout");
    await waitFor("a to show a new QR code", () => fake.sessionStatus("a") === "SCAN_QR_CODE"); // logout restarts into a new QR
    expect((await http("GET", "/api/sessions/a")).body).toMatchObject({ me: null });

    await http("POST", "/api/sessions/a/stop");
    await http("POST", "/api/sessions/a/logout");
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fake.sessionStatus("a")).toBe("STOPPED"); // logout of a STOPPED session does not restart it
  });

  it("a session that drops refuses sends with 422 until it is WORKING again", async () => {
    await http("POST", "/__fake/sessions/default/status", { status: "FAILED" }, { key: null });
    const refused = await sendText("default", "x");
    expect(refused).toMatchObject({ status: 422, body: { session: "default", status: "FAILED", expected: ["WORKING"] } });
    expect((await http("GET", "/api/default/new-message-id")).status).toBe(422);
    await http("POST", "/__fake/sessions/default/status", { status: "WORKING" }, { key: null });
    expect((await sendText("default", "x")).status).toBe(201);
  });

  it("with notWorkingWaitMs, a send waits for the session like WAHA does", async () => {
    const patient = await startFakeWaha({ notWorkingWaitMs: 1_000 });
    try {
      patient.setSessionStatus("default", "SCAN_QR_CODE");
      const pending = fetch(`${patient.url}/api/sendText`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session: "default", chatId: CHAT, text: "x" }),
      });
      setTimeout(() => patient.setSessionStatus("default", "WORKING"), 100);
      expect((await pending).status).toBe(201);
      expect(patient.messages()).toHaveLength(1);
    } finally {
      await patient.close();
    }
  });
});

describe("control API", () => {
  it("GET /__fake/messages lists every accepted send, filterable by session", async () => {
    await http("POST", "/__fake/sessions/other/status", { status: "WORKING" }, { key: null });
    await sendText("default", "hello");
    await http("POST", "/api/sendImage", { session: "other", chatId: CHAT, file: { data: "aGk=", mimetype: "image/png", filename: "a.png" }, caption: "cap" });
    const all = await http("GET", "/__fake/messages", undefined, { key: null });
    expect(all.body).toEqual([
      { id: expect.stringMatching(/^true_14155550123@c\.us_/), session: "default", chatId: CHAT, text: "hello", hasFile: false, at: expect.any(String) },
      { id: expect.stringMatching(/^true_/), session: "other", chatId: CHAT, text: null, caption: "cap", hasFile: true, fileName: "a.png", at: expect.any(String) },
    ]);
    expect(new Date((all.body as { at: string }[])[0]!.at).getTime()).toBeGreaterThan(Date.now() - 5_000);
    expect((await http("GET", "/__fake/messages?session=other", undefined, { key: null })).body).toHaveLength(1);
  });

  it("a send with a duplicate id is recorded again, so a resend is visible", async () => {
    await sendText("default", "x", { id: "3EB0DUP" });
    await sendText("default", "x", { id: "3EB0DUP" });
    expect(fake.messages().map((message) => message.id)).toEqual([`true_${CHAT}_3EB0DUP`, `true_${CHAT}_3EB0DUP`]);
  });

  it("reset clears messages, stats and faults but keeps sessions; {sessions: true} drops them too", async () => {
    await sendText("default", "x");
    await http("POST", "/__fake/faults", { latencyMs: 5, failNext: 3 }, { key: null });
    await http("POST", "/__fake/numbers", { phone: "+14155550124", exists: false }, { key: null });
    expect((await http("POST", "/__fake/reset", undefined, { key: null })).status).toBe(200);
    expect(fake.messages()).toEqual([]);
    expect((await http("GET", "/__fake/stats", undefined, { key: null })).body).toEqual({ maxInFlight: {}, inFlight: {}, sent: {} });
    expect((await http("GET", "/__fake/faults", undefined, { key: null })).body).toEqual({ latencyMs: 0, errorRate: 0, failNext: 0, restricted: null, newChatQuota: -1 });
    expect((await http("GET", "/api/contacts/check-exists?phone=14155550124&session=default")).body).toMatchObject({ numberExists: true });
    expect(fake.sessionStatus("default")).toBe("WORKING");
    await http("POST", "/__fake/reset", { sessions: true }, { key: null });
    expect(fake.sessionStatus("default")).toBeUndefined();
  });

  it("POST /__fake/sessions/{name}/status creates an unknown session and validates the status", async () => {
    const created = await http("POST", "/__fake/sessions/new-one/status", { status: "WORKING" }, { key: null });
    expect(created).toMatchObject({ status: 200, body: { name: "new-one", status: "WORKING", me: { id: expect.stringMatching(/^1555\d{7}@c\.us$/) } } });
    expect((await http("POST", "/__fake/sessions/new-one/status", { status: "ASLEEP" }, { key: null })).status).toBe(400);
  });

  it("faults: failNext N fails the next N sends with 500 without recording them", async () => {
    const set = await http("POST", "/__fake/faults", { failNext: 2 }, { key: null });
    expect(set.body).toEqual({ latencyMs: 0, errorRate: 0, failNext: 2, restricted: null, newChatQuota: -1 });
    expect((await sendText("default", "1")).status).toBe(500);
    expect((await sendText("default", "2")).status).toBe(500);
    expect((await sendText("default", "3")).status).toBe(201);
    expect(fake.messages().map((message) => message.text)).toEqual(["3"]);
    expect((await http("GET", "/__fake/stats", undefined, { key: null })).body).toMatchObject({ sent: { default: 1 } });
  });

  it("faults: errorRate 1 fails every send, 0 none; other fields are kept when one changes", async () => {
    await http("POST", "/__fake/faults", { errorRate: 1, latencyMs: 1 }, { key: null });
    for (let i = 0; i < 5; i++) expect((await sendText("default", "x")).status).toBe(500);
    expect(fake.messages()).toEqual([]);
    expect((await http("POST", "/__fake/faults", { errorRate: 0 }, { key: null })).body).toEqual({ latencyMs: 1, errorRate: 0, failNext: 0, restricted: null, newChatQuota: -1 });
    expect((await sendText("default", "x")).status).toBe(201);
    expect((await http("POST", "/__fake/faults", { errorRate: 2 }, { key: null })).status).toBe(400);
    expect((await http("POST", "/__fake/faults", { failNext: -1 }, { key: null })).status).toBe(400);
  });

  it("faults: latencyMs delays every send answer; the send is recorded even if the caller gave up", async () => {
    await http("POST", "/__fake/faults", { latencyMs: 150 }, { key: null });
    const started = Date.now();
    expect((await sendText("default", "slow")).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    await expect(http("POST", "/api/sendText", { session: "default", chatId: CHAT, text: "abandoned" }, { signal: AbortSignal.timeout(30) })).rejects.toThrow();
    expect(fake.messages().map((message) => message.text)).toEqual(["slow", "abandoned"]);
    await waitFor("the abandoned send to be answered", () => fake.stats().inFlight.default === undefined); // its answer is still due: let it go
  });

  it("stats: maxInFlight counts the most sends of one session open at once", async () => {
    await http("POST", "/__fake/sessions/solo/status", { status: "WORKING" }, { key: null });
    await http("POST", "/__fake/faults", { latencyMs: 100 }, { key: null });
    const parallel = Array.from({ length: 5 }, (_, i) => sendText("default", `p${i}`));
    await waitFor("5 sends in flight", () => fake.stats().inFlight.default === 5);
    expect((await http("GET", "/__fake/stats", undefined, { key: null })).body).toMatchObject({ inFlight: { default: 5 } });
    await Promise.all(parallel);
    for (let i = 0; i < 3; i++) await sendText("solo", `s${i}`);
    expect((await http("GET", "/__fake/stats", undefined, { key: null })).body).toEqual({
      maxInFlight: { default: 5, solo: 1 },
      inFlight: {},
      sent: { default: 5, solo: 3 },
    });
  });

  it("POST /__fake/messages/{id}/ack sets the ack getMessage reports", async () => {
    const sent = (await sendText("default", "x")).body as { id: { _serialized: string } };
    const id = sent.id._serialized;
    expect((await http("POST", `/__fake/messages/${encodeURIComponent(id)}/ack`, { ack: 3 }, { key: null })).body).toEqual({ id, ack: 3, ackName: "READ" });
    const message = await http("GET", `/api/default/chats/${encodeURIComponent(CHAT)}/messages/${encodeURIComponent(id)}`);
    expect(message.body).toMatchObject({ id, ack: 3, ackName: "READ" });
    expect((await http("POST", "/__fake/messages/nope/ack", { ack: 3 }, { key: null })).status).toBe(404);
  });

  it("acks advance PENDING -> SERVER -> DEVICE on their own", async () => {
    const sent = (await sendText("default", "x")).body as { id: { _serialized: string } };
    const path = `/api/default/chats/${encodeURIComponent(CHAT)}/messages/${encodeURIComponent(sent.id._serialized)}`;
    await waitFor("ack DEVICE", async () => ((await http("GET", path)).body as { ack: number }).ack === 2);
    expect((await http("GET", path)).body).toMatchObject({ ackName: "DEVICE" });
  });
});
