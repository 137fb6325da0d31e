/**
 * Spintax end to end, through the running app (REST and tRPC) and the fake WAHA: every text WAHA
 * receives is one of the variants, none carries spintax syntax, each recipient's stored text is the
 * one sent, and the editor's preview predicted how many distinct texts the list would get.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { inMs, restClient, type Json } from "../rest/helpers";

const BODY = "{Hi|Hello|Hey} {{first_name|there}}, {our {spring|summer} sale|the big sale} starts {today|now}!";

/** Every text BODY makes for one name, written out by hand (3 greetings x 3 sales x 2 times). */
function variantsFor(name: string): Set<string> {
  const texts = new Set<string>();
  for (const greeting of ["Hi", "Hello", "Hey"]) {
    for (const sale of ["our spring sale", "our summer sale", "the big sale"]) {
      for (const when of ["today", "now"]) texts.add(`${greeting} ${name}, ${sale} starts ${when}!`);
    }
  }
  return texts;
}

const NAMES = ["Ana", "Ben", "Caro", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo"];

for (const backend of backends) {
  describe(`[${backend}] spintax through the app and WAHA`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend);
    });
    afterAll(async () => {
      await app?.close();
    });

    it("every sent text is one of the variants, without spintax syntax, and as stored; the preview counted them", async () => {
      const user = await createTestUser(app);
      const api = restClient(app, user.apiKey);
      const session = await user.trpc.whatsappSession.create({ name: "Spin" });
      app.fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
      const list = await user.trpc.contactList.create({ name: "Spun" });
      // Within a new number's daily limit (20), so the campaign finishes today.
      const contacts = Array.from({ length: 18 }, (_, i) => ({
        phone: `+4915123457${String(100 + i)}`,
        ...(i < 10 ? { first_name: NAMES[i] } : {}),
      }));
      await user.trpc.contactList.addContacts({ id: list.id, contacts });

      const template = await api("POST", "/api/v1/templates", { name: "Spun", body: BODY });
      expect(template.status, JSON.stringify(template.body)).toBe(201);

      const preview = await user.trpc.template.preview({ body: BODY, listId: list.id });
      expect(preview).toMatchObject({ problem: null, spintax: true, variantCount: 18, variantCountCapped: false });
      expect(preview.samples.length).toBe(5);
      // Without a chosen contact the preview is for the list member that fills the most placeholders: one with a first name.
      expect(NAMES).toContain(preview.sample.firstName);
      expect(preview.sample.missing).toEqual([]);
      for (const sample of preview.samples) expect(variantsFor(preview.sample.firstName!).has(sample)).toBe(true);
      expect(preview.list).toMatchObject({ recipients: 18, partial: false });

      const created = await api("POST", "/api/v1/campaigns", {
        name: "Spin sale",
        listId: list.id,
        templateId: template.body.id,
        sessionId: session.id,
        scheduledAt: inMs(1500),
        delayMinMs: 0,
        delayMaxMs: 0,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      await waitFor(
        "the campaign to complete",
        async () => {
          const campaign = (await api("GET", `/api/v1/campaigns/${created.body.id}`)).body;
          return campaign.status === "Completed" ? campaign : null;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );

      const sent = app.fakeWaha.messages().filter((message) => message.session === session.wahaSessionName);
      expect(sent).toHaveLength(18);
      const nameByChat = new Map(contacts.map((contact) => [`${contact.phone.slice(1)}@c.us`, contact.first_name ?? "there"]));
      for (const message of sent) {
        expect(message.text).not.toMatch(/[{}|]/);
        expect(variantsFor(nameByChat.get(message.chatId)!).has(message.text!), message.text!).toBe(true);
      }
      // Chosen per recipient: eight contacts without a name still get several texts.
      const namelessTexts = new Set(sent.filter((message) => nameByChat.get(message.chatId) === "there").map((message) => message.text));
      expect(namelessTexts.size).toBeGreaterThan(1);
      // What WAHA got is what each recipient row keeps (a resend or recovery sends the same text).
      const recipients = await api("GET", `/api/v1/campaigns/${created.body.id}/recipients?limit=100`);
      const sentByChat = new Map(sent.map((message) => [message.chatId, message.text]));
      for (const recipient of recipients.body.items as Json[]) expect(recipient.renderedText).toBe(sentByChat.get(`${recipient.phone.slice(1)}@c.us`));
      // The preview's count was exact: the same seeds decide both.
      expect(new Set(sent.map((message) => message.text)).size).toBe(preview.list!.distinctTexts);
      // Every call WAHA got for the number was a send (the fake's call log).
      const calls = app.fakeWaha.calls().filter((call) => call.session === session.wahaSessionName && call.path === "/api/sendText");
      expect(calls).toHaveLength(18);
    });

    it("blank texts, unclosed placeholders and unbalanced spintax are refused with a message naming the position", async () => {
      const user = await createTestUser(app);
      const api = restClient(app, user.apiKey);
      const list = await user.trpc.contactList.create({ name: "Refused" });
      await user.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone: "+4915123457999" }] });

      const blank = await api("POST", "/api/v1/templates", { name: "Blank", body: "    " });
      expect(blank.status).toBe(400);
      expect(blank.body.error).toMatchObject({ code: expect.any(String), message: expect.stringContaining("The message is empty") });

      const unclosed = await api("POST", "/api/v1/templates", { name: "Unclosed", body: "Hi {{first_name" });
      expect(unclosed.status).toBe(400);
      expect(unclosed.body.error.message).toContain("{{ at position 4 is not closed");

      const stray = await api("POST", "/api/v1/templates", { name: "Stray", body: "Hi | there" });
      expect(stray.status).toBe(400);
      expect(stray.body.error.message).toContain("position 4");

      const campaign = await api("POST", "/api/v1/campaigns", { name: "Bad", listId: list.id, text: "{Hi|Hello there", scheduledAt: inMs(60_000) });
      expect(campaign.status).toBe(400);
      expect(campaign.body.error.message).toContain("{ at position 1 is never closed");
      const blankCampaign = await api("POST", "/api/v1/campaigns", { name: "Blank", listId: list.id, text: " \n ", scheduledAt: inMs(60_000) });
      expect(blankCampaign.status).toBe(400);

      await expect(user.trpc.template.create({ name: "Blank", body: "\t \n" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect((await api("GET", "/api/v1/templates")).body.items).toEqual([]);
      const preview = await user.trpc.template.preview({ body: "Hi }" });
      expect(preview.problem).toMatchObject({ position: 4 });
    });
  });
}
