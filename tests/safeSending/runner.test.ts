/**
 * The send loop's safe-sending rules under a controlled clock (issue 13): CampaignRunnerService on
 * the real database (each backend) and the fake WAHA over HTTP, with `now` moved by the test instead
 * of waiting (the runner re-reads its rules every `maxWaitMs`):
 * - recipient-local send windows for two countries (Germany, Japan): the open country's recipients
 *   go first, the others wait for their own 09:00, then go;
 * - batch pauses: after each batch the campaign waits `batchPauseMs` of the clock;
 * - the hourly limit, and the warm-up's first-day limit (20 however high the daily limit);
 * - consecutive failures: N refused sends in a row, or the last N sent messages acked −1, pause the
 *   number's campaigns;
 * - latestStart: a due campaign past it becomes Missed, with a reason, and sends nothing.
 */
import { createHmac } from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { type CampaignRunnerOptions, CampaignRunnerService } from "~/server/services/runner/campaignRunner";
import { WahaApiClient } from "~/server/services/waha/client";
import { handleWahaWebhook } from "~/server/services/wahaWebhooks";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { campaignRow, chatIdOf, recipientCounts, type Seeded, seedCampaign, sessionMessages } from "../runner/helpers";

const HMAC_KEY = "test-webhook-key-for-acks";
const fast: CampaignRunnerOptions = { leaseMs: 2_000, sendRetry: { attempts: 3, baseDelayMs: 5 }, sendTimeoutMs: 1_000, maxWaitMs: 50 };

/** A clock the test moves. */
function testClock(start: string) {
  let at = new Date(start);
  return { now: () => at, set: (iso: string) => (at = new Date(iso)), advance: (ms: number) => (at = new Date(at.getTime() + ms)) };
}

