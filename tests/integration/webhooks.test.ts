import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignRecipients, whatsappSessions } from "~/server/db/schema";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";

const SECRET = TEST_WEBHOOK_SECRET;

for (const backend of backends) {
  describe(`[${backend}] WAHA webhooks`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend);
      app.services.sessions.setWebhookUrl(`${app.url}/api/webhooks/waha`);
    });
    afterAll(async () => {
      await app?.close();
    });

    it("a session's scan reaches the stored status without anyone asking WAHA", async () => {
      const user = await createTestUser(app);
      const session = await user.trpc.whatsappSession.create({ name: "Support" });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      await waitFor("status WORKING stored", async () => {
        const [row] = await app.services.db
          .select()
          .from(whatsappSessions)
          .where(eq(whatsappSessions.id, session.id));
        return row?.status === "WORKING";
      });
    });

    it("a number back to WORKING by webhook resumes its campaign paused by the drop at once", async () => {
      const user = await createTestUser(app);
      const session = await user.trpc.whatsappSession.create({ name: "Drops" });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      const list = await user.trpc.contactList.create({ name: "Dropped" });
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [1, 2, 3, 4, 5, 6].map((n) => ({ phone: `+49151234568${n}0` })) });
      const campaign = await user.trpc.campaign.create({
        name: "Drop",
        listId: list.id,
        text: "Hello",
        sessionId: session.id,
        scheduledAt: new Date(Date.now() + 2500).toISOString(),
        delayMinMs: 200,
        delayMaxMs: 300,
      });
      const sent = () => app.fakeWaha.messages().filter((message) => message.session === session.wahaSessionName).length;
      await waitFor("two sends", () => sent() >= 2, { timeoutMs: 15_000 });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "STARTING");
      await waitFor("paused because the number dropped", async () => (await user.trpc.campaign.get({ id: campaign.id })).pauseReason === "session_not_working");
      const workingAt = Date.now();
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      // No periodic check runs in this app: only the webhook can resume it, and it does at once.
      await waitFor("resumed by the webhook", async () => (await user.trpc.campaign.get({ id: campaign.id })).status !== "Paused", { timeoutMs: 3_000 });
      expect(Date.now() - workingAt).toBeLessThan(3_000);
      await waitFor("completed", async () => (await user.trpc.campaign.get({ id: campaign.id })).status === "Completed", { timeoutMs: 15_000 });
      const chats = app.fakeWaha.messages().filter((message) => message.session === session.wahaSessionName).map((message) => message.chatId);
      expect(chats).toHaveLength(6);
      expect(new Set(chats).size).toBe(6);
      const history = await user.trpc.campaign.events({ id: campaign.id });
      expect(history.map((event) => `${event.kind}:${event.reason}`)).toEqual(["resumed:auto", "paused:session_not_working"]);
      expect(history[0]!.detail).toMatch(/webhook/);
    });

    it("delivery acks of campaign messages are recorded on their recipients", async () => {
      const user = await createTestUser(app);
      const session = await user.trpc.whatsappSession.create({ name: "Sales" });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      const list = await user.trpc.contactList.create({ name: "Acked" });
      await user.trpc.contactList.addContacts({
        id: list.id,
        contacts: [{ phone: "+4915123456721" }, { phone: "+4915123456722" }],
      });
      const campaign = await user.trpc.campaign.create({
        name: "Acks",
        listId: list.id,
        text: "Hello {{first_name|there}}",
        sessionId: session.id,
        scheduledAt: new Date(Date.now() + 1500).toISOString(),
        delayMinMs: 0,
        delayMaxMs: 0,
      });
      await waitFor("both messages acked by the device", async () => {
        const rows = await app.services.db
          .select()
          .from(campaignRecipients)
          .where(eq(campaignRecipients.campaignId, campaign.id));
        return rows.length === 2 && rows.every((row) => row.status === "sent" && row.ack === 2 && row.ackAt);
      }, { timeoutMs: 15_000 });
    });

    it("refuses an unsigned or wrongly signed delivery, and handles each event id once", async () => {
      const body = JSON.stringify({ id: "evt_test_1", timestamp: Date.now(), event: "session.status", session: "nobody", payload: { status: "FAILED" } });
      const post = (signature?: string) =>
        fetch(`${app.url}/api/webhooks/waha`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(signature ? { "x-webhook-hmac": signature } : {}) },
          body,
        });
      expect((await post()).status).toBe(401);
      expect((await post("ab".repeat(64))).status).toBe(401);
      const signature = createHmac("sha512", SECRET).update(body).digest("hex");
      const first = await post(signature);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ ok: true, outcome: "handled" });
      expect(await (await post(signature)).json()).toEqual({ ok: true, outcome: "duplicate" });
    });

    it("a status event that arrives after a newer one does not overwrite it", async () => {
      const user = await createTestUser(app);
      const session = await user.trpc.whatsappSession.create({ name: "Ordered" });
      const send = (id: string, status: string, timestamp: number) => {
        const body = JSON.stringify({ id, timestamp, event: "session.status", session: session.wahaSessionName, payload: { status } });
        return fetch(`${app.url}/api/webhooks/waha`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-webhook-hmac": createHmac("sha512", SECRET).update(body).digest("hex") },
          body,
        });
      };
      const now = Date.now() + 60_000;
      await send("evt_order_2", "WORKING", now + 10);
      await send("evt_order_1", "SCAN_QR_CODE", now);
      const [row] = await app.services.db.select().from(whatsappSessions).where(eq(whatsappSessions.id, session.id));
      expect(row?.status).toBe("WORKING");
    });
  });
}
