/**
 * Issue 14, outcomes and after a campaign, through the app's REST API and the fake WAHA: acks move the
 * funnel (delivered, read; ack −1 after sending is `failed` with its reason), cancel leaves the unsent
 * recipients `cancelled`, retry-failed resends only the failed recipients, each once, duplicate copies
 * as a Draft, the CSV export answers with the outcomes (API key and session cookie), and a WEBJS
 * session is created with `tagsEventsOn`.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignRecipients } from "~/server/db/schema";
import { openSession } from "~/server/services/auth";
import { ACK_ERROR_REASON } from "~/server/services/wahaWebhooks";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { inMs, type Json, restClient } from "../rest/helpers";

for (const backend of backends) {
  describe(`[${backend}] campaign outcomes`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend);
      app.services.sessions.setWebhookUrl(`${app.url}/api/webhooks/waha`);
    });
    afterAll(async () => {
      await app?.close();
    });

    /** A user with a WORKING number and a list of `size` contacts; the REST client with their key. */
    async function setUp(size: number, tag: string) {
      const user = await createTestUser(app);
      const rest = restClient(app, user.apiKey);
      const session = await user.trpc.whatsappSession.create({ name: `Outcomes ${tag}` });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      const list = await user.trpc.contactList.create({ name: `List ${tag}` });
      const base = 4915170000000 + Math.floor(Math.random() * 100_000) * 100;
      const phones = Array.from({ length: size }, (_, index) => `+${base + index}`);
      await user.trpc.contactList.addContacts({ id: list.id, contacts: phones.map((phone, index) => ({ phone, firstName: `C${index}` })) });
      return { user, rest, apiKey: user.apiKey, session, list, phones };
    }

    const messagesOf = (sessionName: string) => app.fakeWaha.messages().filter((message) => message.session === sessionName);

    async function createCampaign(rest: ReturnType<typeof restClient>, fields: Json) {
      const created = await rest("POST", "/api/v1/campaigns", { text: "Hello {{first_name|there}}", scheduledAt: inMs(2500), delayMinMs: 0, delayMaxMs: 0, ...fields });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body as Json;
    }

    async function completed(rest: ReturnType<typeof restClient>, id: string): Promise<Json> {
      return waitFor(
        `campaign ${id} completed`,
        async () => {
          const { body } = await rest("GET", `/api/v1/campaigns/${id}`);
          return body.status === "Completed" ? body : null;
        },
        { timeoutMs: 20_000 },
      );
    }

    it("acks 2 and 3 move the funnel; an ack -1 after sending makes the recipient failed, with the reason", async () => {
      const { rest, apiKey, session, list, phones } = await setUp(4, "funnel");
      const campaign = await createCampaign(rest, { name: "Funnel", listId: list.id, sessionId: session.id });
      await completed(rest, campaign.id);
      // The fake acks every send SERVER then DEVICE by itself: all four delivered, none read.
      const delivered = await waitFor("four delivered", async () => {
        const { body } = await rest("GET", `/api/v1/campaigns/${campaign.id}`);
        return body.counts.delivered === 4 ? body : null;
      });
      expect(delivered.counts).toMatchObject({ total: 4, sent: 4, delivered: 4, read: 0, replied: 0, failed: 0 });

      const byChat = new Map(messagesOf(session.wahaSessionName).map((message) => [message.chatId, message.id]));
      const idOf = (phone: string) => byChat.get(`${phone.slice(1)}@c.us`)!;
      expect(app.fakeWaha.setAck(idOf(phones[0]!), 3)).toBe(true);
      expect(app.fakeWaha.setAck(idOf(phones[1]!), 4)).toBe(true);
      expect(app.fakeWaha.setAck(idOf(phones[2]!), -1)).toBe(true);
      const after = await waitFor("two read, one failed", async () => {
        const { body } = await rest("GET", `/api/v1/campaigns/${campaign.id}`);
        return body.counts.read === 2 && body.counts.failed === 1 ? body : null;
      });
      expect(after.counts).toMatchObject({ total: 4, sent: 3, delivered: 3, read: 2, failed: 1 });

      const { body: page } = await rest("GET", `/api/v1/campaigns/${campaign.id}/recipients?status=failed`);
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({ phone: phones[2], status: "failed", ack: -1, lastError: ACK_ERROR_REASON });
      // A later, lower ack changes nothing.
      expect(app.fakeWaha.setAck(idOf(phones[0]!), 2)).toBe(true);
      await app.fakeWaha.drainWebhooks();
      expect((await rest("GET", `/api/v1/campaigns/${campaign.id}`)).body.counts).toMatchObject({ delivered: 3, read: 2 });

      // The export says the same, one row per recipient.
      const keyless = await fetch(`${app.url}/api/v1/campaigns/${campaign.id}/recipients?format=csv`);
      expect(keyless.status).toBe(401); // no key: refused before a byte of CSV
      const exported = await exportCsv(campaign.id, apiKey);
      expect(exported.map((row) => [row.phone, row.outcome])).toEqual([
        [phones[0], "read"],
        [phones[1], "read"],
        [phones[2], "failed"],
        [phones[3], "delivered"],
      ]);
      expect(exported[2]!.lastError).toBe(ACK_ERROR_REASON);
      expect(exported[0]!.name).toBe("C0");
      expect(exported[0]!.sentAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    });

    it("an unknown recipient (a send a crash left unconfirmed) that WAHA later acks is sent", async () => {
      const { rest, session, list } = await setUp(1, "unknown");
      const campaign = await createCampaign(rest, { name: "Unconfirmed", listId: list.id, sessionId: session.id });
      await completed(rest, campaign.id);
      // The fake acks the send by itself on timers (SERVER, then DEVICE at twice the delay), which may not
      // have fired yet when the campaign completes: draining then would not wait for them, and a late
      // automatic ack would turn the `unknown` set below into `sent`. Wait until the last automatic ack
      // (DEVICE) is applied, then drain any delivery still under way (the SERVER ack's): none comes after.
      await waitFor("the automatic acks applied", async () => (await rest("GET", `/api/v1/campaigns/${campaign.id}`)).body.counts.delivered === 1);
      await app.fakeWaha.drainWebhooks();
      // As recovery leaves a send WAHA could not confirm either way.
      await app.services.db.update(campaignRecipients).set({ status: "unknown", ack: null }).where(eq(campaignRecipients.campaignId, campaign.id));
      expect((await rest("GET", `/api/v1/campaigns/${campaign.id}`)).body.counts).toMatchObject({ sent: 0, unknown: 1 });
      const [message] = messagesOf(session.wahaSessionName);
      expect(app.fakeWaha.setAck(message!.id, 3)).toBe(true);
      await waitFor("acked as read", async () => (await rest("GET", `/api/v1/campaigns/${campaign.id}`)).body.counts.read === 1);
      // A fresh read: one read counts statuses and the funnel in two statements, so the read that saw the
      // funnel move may have counted the statuses just before the ack committed.
      const after = (await rest("GET", `/api/v1/campaigns/${campaign.id}`)).body;
      expect(after.counts).toMatchObject({ sent: 1, unknown: 0, delivered: 1, read: 1 });
    });

    it("cancel leaves the unsent recipients cancelled, and nothing more is sent", async () => {
      const { rest, session, list } = await setUp(6, "cancel");
      // A minute between messages: the first goes out, the others wait.
      const campaign = await createCampaign(rest, { name: "Cancelled", listId: list.id, sessionId: session.id, delayMinMs: 60_000, delayMaxMs: 60_000 });
      await waitFor("the first message sent", () => messagesOf(session.wahaSessionName).length === 1, { timeoutMs: 15_000 });
      const cancelled = await rest("POST", `/api/v1/campaigns/${campaign.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe("Cancelled");
      expect(cancelled.body.counts).toMatchObject({ total: 6, sent: 1, pending: 0, sending: 0, cancelled: 5 });
      const rows = await app.services.db.select().from(campaignRecipients).where(eq(campaignRecipients.campaignId, campaign.id));
      expect(rows.filter((row) => row.status === "cancelled")).toHaveLength(5);
      expect(rows.filter((row) => row.status === "cancelled").every((row) => row.sentAt === null && row.wahaMessageId === null)).toBe(true);
      expect(messagesOf(session.wahaSessionName)).toHaveLength(1);
      // Nothing cancelled can be retried as failed.
      expect((await rest("POST", `/api/v1/campaigns/${campaign.id}/retry-failed`, {})).status).toBe(409);
    });

    it("retry-failed resends only the failed recipients, each once, in a campaign linked by retryOf", async () => {
      const { rest, session, list, phones } = await setUp(5, "retry");
      const campaign = await createCampaign(rest, { name: "Retried", listId: list.id, sessionId: session.id, text: "Offer {A|B} for {{first_name}}" });
      // While it has not ended: 409.
      const early = await rest("POST", `/api/v1/campaigns/${campaign.id}/retry-failed`, {});
      expect(early.status).toBe(409);
      await completed(rest, campaign.id);
      const firstSends = messagesOf(session.wahaSessionName);
      expect(firstSends).toHaveLength(5);
      const failedPhones = [phones[1]!, phones[3]!];
      for (const phone of failedPhones) {
        expect(app.fakeWaha.setAck(firstSends.find((message) => message.chatId === `${phone.slice(1)}@c.us`)!.id, -1)).toBe(true);
      }
      await waitFor("two failed", async () => (await rest("GET", `/api/v1/campaigns/${campaign.id}`)).body.counts.failed === 2);

      const retry = await rest("POST", `/api/v1/campaigns/${campaign.id}/retry-failed`, {});
      expect(retry.status, JSON.stringify(retry.body)).toBe(201);
      expect(retry.body).toMatchObject({ retryOf: campaign.id, name: "Retried (retry)" });
      expect(retry.body.counts.total).toBe(2);
      // A second retry of the same campaign would send twice: refused, naming the first.
      const again = await rest("POST", `/api/v1/campaigns/${campaign.id}/retry-failed`, {});
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain(retry.body.id);

      await completed(rest, retry.body.id);
      const sends = messagesOf(session.wahaSessionName);
      const perChat = new Map<string, number>();
      for (const message of sends) perChat.set(message.chatId, (perChat.get(message.chatId) ?? 0) + 1);
      for (const phone of phones) expect(perChat.get(`${phone.slice(1)}@c.us`)).toBe(failedPhones.includes(phone) ? 2 : 1);
      // The same text as first rendered (its spintax variant and name), not a new rendering.
      for (const phone of failedPhones) {
        const [first, second] = sends.filter((message) => message.chatId === `${phone.slice(1)}@c.us`);
        expect(second!.text).toBe(first!.text);
      }
      const retried = await rest("GET", `/api/v1/campaigns/${retry.body.id}`);
      expect(retried.body.counts).toMatchObject({ total: 2, sent: 2, failed: 0 });
    });

    it("duplicate copies the settings as a Draft, or Scheduled at the time given", async () => {
      const { rest, session, list } = await setUp(1, "duplicate");
      const campaign = await createCampaign(rest, { name: "Original", listId: list.id, sessionId: session.id, scheduledAt: inMs(3_600_000), delayMinMs: 1000, delayMaxMs: 2000 });
      const draft = await rest("POST", `/api/v1/campaigns/${campaign.id}/duplicate`, {});
      expect(draft.status, JSON.stringify(draft.body)).toBe(201);
      expect(draft.body).toMatchObject({ name: "Original (copy)", status: "Draft", scheduledAt: null, listId: list.id, messageText: campaign.messageText, delayMinMs: 1000, delayMaxMs: 2000, retryOf: null });
      const at = inMs(7_200_000);
      const scheduled = await rest("POST", `/api/v1/campaigns/${campaign.id}/duplicate`, { scheduledAt: at });
      expect(scheduled.status).toBe(201);
      expect(scheduled.body.status).toBe("Scheduled");
      expect(new Date(scheduled.body.scheduledAt).getTime()).toBe(new Date(at).getTime());
      const past = await rest("POST", `/api/v1/campaigns/${campaign.id}/duplicate`, { scheduledAt: new Date(Date.now() - 60_000).toISOString() });
      expect(past.status).toBe(422);
      expect(past.body.error.field).toBe("scheduledAt");
      expect((await rest("POST", `/api/v1/campaigns/00000000-0000-4000-8000-000000000000/duplicate`, {})).status).toBe(404);

      // A copy scheduled at once gets every check a new campaign gets: its template deleted since is a 422, and no copy is left.
      const template = await rest("POST", "/api/v1/templates", { name: "Gone soon", body: "Hi {{first_name}}" });
      const templated = await createCampaign(rest, { name: "Templated", listId: list.id, sessionId: session.id, text: undefined, templateId: template.body.id, scheduledAt: inMs(3_600_000) });
      expect((await rest("POST", `/api/v1/campaigns/${templated.id}/cancel`)).status).toBe(200);
      expect((await rest("DELETE", `/api/v1/templates/${template.body.id}`)).status).toBe(204);
      const before = (await rest("GET", "/api/v1/campaigns?limit=100")).body.items.length;
      const refused = await rest("POST", `/api/v1/campaigns/${templated.id}/duplicate`, { scheduledAt: inMs(3_600_000) });
      expect(refused.status, JSON.stringify(refused.body)).toBe(422);
      expect((await rest("GET", "/api/v1/campaigns?limit=100")).body.items.length).toBe(before);
    });

    it("the CSV downloads with the dashboard's session cookie, only for the caller's own campaign", async () => {
      const { user, rest, session, list, phones } = await setUp(2, "cookie");
      const campaign = await createCampaign(rest, { name: "=HYPERLINK(\"x\")", listId: list.id, sessionId: session.id });
      await completed(rest, campaign.id);
      const { token } = await openSession(app.services.db, user);
      const download = await fetch(`${app.url}/api/campaigns/${campaign.id}/recipients.csv`, { headers: { cookie: `wc_session=${token}` } });
      expect(download.status).toBe(200);
      expect(download.headers.get("content-type")).toMatch(/^text\/csv/);
      expect(download.headers.get("content-disposition")).toContain("attachment");
      const lines = (await download.text()).trim().split("\r\n");
      expect(lines[0]).toBe("phone,name,outcome,status,skipReason,sentAt,ack,ackAt,repliedAt,lastError");
      expect(lines.slice(1).map((line) => line.split(",")[0])).toEqual(phones);

      expect((await fetch(`${app.url}/api/campaigns/${campaign.id}/recipients.csv`)).status).toBe(401);
      const stranger = await createTestUser(app);
      const strangerSession = await openSession(app.services.db, stranger);
      const refused = await fetch(`${app.url}/api/campaigns/${campaign.id}/recipients.csv`, { headers: { cookie: `wc_session=${strangerSession.token}` } });
      expect(refused.status).toBe(404);
      expect(await refused.json()).toMatchObject({ error: { code: "not_found" } });
      const wrongFormat = await rest("GET", `/api/v1/campaigns/${campaign.id}/recipients?format=xml`);
      expect(wrongFormat.status).toBe(400);
      const mixed = await rest("GET", `/api/v1/campaigns/${campaign.id}/recipients?format=csv&limit=5`);
      expect(mixed.status).toBe(400);
    });

    it("a number created on a WEBJS server gets config.webjs.tagsEventsOn, so WEBJS sends its acks", async () => {
      const user = await createTestUser(app);
      const session = await user.trpc.whatsappSession.create({ name: "Webjs acks" });
      const raw = (await (await fetch(`${app.fakeWaha.url}/api/sessions/${session.wahaSessionName}`)).json()) as Json;
      expect(raw.engine.engine).toBe("WEBJS");
      expect(raw.config.webjs).toEqual({ tagsEventsOn: true });
    });

    /** The campaign's CSV through REST, parsed (no quoted commas in these rows). */
    async function exportCsv(campaignId: string, key: string): Promise<Array<Record<string, string>>> {
      const response = await fetch(`${app.url}/api/v1/campaigns/${campaignId}/recipients?format=csv`, { headers: { authorization: `Bearer ${key}` } });
      expect(response.status).toBe(200);
      const [header, ...rows] = (await response.text()).trim().split("\r\n");
      const columns = header!.split(",");
      return rows.map((line) => Object.fromEntries(line.split(",").map((cell, index) => [columns[index]!, cell.replace(/^"|"$/g, "")])));
    }
  });
}
