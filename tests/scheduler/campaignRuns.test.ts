/**
 * The campaigns one process runs share one runner service (scheduling/campaignRuns.ts): while several
 * run, their leases are renewed in one statement per period, not one per campaign, and a resume
 * started while the paused run still winds down takes the campaign (the service does not turn it
 * away as "already running here"). Real database, the fake WAHA over HTTP.
 */
import { PgDialect } from "drizzle-orm/pg-core";
import type { SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pauseCampaign } from "~/server/services/campaignLifecycle";
import { childLogger } from "~/server/logger";
import { CampaignRuns } from "~/server/services/scheduling/campaignRuns";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { countingDb } from "../helpers/countingDb";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { campaignRow, perChat, seedCampaign, sessionMessages } from "../runner/helpers";

const LEASE_MS = 600; // renewed every 200 ms
const CAMPAIGNS = 8;
const dialect = new PgDialect();

for (const backend of backends) {
  describe(`[${backend}] the campaign runs of one process`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    let client: WahaApiClient;

    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0 })]);
      client = new WahaApiClient({ baseUrl: fake.url, timeoutMs: 1_000 });
    });
    afterAll(async () => {
      client?.close();
      await Promise.all([database?.close(), fake?.close()]);
    });

    async function seed(recipients: number, delayMs: number) {
      const seeded = await seedCampaign(database.db, { recipients, delayMinMs: delayMs, delayMaxMs: delayMs });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      return seeded;
    }

    it("renews the leases of all its running campaigns in one statement per period, and each campaign still sends everyone once", async () => {
      // Eight numbers, four messages each 400 ms apart: every campaign runs about 1.2 s, six renewal periods.
      const seeded = await Promise.all(Array.from({ length: CAMPAIGNS }, () => seed(4, 400)));
      const counter = { renewals: 0 };
      // The lease renewals among the raw statements the runs send.
      const db = countingDb(database.db, "execute", ([statement]) => {
        if (dialect.sqlToQuery(statement as SQL).sql.includes("set lease_expires_at = now()")) counter.renewals++;
      });
      const runs = new CampaignRuns(db, client, { leaseMs: LEASE_MS, sendTimeoutMs: 1_000 }, childLogger("test"));
      const startedAt = Date.now();
      const outcomes = await Promise.all(seeded.map((campaign) => runs.start(campaign.campaignId, "scheduled")));
      const periods = (Date.now() - startedAt) / (LEASE_MS / 3);

      expect(outcomes).toEqual(seeded.map(() => ({ claimed: true, status: "Completed" })));
      for (const campaign of seeded) {
        const chats = perChat(fake.messages(), campaign.wahaSessionName);
        expect([...chats.values()]).toEqual([1, 1, 1, 1]);
      }
      // One statement a period for all eight (a service per run made one per campaign: about 8 a period).
      expect(periods).toBeGreaterThan(4);
      expect(counter.renewals).toBeGreaterThanOrEqual(3);
      expect(counter.renewals).toBeLessThanOrEqual(Math.ceil(periods) + 1);
      await runs.close(5_000);
    });

    it("a resume while the paused run still winds down takes the campaign and sends the rest, nobody twice", async () => {
      const campaign = await seed(6, 300);
      const runs = new CampaignRuns(database.db, client, { leaseMs: LEASE_MS, sendTimeoutMs: 1_000 }, childLogger("test"));
      const first = runs.start(campaign.campaignId, "scheduled");
      await waitFor("the first message sent", () => sessionMessages(fake.messages(), campaign.wahaSessionName).length >= 1, { timeoutMs: 5_000 });
      await pauseCampaign(database.db, campaign.campaignId);
      // At once, while the first run sleeps out its delay and has not yet seen the pause.
      const resumed = runs.start(campaign.campaignId, "resume", { resume: true });
      expect(await resumed).toEqual({ claimed: true, status: "Completed" });
      expect((await first)?.claimed).toBe(true);

      const chats = perChat(fake.messages(), campaign.wahaSessionName);
      expect([...chats.values()]).toEqual([1, 1, 1, 1, 1, 1]);
      expect(await campaignRow(database.db, campaign.campaignId)).toMatchObject({ status: "Completed" });
      await runs.close(5_000);
    });
  });
}
