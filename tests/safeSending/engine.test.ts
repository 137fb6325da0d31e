/**
 * Safe sending in the send loop (issue 13), on the whole app through REST and the fake WAHA: the
 * number's policy is set with `PATCH /api/v1/sessions/{id}`, the campaign read back with
 * `GET /api/v1/campaigns/{id}`, and the fake's log of messages and calls is the judge.
 * - a daily limit of 3 with 5 recipients: exactly 3 go, the campaign waits (`daily_limit`, until the
 *   number's next local day); the next day (the number's day counter moved back one day, as the
 *   clock passing midnight would leave it) the other 2 go and it completes;
 * - a send window that excludes now: nothing is sent, and it waits until the window opens;
 * - check-exists: two numbers not on WhatsApp are skipped (`not_on_whatsapp`), the rest sent;
 * - typing: each send follows sendSeen, startTyping and stopTyping on its chat, in that order;
 * - latestStart passed: the sweep's catch-up marks the campaign Missed, nothing sent;
 * - a restriction (WhatsApp's 463): the number's campaign pauses with the reason, nothing is sent
 *   while restricted, and it goes on by itself when the restriction ends.
 */
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { type Json, restClient } from "../rest/helpers";
import { campaignRow, recipientCounts, seedCampaign, sessionMessages } from "../runner/helpers";

/** A number in a new user's workspace with the given policy (set over REST), and a campaign on it. */
async function numberWithCampaign(
  app: TestApp,
  input: { recipients: number; policy: Record<string, unknown>; campaign?: Partial<typeof s.campaigns.$inferInsert>; delayMs?: number },
) {
  const user = await createTestUser(app);
  const rest = restClient(app, user.apiKey);
  const wahaSessionName = `safe-${randomBytes(4).toString("hex")}`;
  const [session] = await app.services.db
    .insert(s.whatsappSessions)
    .values({ workspaceId: user.workspaceId, name: wahaSessionName, wahaSessionName, status: "WORKING" })
    .returning();
  app.fakeWaha.setSessionStatus(wahaSessionName, "WORKING", { id: "4915100000000@c.us" });
  const patched = await rest("PATCH", `/api/v1/sessions/${session!.id}`, input.policy);
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  const seeded = await seedCampaign(app.services.db, {
    recipients: input.recipients,
    delayMinMs: input.delayMs ?? 0,
    delayMaxMs: input.delayMs ?? 0,
    session: { id: session!.id, wahaSessionName, workspaceId: user.workspaceId },
  });
  if (input.campaign) await app.services.db.update(s.campaigns).set(input.campaign).where(eq(s.campaigns.id, seeded.campaignId));
  const read = async (): Promise<Json> => {
    const answer = await rest("GET", `/api/v1/campaigns/${seeded.campaignId}`);
    expect(answer.status).toBe(200);
    return answer.body;
  };
  return { ...seeded, rest, read };
}

const sent = (app: TestApp, session: string) => sessionMessages(app.fakeWaha.messages(), session);

/** "HH:MM" in UTC of an instant. */
const utcClock = (at: Date) => at.toISOString().slice(11, 16);

