/**
 * Recipients made ahead of the start and in chunks (issue 15, big campaigns), on the real database
 * (each backend) with the fake WAHA over HTTP; what counts is what WAHA received:
 * - a campaign whose rows were made ahead sends each recipient once, at its start;
 * - a contact who joins the list after that is sent to, one removed from the list or opted out is not;
 * - a campaign whose text changed after its rows were made sends the new text;
 * - a making-ahead cut short (a crash after the first chunk) leaves rows that the next attempt, or the
 *   run itself, completes without a second row or message for anyone; two at once make one set;
 * - the sweep's call makes rows only for campaigns due within the next minutes.
 */
import { and, eq, sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { type CampaignRunnerOptions, CampaignRunnerService } from "~/server/services/runner/campaignRunner";
import { writeRecipients } from "~/server/services/runner/recipients";
import { PREPARE_AHEAD_MS, RecipientPreparer } from "~/server/services/scheduling/prepareRecipients";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { campaignRow, chatIdOf, expectedText, nextPhone, perChat, recipientCounts, type Seeded, seedCampaign, sessionMessages } from "../runner/helpers";

const fast: CampaignRunnerOptions = { leaseMs: 2_000, sendRetry: { attempts: 3, baseDelayMs: 5 }, sendTimeoutMs: 1_000, maxWaitMs: 50 };
const silent = pino({ level: "silent" });

for (const backend of backends) {
  describe(`[${backend}] recipients made ahead and in chunks`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    let client: WahaApiClient;
    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0 })]);
      client = new WahaApiClient({ baseUrl: fake.url, timeoutMs: 500 });
    });
    afterAll(async () => {
      await Promise.all([database?.close(), fake?.close()]);
    });

    /** A campaign due in a minute, its number WORKING on the fake. */
    async function seedSoon(recipients: number, options: { body?: string } = {}): Promise<Seeded> {
      const seeded = await seedCampaign(database.db, { recipients, scheduledAt: new Date(Date.now() + 60_000), ...options });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      return seeded;
    }
    /** Its time comes: the run claims it as the scheduler would. */
    async function runNow(seeded: Seeded) {
      await database.db.update(s.campaigns).set({ scheduledAt: new Date(Date.now() - 1_000) }).where(eq(s.campaigns.id, seeded.campaignId));
      return new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
    }
    const received = (seeded: Seeded) => perChat(fake.messages(), seeded.wahaSessionName);
    const rowsPerContact = async (campaignId: string) => {
      const result = (await database.db.execute(
        sql`select count(*)::int as rows, count(distinct contact_id)::int as contacts, count(distinct chat_id)::int as chats from campaign_recipients where campaign_id = ${campaignId}`,
      )) as unknown as { rows: Array<{ rows: number; contacts: number; chats: number }> };
      return result.rows[0]!;
    };

    it("a campaign whose rows were made ahead sends each recipient once, with its text", async () => {
      const seeded = await seedSoon(25);
      expect(await new RecipientPreparer(database.db, silent).prepare(seeded.campaignId)).toBe("prepared");
      const prepared = await campaignRow(database.db, seeded.campaignId);
      expect(prepared).toMatchObject({ status: "Scheduled" });
      expect(prepared!.recipientsMaterializedAt).not.toBeNull();
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ pending: 25 });
      // A second call finds them current.
      expect(await new RecipientPreparer(database.db, silent).prepare(seeded.campaignId)).toBe("current");

      await runNow(seeded);

      expect((await campaignRow(database.db, seeded.campaignId))?.status).toBe("Completed");
      const chats = received(seeded);
      expect(chats.size).toBe(25);
      expect([...chats.values()].every((count) => count === 1)).toBe(true);
      const texts = new Map(sessionMessages(fake.messages(), seeded.wahaSessionName).map((message) => [message.chatId, message.text]));
      for (const contact of seeded.contacts) expect(texts.get(contact.chatId)).toBe(expectedText(contact));
      expect(await rowsPerContact(seeded.campaignId)).toEqual({ rows: 25, contacts: 25, chats: 25 });
    });

    it("after the rows were made: a contact who joined is sent to, one removed from the list or opted out is not", async () => {
      const seeded = await seedSoon(6);
      await new RecipientPreparer(database.db, silent).prepare(seeded.campaignId);
      const [removed, optedOut] = [seeded.contacts[1]!, seeded.contacts[4]!];
      await database.db
        .delete(s.contactListMembers)
        .where(and(eq(s.contactListMembers.listId, seeded.listId), eq(s.contactListMembers.contactId, removed.id)));
      await database.db.update(s.contacts).set({ optedOut: true }).where(eq(s.contacts.id, optedOut.id));
      const [joined] = await database.db
        .insert(s.contacts)
        .values({ workspaceId: seeded.workspaceId, phone: nextPhone(), firstName: "Late", attributes: { code: "L1" } })
        .returning();
      await database.db.insert(s.contactListMembers).values({ listId: seeded.listId, contactId: joined!.id });

      await runNow(seeded);

      expect((await campaignRow(database.db, seeded.campaignId))?.status).toBe("Completed");
      const chats = received(seeded);
      const expected = [...seeded.contacts.filter((contact) => contact !== removed && contact !== optedOut).map((contact) => contact.chatId), chatIdOf(joined!.phone)];
      expect([...chats.keys()].sort()).toEqual(expected.sort());
      expect([...chats.values()].every((count) => count === 1)).toBe(true);
      // The newcomer comes after those already there.
      const order = sessionMessages(fake.messages(), seeded.wahaSessionName).map((message) => message.chatId);
      expect(order.at(-1)).toBe(chatIdOf(joined!.phone));
    });

    it("a campaign whose text changed after its rows were made sends the new text", async () => {
      const seeded = await seedSoon(3);
      await new RecipientPreparer(database.db, silent).prepare(seeded.campaignId);
      const campaign = await campaignRow(database.db, seeded.campaignId);
      await database.db.update(s.templates).set({ body: "New text for {{first_name|you}}" }).where(eq(s.templates.id, campaign!.templateId!));

      await runNow(seeded);

      const texts = sessionMessages(fake.messages(), seeded.wahaSessionName).map((message) => message.text);
      expect(texts).toHaveLength(3);
      expect(texts.every((text) => text?.startsWith("New text for "))).toBe(true);
    });

    it("a making-ahead cut short after its first chunk is completed by the next one without a second row; the campaign sends each once", async () => {
      const seeded = await seedSoon(25);
      const campaign = (await campaignRow(database.db, seeded.campaignId))!;
      const crash = new Error("process killed");
      await expect(
        writeRecipients(database.db, campaign, "Hi {{first_name|there}}, code {{code}}", { kind: "ahead" }, "all", {
          chunk: 10,
          afterChunk: async () => {
            throw crash;
          },
        }),
      ).rejects.toBe(crash);
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ pending: 10 });
      expect((await campaignRow(database.db, seeded.campaignId))!.recipientsMaterializedAt).toBeNull();

      expect(await new RecipientPreparer(database.db, silent).prepare(seeded.campaignId)).toBe("prepared");
      expect(await rowsPerContact(seeded.campaignId)).toEqual({ rows: 25, contacts: 25, chats: 25 });

      await runNow(seeded);
      const chats = received(seeded);
      expect(chats.size).toBe(25);
      expect([...chats.values()].every((count) => count === 1)).toBe(true);
    });

    it("a run that starts while rows made ahead are incomplete makes them itself: each recipient once", async () => {
      const seeded = await seedSoon(25);
      const campaign = (await campaignRow(database.db, seeded.campaignId))!;
      await writeRecipients(database.db, campaign, "Hi {{first_name|there}}, code {{code}}", { kind: "ahead" }, "all", {
        chunk: 10,
        afterChunk: async () => {
          throw new Error("process killed");
        },
      }).catch(() => undefined);

      await runNow(seeded);

      expect((await campaignRow(database.db, seeded.campaignId))?.status).toBe("Completed");
      const chats = received(seeded);
      expect(chats.size).toBe(25);
      expect([...chats.values()].every((count) => count === 1)).toBe(true);
      expect(await rowsPerContact(seeded.campaignId)).toEqual({ rows: 25, contacts: 25, chats: 25 });
    });

    it("two makings-ahead at once (two processes' sweeps) make one row per contact", async () => {
      const seeded = await seedSoon(40);
      const outcomes = await Promise.all([
        new RecipientPreparer(database.db, silent).prepare(seeded.campaignId),
        new RecipientPreparer(database.db, silent).prepare(seeded.campaignId),
      ]);
      expect(outcomes).toContain("prepared");
      expect(await rowsPerContact(seeded.campaignId)).toEqual({ rows: 40, contacts: 40, chats: 40 });
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ pending: 40 });
    });

    it("the sweep's call makes rows for a campaign due within the next minutes, not for one due later", async () => {
      const soon = await seedSoon(2);
      const later = await seedCampaign(database.db, { recipients: 2, scheduledAt: new Date(Date.now() + PREPARE_AHEAD_MS + 10 * 60_000) });
      await new RecipientPreparer(database.db, silent).prepareDue();
      expect((await campaignRow(database.db, soon.campaignId))!.recipientsMaterializedAt).not.toBeNull();
      expect(await recipientCounts(database.db, soon.campaignId)).toEqual({ pending: 2 });
      expect((await campaignRow(database.db, later.campaignId))!.recipientsMaterializedAt).toBeNull();
      expect(await recipientCounts(database.db, later.campaignId)).toEqual({});
    });
  });
}
