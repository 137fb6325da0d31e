/**
 * Replies and opt-outs through the running app and the fake WAHA (issue 14): the fake emits WAHA's
 * `message` webhook (POST /__fake/inbound), the app stores and attributes it, and a STOP keyword
 * opts the contact out, checked again when each recipient is taken (wc_send_step).
 */
import { createHmac } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignRecipients, contacts, inboundMessages, webhookEndpoints, webhookOutbox, whatsappSessions, workspaces } from "~/server/db/schema";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { restClient } from "../rest/helpers";

type User = Awaited<ReturnType<typeof createTestUser>>;

for (const backend of backends) {
  describe(`[${backend}] replies and opt-outs`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend);
      app.services.sessions.setWebhookUrl(`${app.url}/api/webhooks/waha`);
    });
    afterAll(async () => {
      await app?.close();
    });

    async function workingNumber(user: User, name: string) {
      const session = await user.trpc.whatsappSession.create({ name });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      await waitFor("number WORKING", async () => (await user.trpc.whatsappSession.get({ id: session.id })).status === "WORKING");
      return session;
    }

    /** A contact writes to the number: the fake emits the `message` webhook, the app applies it. */
    async function reply(wahaSessionName: string, from: string, text: string, extra: Record<string, string> = {}) {
      const answer = await fetch(`${app.fakeWaha.url}/__fake/inbound`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session: wahaSessionName, from, text, ...extra }),
      });
      expect(answer.status).toBe(200);
      await app.fakeWaha.drainWebhooks();
      return (await answer.json()) as { id: string };
    }

    /** A WAHA event posted straight to the app, signed as WAHA signs it. */
    async function postEvent(session: string, event: string, payload: Record<string, unknown>) {
      const body = JSON.stringify({ id: `evt_${Math.random().toString(36).slice(2)}`, timestamp: Date.now(), event, session, payload });
      const answer = await fetch(`${app.url}/api/webhooks/waha`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-webhook-hmac": createHmac("sha512", TEST_WEBHOOK_SECRET).update(body).digest("hex") },
        body,
      });
      return { status: answer.status, body: (await answer.json()) as { outcome?: string } };
    }

    const messagesTo = (session: string, phone: string) =>
      app.fakeWaha.messages().filter((message) => message.session === session && message.chatId === `${phone.slice(1)}@c.us`);

    async function contactByPhone(workspaceId: string, phone: string) {
      const [row] = await app.services.db.select().from(contacts).where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.phone, phone)));
      return row!;
    }

    it("a STOP reply to a running campaign's first message: that contact and one opted out mid-run get nothing more, from this campaign or a later one", async () => {
      const user = await createTestUser(app);
      const number = await workingNumber(user, "Replies");
      const phones = ["+4915123450001", "+4915123450002", "+4915123450003", "+4915123450004", "+4915123450005"];
      const [first, second, , , last] = phones as [string, string, string, string, string];
      const list = await user.trpc.contactList.create({ name: "Audience" });
      await user.trpc.contactList.addContacts({ id: list.id, contacts: phones.map((phone) => ({ phone })) });
      const campaign = await user.trpc.campaign.create({
        name: "Spring sale",
        listId: list.id,
        text: "Spring sale! Reply STOP to opt out",
        sessionId: number.id,
        scheduledAt: new Date(Date.now() + 1500).toISOString(),
        delayMinMs: 1000,
        delayMaxMs: 1000,
      });
      await waitFor("the first message sent", () => messagesTo(number.wahaSessionName, first).length === 1, { timeoutMs: 15_000 });
      // Held while the replies come in, so that the last contact is still pending when it opts out.
      await user.trpc.campaign.pause({ id: campaign.id });
      expect(messagesTo(number.wahaSessionName, last)).toHaveLength(0);

      await reply(number.wahaSessionName, first, "stop");
      await reply(number.wahaSessionName, last, "ARRÊT");
      expect((await contactByPhone(user.workspaceId, first)).optedOut).toBe(true);
      const lastContact = await contactByPhone(user.workspaceId, last);
      expect(lastContact).toMatchObject({ optedOut: true, optedOutSource: "keyword" });
      // Its recipient row was created before it opted out: still pending, the send step skips it.
      const [pendingRow] = await app.services.db.select().from(campaignRecipients).where(and(eq(campaignRecipients.campaignId, campaign.id), eq(campaignRecipients.contactId, lastContact.id)));
      expect(pendingRow?.status).toBe("pending");

      await user.trpc.campaign.resume({ id: campaign.id });
      await waitFor("completed", async () => (await user.trpc.campaign.get({ id: campaign.id })).status === "Completed", { timeoutMs: 20_000 });
      expect(messagesTo(number.wahaSessionName, last)).toHaveLength(0);
      expect(messagesTo(number.wahaSessionName, first)).toHaveLength(1);
      const rows = await app.services.db.select().from(campaignRecipients).where(eq(campaignRecipients.campaignId, campaign.id)).orderBy(campaignRecipients.position);
      expect(rows.map((row) => [row.phone, row.status, row.skipReason])).toEqual([
        [phones[0], "sent", null],
        [phones[1], "sent", null],
        [phones[2], "sent", null],
        [phones[3], "sent", null],
        [phones[4], "skipped", "opted_out"],
      ]);
      expect(rows[4]!.attempts).toBe(0);
      expect((await user.trpc.campaign.get({ id: campaign.id })).counts).toMatchObject({ total: 5, sent: 4, skipped: 1, pending: 0 });
      expect(rows[4]!.wahaMessageId).toBeNull();

      // A reply that is not a keyword: attributed to the campaign and counted, the contact stays in.
      await reply(number.wahaSessionName, second, "Thanks!");
      expect((await contactByPhone(user.workspaceId, second)).optedOut).toBe(false);
      const replies = await user.trpc.campaign.replies({ id: campaign.id });
      expect(replies.replied).toBe(2);
      expect(replies.replies.every((item) => item.contactId !== null)).toBe(true);
      expect(replies.sent).toBe(4);
      expect(replies.rate).toBeCloseTo(0.5);
      expect(replies.replies.map((item) => [item.phone, item.text, item.optOut])).toEqual([
        [first, "stop", true],
        [second, "Thanks!", false],
      ]);
      // The last contact never got a message: its ARRÊT is stored, attributed to no campaign.
      const lastInbound = await app.services.db.select().from(inboundMessages).where(eq(inboundMessages.contactId, lastContact.id));
      expect(lastInbound.map((row) => [row.body, row.campaignId, row.optOut])).toEqual([["ARRÊT", null, true]]);

      // A later campaign to the same list leaves both opted-out contacts out.
      const later = await user.trpc.campaign.create({
        name: "Summer sale",
        listId: list.id,
        text: "Summer sale!",
        sessionId: number.id,
        scheduledAt: new Date(Date.now() + 1200).toISOString(),
        delayMinMs: 0,
        delayMaxMs: 0,
      });
      await waitFor("later campaign completed", async () => (await user.trpc.campaign.get({ id: later.id })).status === "Completed", { timeoutMs: 20_000 });
      expect(messagesTo(number.wahaSessionName, first)).toHaveLength(1);
      expect(messagesTo(number.wahaSessionName, last)).toHaveLength(0);
      const laterRows = await app.services.db.select().from(campaignRecipients).where(eq(campaignRecipients.campaignId, later.id));
      expect(laterRows.map((row) => row.phone).sort()).toEqual([phones[1], phones[2], phones[3]]);

      // The contact page's conversation: our send, then the reply.
      const firstContact = await contactByPhone(user.workspaceId, first);
      const conversation = await user.trpc.contact.conversation({ id: firstContact.id });
      expect(conversation.items.map((item) => [item.kind, item.text])).toEqual([
        ["sent", "Spring sale! Reply STOP to opt out"],
        ["received", "stop"],
      ]);
    });

    it("ignores our own messages, group messages and WAHA's redelivery of one message; a second STOP changes nothing", async () => {
      const user = await createTestUser(app);
      const number = await workingNumber(user, "Inbox");
      const list = await user.trpc.contactList.create({ name: "Inbox" });
      const phone = "+4915123450011";
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone }] });
      const contact = await contactByPhone(user.workspaceId, phone);

      await reply(number.wahaSessionName, phone, "STOP", { chatId: "120363000000000001@g.us" });
      expect((await contactByPhone(user.workspaceId, phone)).optedOut).toBe(false);
      // The number's own message (message.any would bring these), and a status broadcast: ignored.
      const seconds = Math.floor(Date.now() / 1000);
      const own = await postEvent(number.wahaSessionName, "message", { id: "true_4915123450011@c.us_OWN1", from: "4915123450011@c.us", fromMe: true, body: "STOP", timestamp: seconds });
      expect(own).toEqual({ status: 200, body: { ok: true, outcome: "ignored" } });
      const status = await postEvent(number.wahaSessionName, "message", { id: "false_status@broadcast_S1", from: "status@broadcast", fromMe: false, body: "STOP", timestamp: seconds, participant: "4915123450011@c.us" });
      expect(status.body.outcome).toBe("ignored");
      expect((await contactByPhone(user.workspaceId, phone)).optedOut).toBe(false);
      // A phone that is no contact: stored without one (it can opt nobody out).
      const stranger = await postEvent(number.wahaSessionName, "message", { id: "false_4915123450099@c.us_X1", from: "4915123450099@c.us", fromMe: false, body: "STOP", timestamp: seconds });
      expect(stranger.body.outcome).toBe("handled");
      const strays = await app.services.db.select().from(inboundMessages).where(and(eq(inboundMessages.sessionId, number.id), eq(inboundMessages.fromPhone, "+4915123450099")));
      expect(strays.map((row) => [row.contactId, row.optOut])).toEqual([[null, true]]);

      const sent = await reply(number.wahaSessionName, phone, "Hello", { id: "3EB0FIXEDID000001" });
      await reply(number.wahaSessionName, phone, "Hello", { id: "3EB0FIXEDID000001" });
      const stored = await app.services.db.select().from(inboundMessages).where(eq(inboundMessages.contactId, contact.id));
      expect(stored.map((row) => [row.body, row.wahaMessageId])).toEqual([["Hello", sent.id]]);

      await reply(number.wahaSessionName, phone, "Stop!");
      const optedOutAt = (await contactByPhone(user.workspaceId, phone)).optedOutAt;
      expect(optedOutAt).toBeInstanceOf(Date);
      await reply(number.wahaSessionName, phone, "stop");
      expect((await contactByPhone(user.workspaceId, phone)).optedOutAt).toEqual(optedOutAt);
      // A message that only contains the word is no opt-out.
      const other = "+4915123450012";
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone: other }] });
      await reply(number.wahaSessionName, other, "please don't stop");
      expect((await contactByPhone(user.workspaceId, other)).optedOut).toBe(false);
    });

    it("a reply after the attribution window is stored on the contact but counted for no campaign", async () => {
      const user = await createTestUser(app);
      const number = await workingNumber(user, "Window");
      const list = await user.trpc.contactList.create({ name: "Window" });
      const phone = "+4915123450071";
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone }] });
      const campaign = await user.trpc.campaign.create({
        name: "Long ago",
        listId: list.id,
        text: "Hello",
        sessionId: number.id,
        scheduledAt: new Date(Date.now() + 1200).toISOString(),
        delayMinMs: 0,
        delayMaxMs: 0,
      });
      await waitFor("completed", async () => (await user.trpc.campaign.get({ id: campaign.id })).status === "Completed", { timeoutMs: 15_000 });
      // Sent 8 days ago, beyond the default 7.
      await app.services.db.execute(sql`update campaign_recipients set sent_at = now() - interval '8 days' where campaign_id = ${campaign.id}::uuid`);
      await reply(number.wahaSessionName, phone, "Who is this?");
      expect((await user.trpc.campaign.replies({ id: campaign.id })).replied).toBe(0);
      await user.trpc.contact.updateOptOutSettings({ replyAttributionDays: 10 });
      await reply(number.wahaSessionName, phone, "Ah, the sale");
      const replies = await user.trpc.campaign.replies({ id: campaign.id });
      expect(replies.replied).toBe(1);
      expect(replies.replies.map((item) => item.text)).toEqual(["Ah, the sale"]);
      const contact = await contactByPhone(user.workspaceId, phone);
      const conversation = await user.trpc.contact.conversation({ id: contact.id });
      expect(conversation.items.filter((item) => item.kind === "received").map((item) => item.text)).toEqual(["Who is this?", "Ah, the sale"]);
    });

    it("sends the workspace's confirmation once, counted in the number's day, and not when the number is at its limit", async () => {
      const user = await createTestUser(app);
      const number = await workingNumber(user, "Confirms");
      await user.trpc.contact.updateOptOutSettings({ confirmation: "You will not hear from us again." });
      const list = await user.trpc.contactList.create({ name: "Confirm" });
      const [one, two] = ["+4915123450021", "+4915123450022"];
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone: one }, { phone: two }] });

      const [endpoint] = await app.services.db
        .insert(webhookEndpoints)
        .values({ workspaceId: user.workspaceId, url: "https://crm.example.com/hook", events: ["contact.opted_out", "recipient.replied"], secret: "whsec_test" })
        .returning();
      await reply(number.wahaSessionName, one, "unsubscribe");
      const optedOutEvents = await app.services.db.select().from(webhookOutbox).where(eq(webhookOutbox.endpointId, endpoint!.id));
      // No campaign messaged this contact: an opt-out, no reply to a campaign.
      expect(optedOutEvents.map((event) => [event.eventType, (event.payload as { source: string; keyword: string }).keyword])).toEqual([["contact.opted_out", "unsubscribe".toUpperCase()]]);
      await waitFor("confirmation sent", () => messagesTo(number.wahaSessionName, one!).length === 1);
      expect(messagesTo(number.wahaSessionName, one!)[0]!.text).toBe("You will not hear from us again.");
      await reply(number.wahaSessionName, one, "STOP");
      const [counted] = await app.services.db.select().from(whatsappSessions).where(eq(whatsappSessions.id, number.id));
      expect(counted?.sentDayCount).toBe(1);
      expect(messagesTo(number.wahaSessionName, one!)).toHaveLength(1);

      // At its daily limit: the opt-out holds, the confirmation is not sent.
      await user.trpc.whatsappSession.update({ id: number.id, dailyLimit: 1, warmup: false });
      await reply(number.wahaSessionName, two, "stop");
      expect((await contactByPhone(user.workspaceId, two!)).optedOut).toBe(true);
      expect(messagesTo(number.wahaSessionName, two!)).toHaveLength(0);
      const recorded = await app.services.db.select().from(inboundMessages).where(eq(inboundMessages.sessionId, number.id)).orderBy(inboundMessages.id);
      // The first opt-out's confirmation went, the second STOP of the same contact changed nothing, the last was held.
      expect(recorded.map((row) => [row.fromPhone, row.body, row.confirmation])).toEqual([
        [one, "unsubscribe", "sent"],
        [one, "STOP", null],
        [two, "stop", "held"],
      ]);
    });

    it("workspace keywords replace the defaults, whole message, case- and accent-insensitive", async () => {
      const user = await createTestUser(app);
      const number = await workingNumber(user, "Keywords");
      const settings = await user.trpc.contact.updateOptOutSettings({ keywords: ["Pare", "Não quero"] });
      expect(settings).toMatchObject({ keywords: ["Pare", "Não quero"], usesDefaultKeywords: false });
      const list = await user.trpc.contactList.create({ name: "Keywords" });
      const [a, b, c] = ["+4915123450031", "+4915123450032", "+4915123450033"];
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone: a }, { phone: b }, { phone: c }] });
      await reply(number.wahaSessionName, a, "  PARE. ");
      await reply(number.wahaSessionName, b, "nao QUERO!");
      await reply(number.wahaSessionName, c, "STOP");
      expect((await contactByPhone(user.workspaceId, a!)).optedOut).toBe(true);
      expect((await contactByPhone(user.workspaceId, b!)).optedOut).toBe(true);
      expect((await contactByPhone(user.workspaceId, c!)).optedOut).toBe(false);
      expect((await user.trpc.contact.updateOptOutSettings({ keywords: null })).usesDefaultKeywords).toBe(true);
    });

    it("REST: opt-out and opt-in of one contact, scoped to the workspace; opt-in records who and when", async () => {
      const user = await createTestUser(app);
      const stranger = await createTestUser(app);
      const rest = restClient(app, user.apiKey);
      const list = await user.trpc.contactList.create({ name: "Manual" });
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone: "+4915123450041" }] });
      const contact = await contactByPhone(user.workspaceId, "+4915123450041");

      const out = await rest("POST", `/api/v1/contacts/${contact.id}/opt-out`);
      expect(out.status).toBe(200);
      expect(out.body).toMatchObject({ id: contact.id, optedOut: true, optedOutSource: "api" });
      expect((await rest("POST", `/api/v1/contacts/${contact.id}/opt-out`)).body.optedOutAt).toBe(out.body.optedOutAt);

      const foreign = await restClient(app, stranger.apiKey)("POST", `/api/v1/contacts/${contact.id}/opt-in`);
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.code).toBeTruthy();
      expect((await rest("POST", "/api/v1/contacts/not-an-id/opt-in")).status).toBe(400);
      expect((await rest("POST", `/api/v1/contacts/${contact.id}/opt-in`, { by: "me" })).status).toBe(400);

      const before = Date.now();
      const back = await user.trpc.contact.optIn({ id: contact.id });
      expect(back).toMatchObject({ optedOut: false, optedInByUserId: user.id, optedOutSource: "api" });
      expect(back.optedInAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      const viaKey = await rest("POST", `/api/v1/contacts/${contact.id}/opt-in`);
      expect(viaKey.status).toBe(200);
      expect(viaKey.body.optedOut).toBe(false);

      // The workspace's opt-out settings over REST.
      const settings = await rest("GET", "/api/v1/settings/opt-out");
      expect(settings.status).toBe(200);
      expect(settings.body).toMatchObject({ usesDefaultKeywords: true, confirmation: null, replyAttributionDays: 7 });
      expect(settings.body.keywords).toEqual(expect.arrayContaining(["STOP", "BAJA", "ARRÊT"]));
      const patched = await rest("PATCH", "/api/v1/settings/opt-out", { keywords: ["Pare"], confirmation: "Ok, no more messages." });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ keywords: ["Pare"], usesDefaultKeywords: false, confirmation: "Ok, no more messages." });
      const blank = await rest("PATCH", "/api/v1/settings/opt-out", { keywords: ["!!"] });
      expect(blank.status).toBe(400);
      expect(blank.body.error.message).toMatch(/Keyword 1/);
      expect((await rest("PATCH", "/api/v1/settings/opt-out", { keywords: [] })).status).toBe(400);
      expect((await rest("PATCH", "/api/v1/settings/opt-out", { stopWords: ["x"] })).body.error.message).toMatch(/stopWords/);
      expect((await rest("GET", "/api/v1/settings/opt-out")).body.keywords).toEqual(["Pare"]);
    });

    it("suppression list: CSV import opts out (creating missing contacts, within the quota), export lists them, and a contact import never opts back in", async () => {
      const user = await createTestUser(app);
      const rest = restClient(app, user.apiKey);
      const list = await user.trpc.contactList.create({ name: "Known" });
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone: "+4915123450051", first_name: "Ana" }] });

      // An outgoing webhook that wants opt-outs (written directly: the address is not what is tested here).
      const [endpoint] = await app.services.db
        .insert(webhookEndpoints)
        .values({ workspaceId: user.workspaceId, url: "https://crm.example.com/hook", events: ["contact.opted_out"], secret: "whsec_test" })
        .returning();
      const imported = await rest("POST", "/api/v1/suppression/import", "phone\n+4915123450051\n+4915123450052\nnot a phone\n", { "content-type": "text/csv" });
      expect(imported.body).toBeTruthy();
      expect(imported.status, JSON.stringify(imported.body)).toBe(200);
      expect(imported.body).toMatchObject({ received: 3, optedOut: 2, alreadyOptedOut: 0, created: 1 });
      expect(imported.body.rejected).toHaveLength(1);
      expect(imported.body.rejected[0].line).toBe(4);

      const events = await app.services.db.select().from(webhookOutbox).where(eq(webhookOutbox.endpointId, endpoint!.id)).orderBy(webhookOutbox.id);
      expect(events.map((event) => [event.eventType, (event.payload as { phone: string; source: string }).phone, (event.payload as { source: string }).source])).toEqual([
        ["contact.opted_out", "+4915123450052", "suppression_import"],
        ["contact.opted_out", "+4915123450051", "suppression_import"],
      ]);
      const { csv } = await user.trpc.contact.exportSuppressed();
      const lines = csv.trim().split("\n");
      expect(lines[0]).toBe("phone,opted_out_at,source");
      expect(lines.slice(1).map((line) => line.split(",")[0])).toEqual(["+4915123450051", "+4915123450052"]);
      expect(lines[1]).toMatch(/,suppression_import$/);
      const suppressed = await user.trpc.contact.suppressed();
      expect(suppressed.total).toBe(2);

      // Re-importing an opted-out contact as an ordinary contact updates it but never opts it in.
      const again = await rest("POST", `/api/v1/lists/${list.id}/import`, "phone_number,first_name\n+4915123450051,Ana Maria\n", { "content-type": "text/csv" });
      expect(again.status).toBe(200);
      expect(await contactByPhone(user.workspaceId, "+4915123450051")).toMatchObject({ firstName: "Ana Maria", optedOut: true });

      // Over the contact quota: nothing is imported.
      await app.services.db.update(workspaces).set({ quotaContacts: 3 }).where(eq(workspaces.id, user.workspaceId));
      const over = await rest("POST", "/api/v1/suppression/import", "+4915123450061\n+4915123450062\n", { "content-type": "text/csv" });
      expect(over.status).toBe(422);
      expect(over.body.error.message).toMatch(/QUOTA_CONTACTS/);
      expect((await user.trpc.contact.suppressed()).total).toBe(2);
    });
  });
}
