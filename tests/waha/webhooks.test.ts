import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WahaApiClient, toChatId } from "~/server/services/waha/client";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { waitFor } from "../helpers/waitFor";
import { startTestServer, type ReceivedRequest, type TestServer } from "./helpers";

const HMAC_KEY = "webhook-secret";
const CHAT = toChatId("+14155550123");

interface Event {
  id: string;
  event: string;
  session: string;
  engine: string;
  payload: { status?: string; statuses?: unknown[]; id?: string; ack?: number; ackName?: string };
}

const eventOf = (request: ReceivedRequest) => request.json as Event;

describe("fake WAHA webhooks", () => {
  let fake: FakeWaha;
  let client: WahaApiClient;
  let receiver: TestServer;

  beforeAll(async () => {
    fake = await startFakeWaha({ engine: "NOWEB" });
    client = new WahaApiClient({ baseUrl: fake.url });
  });
  afterAll(async () => {
    await fake.close();
  });
  // A receiver of its own for each test: a late delivery of another test's events cannot reach it.
  beforeEach(async () => {
    fake.reset({ sessions: true });
    receiver = await startTestServer();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it("posts session.status and message.ack (SERVER then DEVICE), signed with HMAC-SHA512 of the raw body", async () => {
    await client.createSession("hooked", {
      start: true,
      webhooks: [{ url: `${receiver.url}/waha`, events: ["session.status", "message.ack"], hmacKey: HMAC_KEY }],
    });
    await waitFor("hooked to show its QR code", () => fake.sessionStatus("hooked") === "SCAN_QR_CODE");
    fake.setSessionStatus("hooked", "WORKING");
    const { messageId } = await client.sendText({ session: "hooked", chatId: CHAT, text: "hi" });
    await waitFor("two message.ack deliveries", () => receiver.requests.filter((request) => eventOf(request).event === "message.ack").length === 2);
    await fake.drainWebhooks();

    // Deliveries race each other; each event's `statuses` (the history up to it) gives the order raised.
    const statuses = receiver.requests
      .map(eventOf)
      .filter((event) => event.event === "session.status")
      .sort((a, b) => (a.payload.statuses?.length ?? 0) - (b.payload.statuses?.length ?? 0))
      .map((event) => event.payload.status);
    expect(statuses).toEqual(["STARTING", "SCAN_QR_CODE", "WORKING"]);

    const acks = receiver.requests
      .filter((request) => eventOf(request).event === "message.ack")
      .map((request) => eventOf(request).payload)
      .sort((a, b) => (a.ack ?? 0) - (b.ack ?? 0));
    expect(acks).toEqual([
      expect.objectContaining({ id: messageId, ack: 1, ackName: "SERVER" }),
      expect.objectContaining({ id: messageId, ack: 2, ackName: "DEVICE" }),
    ]);

    for (const request of receiver.requests) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/waha");
      expect(request.headers["x-webhook-hmac-algorithm"]).toBe("sha512");
      expect(request.headers["x-webhook-hmac"]).toBe(createHmac("sha512", HMAC_KEY).update(request.rawBody).digest("hex"));
      // Exactly what the app's receiver accepts: 128 lower-case hex, and a timestamp in ms near now.
      expect(request.headers["x-webhook-hmac"]).toMatch(/^[0-9a-f]{128}$/);
      const { timestamp } = request.json as { timestamp: number };
      expect(Math.abs(Date.now() - timestamp)).toBeLessThan(60_000);
      expect(request.headers["x-webhook-timestamp"]).toBe(String(timestamp));
      expect(eventOf(request)).toMatchObject({ session: "hooked", engine: "NOWEB", id: expect.stringMatching(/^evt_[0-9a-z]{26}$/) });
    }
    const ids = receiver.requests.map((request) => eventOf(request).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a signature made with another key does not match", async () => {
    await client.createSession("signed", { start: true, webhooks: [{ url: receiver.url, events: ["session.status"], hmacKey: HMAC_KEY }] });
    const request = await waitFor("a delivery", () => receiver.requests[0]);
    expect(request.headers["x-webhook-hmac"]).not.toBe(createHmac("sha512", "other-key").update(request.rawBody).digest("hex"));
  });

  it("without an hmac key events are unsigned; only subscribed events are sent", async () => {
    await client.createSession("plain", { start: false, webhooks: [{ url: receiver.url, events: ["session.status"] }] });
    fake.setSessionStatus("plain", "WORKING");
    await client.sendText({ session: "plain", chatId: CHAT, text: "x" });
    fake.setAck(fake.messages()[0]!.id, 3);
    await new Promise((resolve) => setTimeout(resolve, 80)); // past the SERVER/DEVICE acks
    await fake.drainWebhooks();
    // This session's events only: a delivery of the previous test may still arrive late.
    const own = receiver.requests.filter((request) => eventOf(request).session === "plain");
    expect(own.map((request) => eventOf(request).event)).toEqual(["session.status"]);
    expect(own[0]?.headers["x-webhook-hmac"]).toBeUndefined();
  });

  it("a READ set through the control API is posted as message.ack 3", async () => {
    await client.createSession("reader", { start: false, webhooks: [{ url: receiver.url, events: ["message.ack"] }] });
    fake.setSessionStatus("reader", "WORKING");
    const { messageId } = await client.sendText({ session: "reader", chatId: CHAT, text: "x" });
    fake.setAck(messageId, 3);
    const read = await waitFor("a message.ack 3 delivery", () => receiver.requests.find((request) => eventOf(request).payload.ack === 3));
    expect(eventOf(read).payload).toMatchObject({ id: messageId, ackName: "READ" });
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Once read, the automatic SERVER/DEVICE acks do not move it back.
    expect(receiver.requests.map((request) => eventOf(request).payload.ack)).toEqual([3]);
    expect((await client.getMessage("reader", CHAT, messageId))?.ack).toBe(3);
  });

  it("a receiver that is down does not disturb sending", async () => {
    await client.createSession("down", { start: false, webhooks: [{ url: "http://127.0.0.1:9/nothing", events: ["session.status", "message.ack"] }] });
    fake.setSessionStatus("down", "WORKING");
    await expect(client.sendText({ session: "down", chatId: CHAT, text: "x" })).resolves.toMatchObject({ messageId: expect.any(String) });
    await fake.drainWebhooks();
  });
});
