/**
 * CampaignRunnerService on the real database (each backend) with the fake WAHA over HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { CampaignStateError, cancelCampaign, pauseCampaign } from "~/server/services/campaignLifecycle";
import { progressOf } from "~/server/services/campaignProgress";
import { CampaignRunnerService, type CampaignRunnerOptions } from "~/server/services/runner/campaignRunner";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { campaignRow, chatIdOf, expectedText, perChat, recipientCounts, seedCampaign, sessionMessages } from "./helpers";

/** Counts and ETA as the API and the pages see them (campaignProgress.ts). */
async function getCampaignProgress(db: TestDatabase["db"], campaignId: string) {
  const { counts, etaSeconds } = await progressOf(db, (await campaignRow(db, campaignId))!);
  return { ...counts, etaSeconds };
}

const fast: CampaignRunnerOptions = { leaseMs: 2_000, sendRetry: { attempts: 3, baseDelayMs: 5 }, sendTimeoutMs: 1_000 };

for (const backend of backends) {
  describe(`[${backend}] CampaignRunnerService`, () => {
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

    async function seed(options: Parameters<typeof seedCampaign>[1]) {
      const seeded = await seedCampaign(database.db, options);
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      return seeded;
    }

    it("a 50-recipient campaign sends 50 messages, each to the right chat with the right text", async () => {
      const seeded = await seed({ recipients: 50, delayMinMs: 0, delayMaxMs: 3 });
      const outcome = await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      expect(outcome).toEqual({ claimed: true, status: "Completed" });

      const messages = sessionMessages(fake.messages(), seeded.wahaSessionName);
      expect(messages).toHaveLength(50);
      // In list order, each to its contact's chat, personalised.
      expect(messages.map((message) => [message.chatId, message.text])).toEqual(seeded.contacts.map((contact) => [contact.chatId, expectedText(contact)]));

      const recipients = await database.db.select().from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, seeded.campaignId));
      expect(recipients.every((row) => row.status === "sent" && row.sentAt !== null)).toBe(true);
      expect(new Set(recipients.map((row) => row.wahaMessageId))).toEqual(new Set(messages.map((message) => message.id)));
      const campaign = await campaignRow(database.db, seeded.campaignId);
      expect(campaign).toMatchObject({ status: "Completed", leaseHolder: null, leaseExpiresAt: null });
      expect(campaign!.completedAt).toBeInstanceOf(Date);
      expect(campaign!.startedAt).toBeInstanceOf(Date);
      const progress = await getCampaignProgress(database.db, seeded.campaignId);
      // No webhook reaches this app: no ack beyond the send's own, no reply (the funnel after sending, issue 14).
      expect(progress).toEqual({
        total: 50,
        pending: 0,
        sending: 0,
        sent: 50,
        failed: 0,
        unknown: 0,
        skipped: 0,
        cancelled: 0,
        delivered: 0,
        read: 0,
        replied: 0,
        optedOut: 0,
        etaSeconds: null,
      });
    });

    it("sends the campaign's image with the personalised caption", async () => {
      const mediaDir = mkdtempSync(path.join(tmpdir(), "runner-media-"));
      try {
        const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
        writeFileSync(path.join(mediaDir, "pic.png"), png);
        const first = await seed({ recipients: 1 });
        const [media] = await database.db
          .insert(s.mediaItems)
          .values({ workspaceId: first.workspaceId, filename: "pic.png", mimetype: "image/png", sizeBytes: png.length, storagePath: "pic.png" })
          .returning();
        await database.db.update(s.campaigns).set({ mediaId: media!.id }).where(eq(s.campaigns.id, first.campaignId));
        const outcome = await new CampaignRunnerService(database.db, client, { ...fast, mediaDir }).runCampaign(first.campaignId);
        expect(outcome.status).toBe("Completed");
        const [message] = sessionMessages(fake.messages(), first.wahaSessionName);
        expect(message).toMatchObject({ chatId: first.contacts[0]!.chatId, hasFile: true, caption: expectedText(first.contacts[0]!), text: null });
      } finally {
        rmSync(mediaDir, { recursive: true, force: true });
      }
    });

    it("does not claim a campaign that is not due, finished, or paused without resume; sends nothing", async () => {
      const future = await seed({ recipients: 2, scheduledAt: new Date(Date.now() + 60_000) });
      const paused = await seed({ recipients: 2, status: "Paused" });
      const runner = new CampaignRunnerService(database.db, client, fast);
      expect(await runner.runCampaign(future.campaignId)).toEqual({ claimed: false, status: "Scheduled" });
      expect(await runner.runCampaign(paused.campaignId)).toEqual({ claimed: false, status: "Paused" });
      expect(await runner.runCampaign("00000000-0000-0000-0000-000000000000")).toEqual({ claimed: false, status: null });
      expect(await runner.runCampaign(paused.campaignId, { resume: true })).toEqual({ claimed: true, status: "Completed" });
      expect(await runner.runCampaign(paused.campaignId, { resume: true })).toEqual({ claimed: false, status: "Completed" });
      expect(sessionMessages(fake.messages(), future.wahaSessionName)).toHaveLength(0);
      expect(sessionMessages(fake.messages(), paused.wahaSessionName)).toHaveLength(2);
    });

    it("two runners started at once on one campaign: one claims, each recipient gets one message", async () => {
      const seeded = await seed({ recipients: 20, delayMinMs: 0, delayMaxMs: 2 });
      const [a, b] = await Promise.all([
        new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId),
        new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId),
      ]);
      expect([a!.claimed, b!.claimed].sort()).toEqual([false, true]);
      const counts = perChat(fake.messages(), seeded.wahaSessionName);
      expect(counts.size).toBe(20);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    });

    it("a Running campaign whose runner died (lease expired) is taken over and finished", async () => {
      const seeded = await seed({ recipients: 5, status: "Running" });
      await database.db
        .update(s.campaigns)
        .set({ leaseHolder: "dead-host:1:x", leaseExpiresAt: new Date(Date.now() + 60_000), startedAt: new Date() })
        .where(eq(s.campaigns.id, seeded.campaignId));
      const runner = new CampaignRunnerService(database.db, client, fast);
      expect((await runner.runCampaign(seeded.campaignId)).claimed).toBe(false); // lease still valid
      await database.db.update(s.campaigns).set({ leaseExpiresAt: new Date(Date.now() - 1) }).where(eq(s.campaigns.id, seeded.campaignId));
      expect(await runner.runCampaign(seeded.campaignId)).toEqual({ claimed: true, status: "Completed" });
      expect(perChat(fake.messages(), seeded.wahaSessionName).size).toBe(5);
    });

    it("a session that is not WORKING at the start pauses the campaign before any send", async () => {
      const seeded = await seed({ recipients: 3 });
      fake.setSessionStatus(seeded.wahaSessionName, "SCAN_QR_CODE");
      const outcome = await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      expect(outcome).toEqual({ claimed: true, status: "Paused" });
      expect(await campaignRow(database.db, seeded.campaignId)).toMatchObject({ pauseReason: "session_not_working", leaseHolder: null });
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(0);
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ pending: 3 });
    });

    it("a session drop mid-run pauses it; resume after the session returns finishes with no duplicate", async () => {
      const seeded = await seed({ recipients: 40, delayMinMs: 2, delayMaxMs: 4 });
      const runner = new CampaignRunnerService(database.db, client, fast);
      const run = runner.runCampaign(seeded.campaignId);
      await waitFor("10 sends", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length >= 10);
      fake.setSessionStatus(seeded.wahaSessionName, "STOPPED");
      expect(await run).toEqual({ claimed: true, status: "Paused" });
      const atPause = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
      expect(atPause).toBeLessThan(40);
      const counts = await recipientCounts(database.db, seeded.campaignId);
      expect(counts.sent).toBe(atPause);
      expect(counts.pending).toBe(40 - atPause); // the refused one is pending, not failed
      expect(await campaignRow(database.db, seeded.campaignId)).toMatchObject({ status: "Paused", pauseReason: "session_not_working" });

      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      expect(await runner.runCampaign(seeded.campaignId, { resume: true })).toEqual({ claimed: true, status: "Completed" });
      const perChatCounts = perChat(fake.messages(), seeded.wahaSessionName);
      expect(perChatCounts.size).toBe(40);
      expect([...perChatCounts.values()].every((n) => n === 1)).toBe(true);
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 40 });
    });

    it("cancel mid-run: nothing is sent after cancel returns", async () => {
      const seeded = await seed({ recipients: 200, delayMinMs: 1, delayMaxMs: 3 });
      fake.setFaults({ latencyMs: 15 }); // a send is usually in flight when cancel lands
      const run = new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      await waitFor("5 sends", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length >= 5);
      const cancelled = await cancelCampaign(database.db, seeded.campaignId);
      expect(cancelled.status).toBe("Cancelled");
      const atReturn = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
      expect(await run).toEqual({ claimed: true, status: "Cancelled" });
      await new Promise((resolve) => setTimeout(resolve, 100)); // a straggler would show up here
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName).length).toBe(atReturn);
      expect(atReturn).toBeLessThan(200);
      const counts = await recipientCounts(database.db, seeded.campaignId);
      expect(counts.sending ?? 0).toBe(0);
      expect(counts.sent).toBe(atReturn);
      await expect(cancelCampaign(database.db, seeded.campaignId)).rejects.toBeInstanceOf(CampaignStateError);
    });

    it("pause mid-run stops before the next send; resume continues with the next recipient", async () => {
      const seeded = await seed({ recipients: 60, delayMinMs: 1, delayMaxMs: 2 });
      const runner = new CampaignRunnerService(database.db, client, fast);
      const run = runner.runCampaign(seeded.campaignId);
      await waitFor("5 sends", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length >= 5);
      await pauseCampaign(database.db, seeded.campaignId);
      expect(await run).toEqual({ claimed: true, status: "Paused" });
      expect(await campaignRow(database.db, seeded.campaignId)).toMatchObject({ pauseReason: "paused_by_user", leaseHolder: null });
      const atPause = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
      expect(atPause).toBeLessThan(60);
      const progress = await getCampaignProgress(database.db, seeded.campaignId);
      expect(progress).toMatchObject({ total: 60, sent: atPause, pending: 60 - atPause, etaSeconds: null });
      await expect(pauseCampaign(database.db, seeded.campaignId)).rejects.toMatchObject({ code: "WRONG_STATE", currentStatus: "Paused" });

      expect(await runner.runCampaign(seeded.campaignId, { resume: true })).toEqual({ claimed: true, status: "Completed" });
      const messages = sessionMessages(fake.messages(), seeded.wahaSessionName);
      expect(messages.map((message) => message.chatId)).toEqual(seeded.contacts.map((contact) => contact.chatId));
    });

    it("deleting a running campaign stops its run cleanly", async () => {
      const seeded = await seed({ recipients: 100, delayMinMs: 2, delayMaxMs: 4 });
      const run = new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      await waitFor("3 sends", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length >= 3);
      await database.db.delete(s.campaigns).where(eq(s.campaigns.id, seeded.campaignId));
      expect(await run).toEqual({ claimed: true, status: null });
      const afterRun = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName).length).toBe(afterRun);
      expect(afterRun).toBeLessThan(100);
      const [session] = await database.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, seeded.sessionId));
      expect(session!.sendSlotHolder).toBeNull();
    });

    it("two campaigns on one WhatsApp number never have two sends in flight, and both finish", async () => {
      const first = await seed({ recipients: 30, delayMinMs: 0, delayMaxMs: 2 });
      const second = await seed({
        recipients: 30,
        delayMinMs: 0,
        delayMaxMs: 2,
        session: { id: first.sessionId, wahaSessionName: first.wahaSessionName, workspaceId: first.workspaceId },
      });
      fake.setFaults({ latencyMs: 3 }); // sends last long enough that an overlap would be seen
      const outcomes = await Promise.all([
        new CampaignRunnerService(database.db, client, fast).runCampaign(first.campaignId),
        new CampaignRunnerService(database.db, client, fast).runCampaign(second.campaignId),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["Completed", "Completed"]);
      expect(fake.stats().maxInFlight[first.wahaSessionName]).toBe(1);
      const counts = perChat(fake.messages(), first.wahaSessionName);
      expect(counts.size).toBe(60);
      // They took turns rather than one after the other.
      const order = sessionMessages(fake.messages(), first.wahaSessionName).map((message) =>
        first.contacts.some((contact) => contact.chatId === message.chatId) ? "a" : "b",
      );
      expect(order.slice(0, 30).filter((who) => who === "b").length).toBeGreaterThan(0);
    });

    it("transient 500s are retried and the campaign completes, each recipient once", async () => {
      const seeded = await seed({ recipients: 10 });
      fake.setFaults({ failNext: 2 }); // two consecutive sends answer 500 without recording
      const outcome = await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      expect(outcome.status).toBe("Completed");
      const counts = perChat(fake.messages(), seeded.wahaSessionName);
      expect(counts.size).toBe(10);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      const [first] = await database.db.select().from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, seeded.campaignId)).orderBy(s.campaignRecipients.position);
      expect(first!.attempts).toBe(3);
    });

    it("a send that times out after WAHA accepted it is settled as sent, never sent twice", async () => {
      const seeded = await seed({ recipients: 3 });
      fake.setFaults({ latencyMs: 700 }); // above the client's 500 ms timeout; the fake records before the delay
      const run = new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      await waitFor("the first send", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length >= 1);
      fake.setFaults({ latencyMs: 0 });
      expect((await run).status).toBe("Completed");
      const counts = perChat(fake.messages(), seeded.wahaSessionName);
      expect(counts.size).toBe(3);
      expect([...counts.values()]).toEqual([1, 1, 1]);
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 3 });
    });

    it("repeated 500s on every send pause the campaign as WAHA unavailable at the first recipient; nobody fails", async () => {
      const seeded = await seed({ recipients: 6 });
      fake.setFaults({ errorRate: 1 });
      const outcome = await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      expect(outcome.status).toBe("Paused");
      const paused = await campaignRow(database.db, seeded.campaignId);
      expect(paused).toMatchObject({ pauseReason: "waha_unavailable", autoResumeEveryMs: 5_000 });
      expect(paused!.lastError).toMatch(/HTTP 500/);
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ pending: 6 });
      fake.setFaults({ errorRate: 0 });
      expect((await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId, { resume: true })).status).toBe("Completed");
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 6 });
      expect([...perChat(fake.messages(), seeded.wahaSessionName).values()]).toEqual([1, 1, 1, 1, 1, 1]);
    });

    it("a message WAHA keeps failing with its own 500s fails after 9 counted attempts, over several resumes", async () => {
      const seeded = await seed({ recipients: 2 });
      fake.setFaults({ errorRate: 1 });
      const runner = new CampaignRunnerService(database.db, client, fast);
      const statuses = [];
      for (let run = 0; run < 3; run++) statuses.push((await runner.runCampaign(seeded.campaignId, { resume: true })).status);
      // Three runs of three attempts each: the third run gives up on the first recipient and pauses on the second.
      expect(statuses).toEqual(["Paused", "Paused", "Paused"]);
      const rows = await database.db.select().from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, seeded.campaignId)).orderBy(s.campaignRecipients.position);
      expect(rows.map((row) => [row.status, row.attempts])).toEqual([
        ["failed", 9],
        ["pending", 3],
      ]);
      expect(rows[0]!.lastError).toMatch(/HTTP 500.*after 9 attempts/);
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(0);
    });

    it("a pause that lands while a send is being retried stops the retries and keeps the recipient pending", async () => {
      const seeded = await seed({ recipients: 3 });
      fake.setFaults({ errorRate: 1 });
      const run = new CampaignRunnerService(database.db, client, { ...fast, sendRetry: { attempts: 5, baseDelayMs: 150 } }).runCampaign(seeded.campaignId);
      await waitFor("a recipient in retries", async () => (await recipientCounts(database.db, seeded.campaignId)).sending === 1);
      await pauseCampaign(database.db, seeded.campaignId);
      expect(await run).toEqual({ claimed: true, status: "Paused" });
      fake.setFaults({ errorRate: 0 });
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ pending: 3 });
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(0);
      const [session] = await database.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, seeded.sessionId));
      expect(session!.sendSlotHolder).toBeNull();
    });

    it("a campaign with nothing to send (its template deleted, no text) fails with the reason", async () => {
      const seeded = await seed({ recipients: 2 });
      const [campaign] = await database.db.select().from(s.campaigns).where(eq(s.campaigns.id, seeded.campaignId));
      await database.db.delete(s.templates).where(eq(s.templates.id, campaign!.templateId!));
      expect(await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId)).toEqual({ claimed: true, status: "Failed" });
      const failed = await campaignRow(database.db, seeded.campaignId);
      expect(failed).toMatchObject({ status: "Failed", leaseHolder: null });
      expect(failed!.lastError).toMatch(/no message/);
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(0);
    });

    it("an invalid request fails that recipient only; the campaign goes on", async () => {
      const seeded = await seed({ recipients: 3 });
      // Materialise first, then break one chat id the way WAHA would refuse it (400).
      await database.db.update(s.campaigns).set({ recipientsMaterializedAt: new Date() }).where(eq(s.campaigns.id, seeded.campaignId));
      await database.db.insert(s.campaignRecipients).values(
        seeded.contacts.map((contact, position) => ({
          campaignId: seeded.campaignId,
          contactId: contact.id,
          position,
          phone: contact.phone,
          chatId: position === 1 ? "not-a-chat" : contact.chatId,
          renderedText: `text ${position}`,
        })),
      );
      const outcome = await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      expect(outcome.status).toBe("Completed");
      const rows = await database.db.select().from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, seeded.campaignId)).orderBy(s.campaignRecipients.position);
      expect(rows.map((row) => row.status)).toEqual(["sent", "failed", "sent"]);
      expect(rows[1]!.lastError).toMatch(/invalid request/i);
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(2);
    });

    it("recovery settles rows left `sending` by asking WAHA, and resends only what WAHA never got", async () => {
      const seeded = await seed({ recipients: 4, status: "Running" });
      await database.db
        .update(s.campaigns)
        .set({ recipientsMaterializedAt: new Date(), leaseHolder: "dead", leaseExpiresAt: new Date(Date.now() - 1), startedAt: new Date() })
        .where(eq(s.campaigns.id, seeded.campaignId));
      const [a, b, c, d] = seeded.contacts;
      // a: WAHA accepted it under the id we fixed; b: an id WAHA never saw; c: no id, but the chat shows it; d: no id, nothing shows.
      const idA = (await client.newMessageId(seeded.wahaSessionName))!;
      await client.sendText({ session: seeded.wahaSessionName, chatId: a!.chatId, text: "text 0", messageId: idA });
      await client.sendText({ session: seeded.wahaSessionName, chatId: c!.chatId, text: "text 2" });
      const idB = (await client.newMessageId(seeded.wahaSessionName))!;
      const sending = { status: "sending" as const, attempts: 1, sendingStartedAt: new Date() };
      await database.db.insert(s.campaignRecipients).values([
        { campaignId: seeded.campaignId, contactId: a!.id, position: 0, phone: a!.phone, chatId: a!.chatId, renderedText: "text 0", wahaMessageId: idA, ...sending },
        { campaignId: seeded.campaignId, contactId: b!.id, position: 1, phone: b!.phone, chatId: b!.chatId, renderedText: "text 1", wahaMessageId: idB, ...sending },
        { campaignId: seeded.campaignId, contactId: c!.id, position: 2, phone: c!.phone, chatId: c!.chatId, renderedText: "text 2", ...sending },
        { campaignId: seeded.campaignId, contactId: d!.id, position: 3, phone: d!.phone, chatId: d!.chatId, renderedText: "text 3", ...sending },
      ]);
      const outcome = await new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      expect(outcome).toEqual({ claimed: true, status: "Completed" });
      const rows = await database.db.select().from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, seeded.campaignId)).orderBy(s.campaignRecipients.position);
      expect(rows.map((row) => row.status)).toEqual(["sent", "sent", "sent", "unknown"]);
      expect(rows[0]!.wahaMessageId).toBe(`true_${a!.chatId}_${idA}`);
      const counts = perChat(fake.messages(), seeded.wahaSessionName);
      expect([a, b, c, d].map((contact) => counts.get(contact!.chatId) ?? 0)).toEqual([1, 1, 1, 0]);
      expect((await getCampaignProgress(database.db, seeded.campaignId)).unknown).toBe(1);
    });

    it("reports progress before the first run from the list, with an ETA from the delay range", async () => {
      const seeded = await seed({ recipients: 7, delayMinMs: 1_000, delayMaxMs: 3_000, scheduledAt: new Date(Date.now() + 10_000) });
      const progress = await getCampaignProgress(database.db, seeded.campaignId);
      expect(progress).toMatchObject({ total: 7, pending: 7, sent: 0 });
      expect(progress.etaSeconds).toBeGreaterThanOrEqual(23); // ~10 s to start + 7 × 2 s
      expect(progress.etaSeconds).toBeLessThanOrEqual(25);
    });
  });

  describe(`[${backend}] CampaignRunnerService with a WAHA older than new-message-id`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0, newMessageId: false, engine: "NOWEB" })]);
    });
    afterAll(async () => {
      await Promise.all([database?.close(), fake?.close()]);
    });

    it("sends every recipient once without fixed ids, and settles an unanswered send from the chat history", async () => {
      const client = new WahaApiClient({ baseUrl: fake.url, timeoutMs: 300 });
      const seeded = await seedCampaign(database.db, { recipients: 8 });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      fake.setFaults({ latencyMs: 400 }); // the first send times out after being recorded
      const run = new CampaignRunnerService(database.db, client, fast).runCampaign(seeded.campaignId);
      await waitFor("the first send", () => fake.messages().length >= 1);
      fake.setFaults({ latencyMs: 0 });
      expect((await run).status).toBe("Completed");
      const counts = perChat(fake.messages(), seeded.wahaSessionName);
      expect(counts.size).toBe(8);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 8 });
      expect(chatIdOf(seeded.contacts[0]!.phone)).toBe(seeded.contacts[0]!.chatId);
    });
  });
}