for (const backend of backends) {
  describe(`[${backend}] safe sending in the send loop`, () => {
    let app: TestApp;

    beforeAll(async () => {
      // GOWS: the engine that reports WhatsApp's reachout timelock (the restriction's end).
      app = await startTestApp(backend, {}, { autoResume: true, autoResumeTickMs: 200, fakeWahaEngine: "GOWS" });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("dailyLimit 3 with 5 recipients: 3 go, it waits for the next day (daily_limit), then the rest go and it completes", async () => {
      const number = await numberWithCampaign(app, { recipients: 5, policy: { dailyLimit: 3, timeZone: "Asia/Jakarta" } });
      await app.services.scheduler.startCampaignNow(number.campaignId);

      const waiting = await waitFor("the campaign to wait for the daily limit", async () => {
        const campaign = await number.read();
        return campaign.waiting?.reason === "daily_limit" ? campaign : null;
      });
      expect(sent(app, number.wahaSessionName)).toHaveLength(3);
      expect(waiting.status).toBe("Running");
      expect(waiting.counts).toMatchObject({ sent: 3, pending: 2 });
      // Until the number's next local day: midnight in Jakarta (UTC+7, no daylight saving) is 17:00 UTC.
      const until = new Date(waiting.waiting.until);
      expect(until.toISOString().slice(11)).toBe("17:00:00.000Z");
      expect(until.getTime() - Date.now()).toBeGreaterThan(0);
      expect(until.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
      // The ETA counts the wait: the 2 left go tomorrow, not in a moment.
      expect(waiting.etaSeconds).toBeGreaterThanOrEqual(Math.floor((until.getTime() - Date.now()) / 1000) - 5);
      // Still 3 a moment later: the limit holds.
      expect(sent(app, number.wahaSessionName)).toHaveLength(3);

      // The next day: the number's count belongs to yesterday.
      await app.services.db
        .update(s.whatsappSessions)
        .set({ sentDayStart: sql`${s.whatsappSessions.sentDayStart} - interval '1 day'` })
        .where(eq(s.whatsappSessions.id, number.sessionId));
      const done = await waitFor("the campaign to complete", async () => {
        const campaign = await number.read();
        return campaign.status === "Completed" ? campaign : null;
      }, { timeoutMs: 15_000 });
      expect(done.waiting).toBeNull();
      expect(sent(app, number.wahaSessionName)).toHaveLength(5);
      expect(await recipientCounts(app.services.db, number.campaignId)).toEqual({ sent: 5 });
      const [row] = await app.services.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, number.sessionId));
      expect(row).toMatchObject({ sentDayCount: 2 });
    }, 60_000);

    it("a send window that excludes now: nothing is sent, and it waits until the window's start", async () => {
      const opens = new Date(Math.floor((Date.now() + 2 * 3_600_000) / 60_000) * 60_000);
      const closes = new Date(opens.getTime() + 3_600_000);
      const number = await numberWithCampaign(app, {
        recipients: 3,
        policy: { dailyLimit: null },
        campaign: { sendWindow: { start: utcClock(opens), end: utcClock(closes), timeZone: "UTC" } },
      });
      await app.services.scheduler.startCampaignNow(number.campaignId);
      const waiting = await waitFor("the campaign to wait for its window", async () => {
        const campaign = await number.read();
        return campaign.waiting?.reason === "send_window" ? campaign : null;
      });
      expect(waiting.status).toBe("Running");
      expect(new Date(waiting.waiting.until).toISOString()).toBe(opens.toISOString());
      expect(waiting.etaSeconds).toBeGreaterThanOrEqual(Math.floor((opens.getTime() - Date.now()) / 1000) - 5);
      expect(sent(app, number.wahaSessionName)).toHaveLength(0);
      expect(app.fakeWaha.calls().filter((call) => call.session === number.wahaSessionName && call.path === "/api/sendText")).toHaveLength(0);

      const cancelled = await number.rest("POST", `/api/v1/campaigns/${number.campaignId}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(sent(app, number.wahaSessionName)).toHaveLength(0);
    }, 30_000);

    it("check-exists: two numbers not on WhatsApp are skipped, the others sent, and the campaign completes", async () => {
      const number = await numberWithCampaign(app, { recipients: 5, policy: { checkExists: true, dailyLimit: null, hourlyLimit: null, warmup: false, typing: false } });
      const missing = [number.contacts[1]!, number.contacts[3]!];
      for (const contact of missing) app.fakeWaha.setNumberExists(contact.phone, false);
      await app.services.scheduler.startCampaignNow(number.campaignId);
      await waitFor("the campaign to complete", async () => (await number.read()).status === "Completed");

      const messages = sent(app, number.wahaSessionName);
      expect(messages.map((message) => message.chatId).sort()).toEqual(
        number.contacts.filter((contact) => !missing.includes(contact)).map((contact) => contact.chatId).sort(),
      );
      expect(await recipientCounts(app.services.db, number.campaignId)).toEqual({ sent: 3, skipped: 2 });
      const recipients = await app.services.db.select().from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, number.campaignId));
      for (const recipient of recipients) {
        const isMissing = missing.some((contact) => contact.id === recipient.contactId);
        expect(recipient.skipReason).toBe(isMissing ? "not_on_whatsapp" : null);
      }
      // The answer is kept on the contact, with the date it was checked.
      const contacts = await app.services.db.select().from(s.contacts).where(eq(s.contacts.workspaceId, number.workspaceId));
      for (const contact of contacts) {
        expect(contact.onWhatsapp).toBe(!missing.some((m) => m.id === contact.id));
        expect(contact.whatsappCheckedAt).toBeInstanceOf(Date);
      }
      // One check per contact.
      const checks = app.fakeWaha.calls().filter((call) => call.session === number.wahaSessionName && call.path === "/api/contacts/check-exists");
      expect(checks).toHaveLength(5);
    }, 30_000);

    it("typing on: each send is preceded by sendSeen, startTyping and stopTyping on its chat, in that order", async () => {
      const number = await numberWithCampaign(app, { recipients: 3, policy: { typing: true, checkExists: false, dailyLimit: null, hourlyLimit: null, warmup: false } });
      await app.services.scheduler.startCampaignNow(number.campaignId);
      await waitFor("the campaign to complete", async () => (await number.read()).status === "Completed");
      const steps = ["/api/sendSeen", "/api/startTyping", "/api/stopTyping", "/api/sendText"];
      const calls = app.fakeWaha.calls().filter((call) => call.session === number.wahaSessionName && steps.includes(call.path));
      for (const contact of number.contacts) {
        expect(calls.filter((call) => call.chatId === contact.chatId).map((call) => call.path)).toEqual(steps);
      }
      // Nothing of another chat in between: each send's typing is right before it.
      expect(calls.map((call) => call.path)).toEqual([...steps, ...steps, ...steps]);
      expect(sent(app, number.wahaSessionName)).toHaveLength(3);
    }, 30_000);

    it("latestStart passed while the app was down: the sweep's catch-up marks it Missed with the reason, and nothing is sent", async () => {
      const number = await numberWithCampaign(app, {
        recipients: 2,
        policy: { dailyLimit: null },
        campaign: { scheduledAt: new Date(Date.now() - 2 * 3_600_000), latestStart: new Date(Date.now() - 3_600_000) },
      });
      // Nobody starts it by hand: the app's sweep finds the due campaign, as after a restart.
      const missed = await waitFor("the sweep to mark it Missed", async () => {
        const campaign = await number.read();
        return campaign.status === "Missed" ? campaign : null;
      });
      expect(missed.missedReason).toMatch(/could not start by its latest start/);
      expect(missed.waiting).toBeNull();
      expect(sent(app, number.wahaSessionName)).toHaveLength(0);
    }, 30_000);

    it("a restriction (WhatsApp's 463): the campaign pauses with the reason, nothing is sent while restricted, and it goes on when it ends", async () => {
      const number = await numberWithCampaign(app, { recipients: 8, delayMs: 100, policy: { dailyLimit: null, hourlyLimit: null, warmup: false } });
      await app.services.scheduler.startCampaignNow(number.campaignId);
      await waitFor("two sends", () => sent(app, number.wahaSessionName).length >= 2);
      const restrictedUntil = Date.now() + 4_000;
      app.fakeWaha.setFaults({ restricted: { untilMs: restrictedUntil, session: number.wahaSessionName } });

      const paused = await waitFor("the campaign to pause", async () => {
        const campaign = await number.read();
        return campaign.status === "Paused" ? campaign : null;
      });
      expect(paused.pauseReason).toBe("number_restricted");
      expect(paused.lastError).toMatch(/restricts this number.*463/);
      const sentWhenPaused = sent(app, number.wahaSessionName).length;
      expect(sentWhenPaused).toBeLessThan(8);
      // The number remembers until when (WAHA's timelock said), so no process takes its slot before.
      const [row] = await app.services.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, number.sessionId));
      expect(row!.restrictedUntil).toBeInstanceOf(Date);
      expect(Math.abs(row!.restrictedUntil!.getTime() - restrictedUntil)).toBeLessThan(1_000);

      await waitFor("the campaign to complete", async () => (await campaignRow(app.services.db, number.campaignId))?.status === "Completed", { timeoutMs: 30_000 });
      app.fakeWaha.setFaults({ restricted: null });
      const messages = sent(app, number.wahaSessionName);
      expect(messages).toHaveLength(8);
      // Nothing went out while the number was restricted.
      const during = messages.filter((message) => {
        const at = new Date(message.at).getTime();
        return at > new Date(paused.pausedAt).getTime() && at < restrictedUntil;
      });
      expect(during).toEqual([]);
      expect(await recipientCounts(app.services.db, number.campaignId)).toEqual({ sent: 8 });
    }, 60_000);
  });
}