for (const backend of backends) {
  describe(`[${backend}] safe-sending rules in the send loop, under a controlled clock`, () => {
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
    beforeEach(() => {
      fake.setFaults({ latencyMs: 0, errorRate: 0, failNext: 0 });
    });

    async function seed(recipients: number, campaign: Partial<typeof s.campaigns.$inferInsert> = {}, number: Partial<typeof s.whatsappSessions.$inferInsert> = {}): Promise<Seeded> {
      const seeded = await seedCampaign(database.db, { recipients });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      if (Object.keys(campaign).length > 0) await database.db.update(s.campaigns).set(campaign).where(eq(s.campaigns.id, seeded.campaignId));
      if (Object.keys(number).length > 0) await database.db.update(s.whatsappSessions).set(number).where(eq(s.whatsappSessions.id, seeded.sessionId));
      return seeded;
    }
    const sentChats = (seeded: Seeded) => sessionMessages(fake.messages(), seeded.wahaSessionName).map((message) => message.chatId);
    const waitingOf = async (seeded: Seeded) => {
      const row = await campaignRow(database.db, seeded.campaignId);
      return row?.waitingReason ? { reason: row.waitingReason, until: row.waitingUntil!.toISOString(), detail: row.waitingDetail } : null;
    };

    it("recipient-local windows for Germany and Japan: the open country's recipients go first, the others at their own 09:00", async () => {
      const seeded = await seed(4, { sendWindow: { start: "09:00", end: "20:00", timeZone: "UTC", recipientLocal: true } });
      // Two German and two Japanese mobile numbers (set before the rows are created).
      const phones = ["+4915112340001", "+819012340002", "+4915112340003", "+819012340004"];
      for (const [index, contact] of seeded.contacts.entries()) {
        await database.db.update(s.contacts).set({ phone: phones[index]! }).where(eq(s.contacts.id, contact.id));
      }
      // 15:00 UTC on a June Monday: 17:00 in Berlin (open), 00:00 in Tokyo (closed).
      const clock = testClock("2026-06-15T15:00:00Z");
      const run = new CampaignRunnerService(database.db, client, { ...fast, now: clock.now }).runCampaign(seeded.campaignId);

      await waitFor("Japan to wait for its window", async () => (await waitingOf(seeded))?.reason === "send_window");
      expect(sentChats(seeded).sort()).toEqual([chatIdOf(phones[0]!), chatIdOf(phones[2]!)]);
      // Tokyo's next 09:00 is 00:00 UTC on the 16th.
      expect(await waitingOf(seeded)).toMatchObject({ reason: "send_window", until: "2026-06-16T00:00:00.000Z", detail: "09:00–20:00" });
      const zones = await database.db
        .select({ phone: s.campaignRecipients.phone, zone: s.campaignRecipients.timeZone })
        .from(s.campaignRecipients)
        .where(eq(s.campaignRecipients.campaignId, seeded.campaignId));
      expect(Object.fromEntries(zones.map((row) => [row.phone, row.zone]))).toEqual({
        [phones[0]!]: "Europe/Berlin",
        [phones[1]!]: "Asia/Tokyo",
        [phones[2]!]: "Europe/Berlin",
        [phones[3]!]: "Asia/Tokyo",
      });

      // 09:30 in Tokyo (02:30 in Berlin, closed there now).
      clock.set("2026-06-16T00:30:00Z");
      expect(await run).toEqual({ claimed: true, status: "Completed" });
      expect(sentChats(seeded)).toEqual([phones[0], phones[2], phones[1], phones[3]].map((phone) => chatIdOf(phone!)));
      expect(await waitingOf(seeded)).toBeNull();
    }, 30_000);

    it("batch pauses: after each batch of 2 the campaign waits batchPauseMs of the clock", async () => {
      const seeded = await seed(5, { batchSize: 2, batchPauseMs: 3_600_000 });
      const clock = testClock("2026-03-02T10:00:00Z");
      const run = new CampaignRunnerService(database.db, client, { ...fast, now: clock.now }).runCampaign(seeded.campaignId);
      for (const [sentBefore, pauseEnds] of [
        [2, "2026-03-02T11:00:00.000Z"],
        [4, "2026-03-02T12:00:00.000Z"],
      ] as const) {
        await waitFor(`a batch pause after ${sentBefore}`, async () => (await waitingOf(seeded))?.until === pauseEnds);
        expect(sentChats(seeded)).toHaveLength(sentBefore);
        expect(await waitingOf(seeded)).toEqual({ reason: "batch_pause", until: pauseEnds, detail: "2" });
        clock.advance(3_600_000);
      }
      expect(await run).toEqual({ claimed: true, status: "Completed" });
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 5 });
    }, 30_000);

    it("hourly limit: 2 an hour, the next hour's 2 once the clock passes it", async () => {
      const seeded = await seed(3, {}, { hourlyLimit: 2, timeZone: "Asia/Kolkata" });
      // 10:20 in Kolkata (UTC+5:30): its hour ends at 11:00 there, 05:30 UTC.
      const clock = testClock("2026-03-02T04:50:00Z");
      const run = new CampaignRunnerService(database.db, client, { ...fast, now: clock.now }).runCampaign(seeded.campaignId);
      await waitFor("the hourly limit", async () => (await waitingOf(seeded))?.reason === "hourly_limit");
      expect(sentChats(seeded)).toHaveLength(2);
      expect(await waitingOf(seeded)).toEqual({ reason: "hourly_limit", until: "2026-03-02T05:30:00.000Z", detail: "2" });
      clock.set("2026-03-02T05:30:00Z");
      expect(await run).toEqual({ claimed: true, status: "Completed" });
      expect(sentChats(seeded)).toHaveLength(3);
    }, 30_000);

    it("warm-up: a new number sends 20 on its first day, whatever its daily limit", async () => {
      const seeded = await seed(22, {}, { dailyLimit: 200, warmup: true });
      const clock = testClock("2026-03-02T10:00:00Z");
      const run = new CampaignRunnerService(database.db, client, { ...fast, now: clock.now }).runCampaign(seeded.campaignId);
      await waitFor("the warm-up's daily limit", async () => (await waitingOf(seeded))?.reason === "daily_limit");
      expect(sentChats(seeded)).toHaveLength(20);
      expect(await waitingOf(seeded)).toEqual({ reason: "daily_limit", until: "2026-03-03T00:00:00.000Z", detail: "20" });
      // The next day (the clock, and the day the number's count belongs to).
      clock.set("2026-03-03T08:00:00Z");
      expect(await run).toEqual({ claimed: true, status: "Completed" });
      expect(sentChats(seeded)).toHaveLength(22);
    }, 30_000);

    it("maxConsecutiveFailures 3: three sends in a row refused while WORKING pause the number's campaign, with the reason", async () => {
      const seeded = await seed(5, {}, { maxConsecutiveFailures: 3 });
      // Rows created by hand with chats WAHA refuses (400: not a chat id), as a broken list would give.
      await database.db.insert(s.campaignRecipients).values(
        seeded.contacts.map((contact, position) => ({
          campaignId: seeded.campaignId,
          contactId: contact.id,
          position,
          phone: contact.phone,
          chatId: contact.phone.replace("+", ""),
          renderedText: "hello",
        })),
      );
      await database.db.update(s.campaigns).set({ recipientsMaterializedAt: new Date() }).where(eq(s.campaigns.id, seeded.campaignId));
      expect(await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId)).toEqual({ claimed: true, status: "Paused" });
      const campaign = await campaignRow(database.db, seeded.campaignId);
      expect(campaign).toMatchObject({ status: "Paused", pauseReason: "too_many_failures", autoResumeAt: null });
      expect(campaign!.lastError).toMatch(/3 sends in a row failed/);
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ failed: 3, pending: 2 });
      // A person's resume starts a new count.
      const [number] = await database.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, seeded.sessionId));
      expect(number).toMatchObject({ consecutiveFailures: 0 });
    }, 30_000);

    it("ack −1: when the campaign's last 3 sent messages come back with an error while the number is WORKING, its campaigns pause", async () => {
      // Batches hold the campaign Running (waiting) after 3 sends, while the acks come in.
      const seeded = await seed(6, { batchSize: 3, batchPauseMs: 3_600_000 }, { maxConsecutiveFailures: 3 });
      const clock = testClock("2026-03-02T10:00:00Z");
      const run = new CampaignRunnerService(database.db, client, { ...fast, now: clock.now }).runCampaign(seeded.campaignId);
      await waitFor("the batch pause", async () => (await waitingOf(seeded))?.reason === "batch_pause");
      const messageIds = sessionMessages(fake.messages(), seeded.wahaSessionName).map((message) => message.id);
      expect(messageIds).toHaveLength(3);
      const ackError = async (messageId: string, index: number) => {
        const rawBody = Buffer.from(
          JSON.stringify({ id: `evt-${seeded.campaignId}-${index}`, timestamp: Date.now(), event: "message.ack", session: seeded.wahaSessionName, payload: { id: messageId, ack: -1 } }),
        );
        const signature = createHmac("sha512", HMAC_KEY).update(rawBody).digest("hex");
        return handleWahaWebhook(database.db, { rawBody, signature, hmacKey: HMAC_KEY });
      };
      // Two errors are not yet three in a row.
      await ackError(messageIds[0]!, 0);
      await ackError(messageIds[1]!, 1);
      expect((await campaignRow(database.db, seeded.campaignId))?.status).toBe("Running");
      await ackError(messageIds[2]!, 2);
      expect(await campaignRow(database.db, seeded.campaignId)).toMatchObject({ status: "Paused", pauseReason: "too_many_failures" });
      expect((await campaignRow(database.db, seeded.campaignId))!.lastError).toMatch(/The last 3 messages on .* came back from WhatsApp with an error \(ack −1\)/);
      expect(await run).toEqual({ claimed: true, status: "Paused" });
      // Issue 14: a message WhatsApp reported with ack −1 after sending is `failed`, with the reason.
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ failed: 3, pending: 3 });
    }, 30_000);

    it("latestStart passed: the due campaign becomes Missed with a reason and sends nothing; one still within it runs", async () => {
      const missed = await seed(2, { scheduledAt: new Date(Date.now() - 3_600_000), latestStart: new Date(Date.now() - 60_000) });
      const onTime = await seed(2, { scheduledAt: new Date(Date.now() - 1_000), latestStart: new Date(Date.now() + 3_600_000) });
      const runner = new CampaignRunnerService(database.db, client, fast);
      expect(await runner.runCampaign(missed.campaignId)).toEqual({ claimed: false, status: "Missed" });
      expect(await runner.runCampaign(onTime.campaignId)).toEqual({ claimed: true, status: "Completed" });
      const rows = await database.db.select().from(s.campaigns).where(inArray(s.campaigns.id, [missed.campaignId]));
      expect(rows[0]).toMatchObject({ status: "Missed", recipientsMaterializedAt: null });
      expect(rows[0]!.missedReason).toMatch(/could not start by its latest start/);
      expect(sentChats(missed)).toEqual([]);
      expect(sentChats(onTime)).toHaveLength(2);
    }, 30_000);
  });
}
