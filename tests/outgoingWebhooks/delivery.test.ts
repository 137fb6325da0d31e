/**
 * Outgoing webhooks end to end, in one process: campaigns sent through the fake WAHA write their
 * events to the outbox (triggers, migration 0009); a receiver on loopback (allowed for the test by
 * WEBHOOK_ALLOW_PRIVATE) is down at first, then comes up, and gets every event: in order per
 * campaign, signed, each id once. The backoff is shortened so that the test waits seconds, not minutes.
 */
import { eq, sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { queryRows } from "~/server/db/client";
import { webhookEndpoints } from "~/server/db/schema";
import { emitWebhookEvent } from "~/server/services/outgoingWebhooks/emit";
import { purgeExpiredRows } from "~/server/services/scheduling/sweep";
import { WebhookDeliverer } from "~/server/services/outgoingWebhooks/deliverer";
import { verifyWebhookSignature } from "~/server/services/outgoingWebhooks/signature";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { restClient } from "../rest/helpers";
import { createReceiver, type Receiver } from "./receiver";

const ALL_EVENTS = ["campaign.started", "campaign.paused", "campaign.completed", "recipient.sent", "recipient.failed", "recipient.replied", "contact.opted_out"];

for (const backend of backends) {
  describe(`[${backend}] outgoing webhooks: delivery`, () => {
    let app: TestApp;
    let receiver: Receiver;
    let deliverer: WebhookDeliverer;
    beforeAll(async () => {
      app = await startTestApp(backend, { WEBHOOK_ALLOW_PRIVATE: "true" });
      receiver = await createReceiver();
      deliverer = new WebhookDeliverer(app.services.db, pino({ level: "silent" }), {
        holderId: "test-deliverer",
        allowPrivate: true,
        pollMs: 50,
        timeoutMs: 2_000,
        retryBaseMs: 200,
        retryMaxMs: 1_000,
      });
      deliverer.start();
    });
    afterAll(async () => {
      await deliverer?.stop();
      await receiver?.stop();
      await app?.close();
    });

    it("a receiver down while two campaigns run gets every event once it is up: in order per campaign, signed, stable ids", async () => {
      const user = await createTestUser(app);
      const rest = restClient(app, user.apiKey);
      const created = await rest("POST", "/api/v1/webhooks", { url: receiver.url, events: ALL_EVENTS });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
      const secret: string = created.body.secret;
      const endpointId: string = created.body.id;
      const listed = await rest("GET", "/api/v1/webhooks");
      expect(listed.body.items).toHaveLength(1);
      expect(listed.body.items[0].secret).toBeUndefined();

      const campaigns: Array<{ id: string; phones: string[] }> = [];
      for (const [index, name] of ["Spring", "Summer"].entries()) {
        const session = await user.trpc.whatsappSession.create({ name: `Number ${name}` });
        app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
        const list = await user.trpc.contactList.create({ name });
        const phones = [1, 2, 3].map((n) => `+4915123457${index}${n}0`);
        await user.trpc.contactList.addContacts({ id: list.id, contacts: phones.map((phone) => ({ phone })) });
        const campaign = await user.trpc.campaign.create({
          name,
          listId: list.id,
          text: "Hello",
          sessionId: session.id,
          scheduledAt: new Date(Date.now() + 1500).toISOString(),
          delayMinMs: 100,
          delayMaxMs: 200,
        });
        campaigns.push({ id: campaign.id, phones });
      }
      for (const campaign of campaigns) {
        await waitFor("completed", async () => (await user.trpc.campaign.get({ id: campaign.id })).status === "Completed", { timeoutMs: 20_000 });
      }
      // Down: every event is still waiting, and has been tried more than once (connection refused).
      await waitFor("retried while the receiver is down", async () => {
        const [row] = await queryRows<{ n: number }>(app.services.db, sql`select count(*)::int as n from webhook_outbox where endpoint_id = ${endpointId}::uuid and attempts >= 2`);
        return row!.n >= 2;
      });
      const whileDown = await rest("GET", `/api/v1/webhooks/${endpointId}/deliveries?limit=100`);
      expect(whileDown.status).toBe(200);
      expect(whileDown.body.items).toHaveLength(10);
      expect(whileDown.body.items.every((item: { state: string }) => item.state !== "delivered")).toBe(true);
      expect(whileDown.body.items.some((item: { lastError: string | null }) => /ECONNREFUSED/.test(item.lastError ?? ""))).toBe(true);
      expect(receiver.received).toHaveLength(0);

      await receiver.start();
      await waitFor("every event delivered", async () => {
        const [row] = await queryRows<{ n: number }>(app.services.db, sql`select count(*)::int as n from webhook_outbox where endpoint_id = ${endpointId}::uuid and delivered_at is null`);
        return row!.n === 0;
      }, { timeoutMs: 20_000 });

      // 2 campaigns × (started + 3 sent + completed), each once: no crash, so no duplicate.
      expect(receiver.received).toHaveLength(10);
      expect(new Set(receiver.received.map((webhook) => webhook.id)).size).toBe(10);
      for (const webhook of receiver.received) {
        expect(verifyWebhookSignature(secret, webhook.timestamp, webhook.body, webhook.signature)).toBe(true);
        expect(verifyWebhookSignature("whsec_wrong", webhook.timestamp, webhook.body, webhook.signature)).toBe(false);
        expect(webhook.json.id).toBe(webhook.id);
        expect(webhook.json.type).toBe(webhook.eventType);
      }
      for (const campaign of campaigns) {
        const events = receiver.received.filter((webhook) => webhook.json.data.campaignId === campaign.id);
        expect(events.map((webhook) => webhook.json.type)).toEqual(["campaign.started", "recipient.sent", "recipient.sent", "recipient.sent", "campaign.completed"]);
        expect(events.filter((webhook) => webhook.json.type === "recipient.sent").map((webhook) => webhook.json.data.phone).sort()).toEqual([...campaign.phones].sort());
        expect(events.at(-1)!.json.data.counts).toEqual({ sent: 3 });
      }
      const log = await rest("GET", `/api/v1/webhooks/${endpointId}/deliveries?limit=100`);
      expect(log.body.items.every((item: { state: string; lastStatus: number }) => item.state === "delivered" && item.lastStatus === 200)).toBe(true);
      // The ids the receiver got are the ones the log shows: stable across the retries.
      expect(new Set(log.body.items.map((item: { eventId: string }) => item.eventId))).toEqual(new Set(receiver.received.map((webhook) => webhook.id)));
      expect(Math.max(...log.body.items.map((item: { attempts: number }) => item.attempts))).toBeGreaterThanOrEqual(2);
    }, 60_000);

    it("a pause, an ack of −1 after sending and the completion reach the receiver (campaign.paused, recipient.failed, campaign.completed)", async () => {
      const receiver = await createReceiver();
      await receiver.start();
      onTestFinished(() => receiver.stop());
      app.services.sessions.setWebhookUrl(`${app.url}/api/webhooks/waha`);
      const user = await createTestUser(app);
      const rest = restClient(app, user.apiKey);
      const created = await rest("POST", "/api/v1/webhooks", { url: receiver.url, events: ["campaign.paused", "recipient.failed", "campaign.completed"] });
      expect(created.status).toBe(201);
      const session = await user.trpc.whatsappSession.create({ name: "Paused number" });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      const list = await user.trpc.contactList.create({ name: "Paused" });
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [1, 2, 3].map((n) => ({ phone: `+4915123458${n}00` })) });
      const campaign = await user.trpc.campaign.create({
        name: "Pause me",
        listId: list.id,
        text: "Hello",
        sessionId: session.id,
        scheduledAt: new Date(Date.now() + 1500).toISOString(),
        delayMinMs: 400,
        delayMaxMs: 500,
      });
      const sent = () => app.fakeWaha.messages().filter((message) => message.session === session.wahaSessionName);
      await waitFor("a first send", () => sent().length >= 1, { timeoutMs: 15_000 });
      await user.trpc.campaign.pause({ id: campaign.id });
      const paused = await waitFor("campaign.paused delivered", () => receiver.received.find((webhook) => webhook.eventType === "campaign.paused"));
      expect(paused.json.data).toMatchObject({ campaignId: campaign.id, status: "Paused" });

      // WhatsApp reports an error for the first message after it was sent: the recipient fails.
      expect(app.fakeWaha.setAck(sent()[0]!.id, -1)).toBe(true);
      const failed = await waitFor("recipient.failed delivered", () => receiver.received.find((webhook) => webhook.eventType === "recipient.failed"));
      expect(failed.json.data).toMatchObject({ campaignId: campaign.id, status: "failed" });
      expect(failed.json.data.error).toMatch(/ack -1/);

      await user.trpc.campaign.resume({ id: campaign.id });
      const completed = await waitFor("campaign.completed delivered", () => receiver.received.find((webhook) => webhook.eventType === "campaign.completed"), { timeoutMs: 20_000 });
      expect(completed.json.data.counts.failed).toBe(1);
      expect(receiver.received.map((webhook) => webhook.eventType)).toEqual(["campaign.paused", "recipient.failed", "campaign.completed"]);
    }, 60_000);

    it("the sweep's housekeeping deletes deliveries finished more than 30 days ago, never an undelivered one", async () => {
      const user = await createTestUser(app);
      const [endpoint] = await app.services.db
        .insert(webhookEndpoints)
        .values({ workspaceId: user.workspaceId, url: "https://93.184.215.14/old", events: ["recipient.sent"], secret: "s", disabledAt: new Date() })
        .returning();
      const row = (delivered: string, nextAttempt: string) => sql`
        insert into webhook_outbox (endpoint_id, event_type, payload, created_at, delivered_at, next_attempt_at)
        values (${endpoint!.id}::uuid, 'recipient.sent', '{}'::jsonb, now() - interval '31 days', ${delivered === "null" ? null : sql.raw(delivered)}, ${sql.raw(nextAttempt)})
        returning id`;
      const [old] = await queryRows<{ id: number }>(app.services.db, row("now() - interval '31 days'", "now() - interval '31 days'"));
      const [gaveUp] = await queryRows<{ id: number }>(app.services.db, row("null", "'infinity'::timestamptz"));
      const [waiting] = await queryRows<{ id: number }>(app.services.db, row("null", "now() + interval '1 hour'"));
      const removed = await purgeExpiredRows(app.services.db);
      expect(removed.webhookDeliveries).toBeGreaterThanOrEqual(2);
      const left = await queryRows<{ id: number }>(app.services.db, sql`select id from webhook_outbox where endpoint_id = ${endpoint!.id}::uuid`);
      expect(left.map((r) => Number(r.id))).toEqual([Number(waiting!.id)]);
      expect([old, gaveUp].every(Boolean)).toBe(true);
      await app.services.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint!.id));
    });

    it("a slow receiver never slows sending: the campaign completes while its events are still being answered", async () => {
      const receiver = await createReceiver({ delayMs: () => 1_500 });
      await receiver.start();
      onTestFinished(() => receiver.stop());
      const user = await createTestUser(app);
      const rest = restClient(app, user.apiKey);
      expect((await rest("POST", "/api/v1/webhooks", { url: receiver.url, events: ["campaign.started", "recipient.sent", "campaign.completed"] })).status).toBe(201);
      const session = await user.trpc.whatsappSession.create({ name: "Slow receiver" });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      const list = await user.trpc.contactList.create({ name: "Slow" });
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [1, 2, 3, 4].map((n) => ({ phone: `+4915123459${n}00` })) });
      const campaign = await user.trpc.campaign.create({
        name: "Slow receiver",
        listId: list.id,
        text: "Hello",
        sessionId: session.id,
        scheduledAt: new Date(Date.now() + 1500).toISOString(),
        delayMinMs: 50,
        delayMaxMs: 100,
      });
      await waitFor("completed", async () => (await user.trpc.campaign.get({ id: campaign.id })).status === "Completed", { timeoutMs: 20_000 });
      // 6 events in order at 1.5 s each. Had sending waited for its events, the first 4 (started, 3 sent)
      // would have been answered before the last message went out; it did not wait.
      const answeredAtCompletion = receiver.received.length;
      expect(answeredAtCompletion).toBeLessThan(4);
      await waitFor("all 6 events", () => receiver.received.length === 6, { timeoutMs: 30_000 });
      expect(receiver.received.map((webhook) => webhook.eventType)).toEqual(["campaign.started", "recipient.sent", "recipient.sent", "recipient.sent", "recipient.sent", "campaign.completed"]);
    }, 60_000);

    it("an event exists only if the change that emitted it committed; no endpoint, no row", async () => {
      // A receiver of its own, up from the start (the other test's is down at first).
      const receiver = await createReceiver();
      await receiver.start();
      onTestFinished(() => receiver.stop());
      const user = await createTestUser(app);
      const rest = restClient(app, user.apiKey);
      const contactId = "00000000-0000-4000-8000-000000000001";
      const emit = (db: typeof app.services.db) =>
        emitWebhookEvent(db, { type: "contact.opted_out", workspaceId: user.workspaceId, data: { contactId } });
      expect(await emit(app.services.db)).toBe(0);
      const created = await rest("POST", "/api/v1/webhooks", { url: receiver.url, events: ["contact.opted_out"] });
      await app.services.db
        .transaction(async (tx) => {
          expect(await emit(tx)).toBe(1);
          throw new Error("roll back");
        })
        .catch(() => undefined);
      await app.services.db.transaction(async (tx) => {
        await emit(tx);
      });
      const received = await waitFor("the committed event", () => receiver.received.find((webhook) => webhook.json.data.contactId === contactId));
      expect(received.json.type).toBe("contact.opted_out");
      const log = await rest("GET", `/api/v1/webhooks/${created.body.id}/deliveries`);
      expect(log.body.items).toHaveLength(1);
      // Deleting the endpoint: nothing more is written for it.
      expect((await rest("DELETE", `/api/v1/webhooks/${created.body.id}`)).status).toBe(204);
      expect(await emit(app.services.db)).toBe(0);
      expect((await rest("GET", `/api/v1/webhooks/${created.body.id}/deliveries`)).status).toBe(404);
    });
  });
}
