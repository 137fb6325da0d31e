/**
 * Outages pass by themselves (issue 17), on the whole app (scheduler, runner, auto-resume) with the
 * real database and the fake WAHA over HTTP:
 * - WAHA stops for 10 s mid-campaign and comes back on the same port: no recipient fails, the
 *   campaign resumes within 10 s of WAHA answering, everyone gets exactly one message;
 * - the number drops to STARTING and comes back WORKING, with no webhook: it resumes by itself;
 * - a pause a person made stays a pause; a pause older than the owner's limit stops trying;
 * - the app's view of each number follows WAHA without webhooks.
 */
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { backends } from "../helpers/db";
import { startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { campaignRow, perChat, recipientCounts, seedCampaign, sessionMessages } from "../runner/helpers";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function events(app: TestApp, campaignId: string) {
  const rows = await app.services.db.select().from(s.campaignEvents).where(eq(s.campaignEvents.campaignId, campaignId)).orderBy(asc(s.campaignEvents.id));
  return rows.map((row) => `${row.kind}:${row.reason}`);
}

async function startCampaign(app: TestApp, recipients: number, delay: { delayMinMs: number; delayMaxMs: number }) {
  const seeded = await seedCampaign(app.services.db, { recipients, ...delay });
  app.fakeWaha.setSessionStatus(seeded.wahaSessionName, "WORKING");
  await app.services.scheduler.startCampaignNow(seeded.campaignId);
  return seeded;
}

const sentTo = (app: TestApp, session: string) => sessionMessages(app.fakeWaha.messages(), session).length;

for (const backend of backends) {
  describe(`[${backend}] outages resume by themselves`, () => {
    let app: TestApp;

    beforeAll(async () => {
      // The defaults but a short WAHA timeout: the session probe of every number stays at 30 s,
      // so what resumes these campaigns is the per-pause check (5 s, then 10 s, ...).
      app = await startTestApp(backend, { WAHA_TIMEOUT_MS: "2000" }, { autoResume: true, autoResumeTickMs: 200 });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("WAHA stops for 10 s mid-campaign: nobody fails, it resumes within 10 s of WAHA answering, each recipient gets one message", async () => {
      const seeded = await startCampaign(app, 30, { delayMinMs: 150, delayMaxMs: 250 });
      await waitFor("the first 10 sends", () => sentTo(app, seeded.wahaSessionName) >= 10);
      await app.fakeWaha.stopServing();
      const downAt = Date.now();

      let paused: NonNullable<Awaited<ReturnType<typeof campaignRow>>>;
      try {
        paused = await waitFor("the campaign to pause", async () => {
          const row = await campaignRow(app.services.db, seeded.campaignId);
          return row?.status === "Paused" ? row : null;
        });
        expect(paused).toMatchObject({ pauseReason: "waha_unavailable", autoResumeStoppedAt: null });
        expect(paused.pausedAt).toBeInstanceOf(Date);
        expect(paused.lastError).toMatch(/connection refused/);
        const during = await recipientCounts(app.services.db, seeded.campaignId);
        expect(during.failed ?? 0).toBe(0);
        expect(during.unknown ?? 0).toBe(0);

        await sleep(Math.max(0, downAt + 10_000 - Date.now()));
        expect((await campaignRow(app.services.db, seeded.campaignId))?.status).toBe("Paused");
      } finally {
        // Back whatever happened above: the next test needs WAHA.
        await app.fakeWaha.serveAgain();
      }
      const upAt = Date.now();
      await waitFor(
        "the campaign to resume by itself",
        async () => (await campaignRow(app.services.db, seeded.campaignId))?.status !== "Paused",
        { timeoutMs: 12_000 },
      );
      const resumedAfterMs = Date.now() - upAt;
      console.info(`[${backend}] resumed by itself ${resumedAfterMs} ms after WAHA answered again (paused ${upAt - paused.pausedAt!.getTime()} ms)`);
      expect(resumedAfterMs).toBeLessThan(10_000);

      await waitFor("the campaign to complete", async () => (await campaignRow(app.services.db, seeded.campaignId))?.status === "Completed", { timeoutMs: 30_000 });
      const perRecipient = perChat(app.fakeWaha.messages(), seeded.wahaSessionName);
      expect(perRecipient.size).toBe(30);
      expect([...perRecipient.values()].every((count) => count === 1)).toBe(true);
      expect(await recipientCounts(app.services.db, seeded.campaignId)).toEqual({ sent: 30 });
      // The outage cost nobody an attempt: each recipient was sent at its first counted attempt.
      const attempts = await app.services.db.select({ attempts: s.campaignRecipients.attempts }).from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, seeded.campaignId));
      expect(attempts.every((row) => row.attempts === 1)).toBe(true);
      expect(await events(app, seeded.campaignId)).toEqual(["paused:waha_unavailable", "resumed:auto"]);
    }, 90_000);

    it("the number drops to STARTING and comes back WORKING, with no webhook: it resumes by itself", async () => {
      const seeded = await startCampaign(app, 20, { delayMinMs: 100, delayMaxMs: 200 });
      await waitFor("the first 5 sends", () => sentTo(app, seeded.wahaSessionName) >= 5);
      app.fakeWaha.setSessionStatus(seeded.wahaSessionName, "STARTING"); // this session has no webhooks
      await waitFor("the campaign to pause", async () => (await campaignRow(app.services.db, seeded.campaignId))?.status === "Paused");
      expect(await campaignRow(app.services.db, seeded.campaignId)).toMatchObject({ pauseReason: "session_not_working" });

      await sleep(3_000);
      app.fakeWaha.setSessionStatus(seeded.wahaSessionName, "WORKING");
      await waitFor("the campaign to complete", async () => (await campaignRow(app.services.db, seeded.campaignId))?.status === "Completed", { timeoutMs: 30_000 });
      const perRecipient = perChat(app.fakeWaha.messages(), seeded.wahaSessionName);
      expect(perRecipient.size).toBe(20);
      expect([...perRecipient.values()].every((count) => count === 1)).toBe(true);
      expect(await recipientCounts(app.services.db, seeded.campaignId)).toEqual({ sent: 20 });
      // The app's view of the number followed, although no webhook told it.
      const [session] = await app.services.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, seeded.sessionId));
      expect(session!.status).toBe("WORKING");
      expect((await events(app, seeded.campaignId)).slice(0, 2)).toEqual(["paused:session_not_working", "resumed:auto"]);
    }, 60_000);
  });

  describe(`[${backend}] what never resumes by itself`, () => {
    let app: TestApp;

    beforeAll(async () => {
      // Every number's status read each second; a system pause gives up after 1.8 s.
      app = await startTestApp(
        backend,
        { WAHA_TIMEOUT_MS: "2000", SESSION_PROBE_INTERVAL_MS: "1000", AUTO_RESUME_GIVE_UP_HOURS: "0.0005" },
        { autoResume: true, autoResumeTickMs: 200 },
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it("a pause the user made is still a pause after WAHA comes back", async () => {
      const seeded = await startCampaign(app, 10, { delayMinMs: 200, delayMaxMs: 300 });
      await waitFor("the first 3 sends", () => sentTo(app, seeded.wahaSessionName) >= 3);
      await app.services.campaigns.pause(seeded.workspaceId, seeded.campaignId);
      const sentAtPause = sentTo(app, seeded.wahaSessionName);
      await app.fakeWaha.stopServing();
      await sleep(1_500);
      await app.fakeWaha.serveAgain();
      // Several status reads see the number WORKING; none may resume a user's pause.
      await sleep(3_500);
      expect(await campaignRow(app.services.db, seeded.campaignId)).toMatchObject({ status: "Paused", pauseReason: "paused_by_user", autoResumeAt: null });
      expect(sentTo(app, seeded.wahaSessionName)).toBe(sentAtPause);
      expect(await events(app, seeded.campaignId)).toEqual(["paused:paused_by_user"]);
    }, 30_000);

    it("a system pause longer than the owner's limit stops trying, says so, and waits for a person", async () => {
      const seeded = await startCampaign(app, 10, { delayMinMs: 200, delayMaxMs: 300 });
      await waitFor("the first 2 sends", () => sentTo(app, seeded.wahaSessionName) >= 2);
      await app.fakeWaha.stopServing();
      try {
        const stopped = await waitFor(
          "auto-resume to give up",
          async () => {
            const row = await campaignRow(app.services.db, seeded.campaignId);
            return row?.autoResumeStoppedAt ? row : null;
          },
          { timeoutMs: 15_000 },
        );
        expect(stopped).toMatchObject({ status: "Paused", pauseReason: "waha_unavailable", autoResumeAt: null });
      } finally {
        await app.fakeWaha.serveAgain();
      }
      const sentBefore = sentTo(app, seeded.wahaSessionName);
      await sleep(3_000);
      expect((await campaignRow(app.services.db, seeded.campaignId))?.status).toBe("Paused");
      expect(sentTo(app, seeded.wahaSessionName)).toBe(sentBefore);
      expect(await events(app, seeded.campaignId)).toEqual(["paused:waha_unavailable", "auto_resume_stopped:waha_unavailable"]);
      // A person resumes it, and it finishes: nobody was lost.
      await app.services.campaigns.resume(seeded.workspaceId, seeded.campaignId);
      await waitFor("the campaign to complete", async () => (await campaignRow(app.services.db, seeded.campaignId))?.status === "Completed", { timeoutMs: 20_000 });
      expect(await recipientCounts(app.services.db, seeded.campaignId)).toEqual({ sent: 10 });
    }, 40_000);

    it("follows each number's status within one probe interval, without webhooks", async () => {
      const seeded = await seedCampaign(app.services.db, { recipients: 1, status: "Draft" });
      app.fakeWaha.setSessionStatus(seeded.wahaSessionName, "SCAN_QR_CODE"); // the phone unlinked the device
      const changedAt = Date.now();
      await waitFor("the app to see SCAN_QR_CODE", async () => {
        const [row] = await app.services.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, seeded.sessionId));
        return row?.status === "SCAN_QR_CODE";
      });
      expect(Date.now() - changedAt).toBeLessThan(2_500);
    });
  });
}
