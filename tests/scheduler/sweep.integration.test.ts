/**
 * The sweep keeps this process in step with the database when something changed elsewhere: another
 * process scheduled, moved or abandoned a campaign. Here it runs every second (default: 30 s).
 */
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { campaigns } from "~/server/db/schema";
import { SchedulerService } from "~/server/services/scheduler";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { captureLogger, LEVEL } from "./fixtures/logCapture";
import { type Audience, campaignRow, insertCampaign, type SeededCampaign, seedAudience } from "./fixtures/seed";

for (const kind of backends) {
  describe(`[${kind}] the node-cron scheduler's sweep`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    // Each test has its own audience (WhatsApp number and list), its own scheduler and its own log.
    let audience: Audience;
    let scheduler: SchedulerService;
    let log: ReturnType<typeof captureLogger>;

    const completed = (campaign: SeededCampaign) =>
      waitFor(
        `campaign ${campaign.id} to complete`,
        async () => {
          const row = await campaignRow(database.db, campaign.id);
          return row?.status === "Completed" ? row : null;
        },
        { intervalMs: 50 },
      );
    const sentTo = (campaign: SeededCampaign) =>
      fake
        .messages()
        .filter((message) => message.text === campaign.text)
        .map((message) => message.chatId)
        .sort();

    beforeAll(async () => {
      database = await createTestDatabase(kind);
      fake = await startFakeWaha({ port: 0 });
    });

    beforeEach(async () => {
      audience = await seedAudience(database.db, fake);
      log = captureLogger();
      scheduler = new SchedulerService(database.db, new WahaApiClient({ baseUrl: fake.url }), {
        sweepCron: "*/1 * * * * *",
        runnerOptions: { leaseMs: 5_000 },
        logger: log.logger,
      });
      await scheduler.initialize();
    });

    afterEach(async () => {
      await scheduler?.stop();
      // Whatever the case did, the scheduler logged no errors.
      expect(log.lines.filter((line) => line.level >= LEVEL.error)).toEqual([]);
    });

    afterAll(async () => {
      await fake?.close();
      await database?.close();
    });

    it("arms a campaign another process scheduled, and runs it on time", async () => {
      const campaign = await insertCampaign(database.db, audience, new Date(Date.now() + 2_500), "elsewhere");

      await waitFor("the sweep to arm the campaign", () => scheduler.scheduledJobs.has(campaign.id), { timeoutMs: 2_000, intervalMs: 50 });
      const row = await completed(campaign);

      expect(row.startedAt!.getTime() - campaign.scheduledAt.getTime()).toBeLessThan(1_000);
      expect(sentTo(campaign)).toEqual([...audience.chatIds].sort());
    });

    it("starts a due campaign nobody started, with a warning", async () => {
      const campaign = await insertCampaign(database.db, audience, new Date(Date.now() - 10_000), "overdue");

      await completed(campaign);

      expect(log.find({ level: LEVEL.warn, campaignId: campaign.id, msgIncludes: "missed" })).toHaveLength(1);
      expect(sentTo(campaign)).toEqual([...audience.chatIds].sort());
    });

    it("takes over a Running campaign whose process died, and finishes it", async () => {
      const campaign = await insertCampaign(database.db, audience, new Date(Date.now() - 60_000), "abandoned");
      await database.db
        .update(campaigns)
        .set({ status: "Running", startedAt: new Date(Date.now() - 50_000), leaseHolder: "dead-host:1:dead", leaseExpiresAt: new Date(Date.now() - 1_000) })
        .where(eq(campaigns.id, campaign.id));

      await completed(campaign);

      expect(log.find({ level: LEVEL.warn, campaignId: campaign.id, msgIncludes: "lease expired" })).toHaveLength(1);
      expect(sentTo(campaign)).toEqual([...audience.chatIds].sort());
    });

    it("drops the timer of a campaign another process moved beyond the horizon", async () => {
      const campaign = await insertCampaign(database.db, audience, new Date(Date.now() + 60_000), "moved");
      await scheduler.scheduleCampaignJob(campaign);
      await database.db
        .update(campaigns)
        .set({ scheduledAt: new Date(Date.now() + 3 * 24 * 3600 * 1000) })
        .where(eq(campaigns.id, campaign.id));

      await waitFor("the sweep to drop the timer", () => !scheduler.scheduledJobs.has(campaign.id), { timeoutMs: 3_000, intervalMs: 50 });
      expect(scheduler.status().lastSweepAt).not.toBeNull();
    });
  });
}
