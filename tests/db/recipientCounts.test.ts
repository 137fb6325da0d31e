/**
 * `campaign_recipient_counts` (migration 0003) always equals a count of the rows, through every kind
 * of change: a bulk insert, the runner's one-row updates, a many-row update, an ack-only update,
 * deleting rows and deleting the campaign.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "~/server/db/client";
import * as s from "~/server/db/schema";
import { countsOf } from "~/server/services/campaignProgress";
import { CampaignRunnerService } from "~/server/services/runner/campaignRunner";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { seedCampaign } from "../runner/helpers";

for (const backend of backends) {
  describe(`[${backend}] recipient counts kept by triggers`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;

    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0 })]);
    });
    afterAll(async () => {
      await Promise.all([database?.close(), fake?.close()]);
    });

    /** The truth: a count of the rows, per status. */
    async function counted(campaignId: string) {
      const rows = await queryRows<{ status: string; n: number }>(
        database.db,
        sql`select status::text as status, count(*)::int as n from campaign_recipients where campaign_id = ${campaignId} group by status`,
      );
      const counts: Record<string, number> = { total: 0, pending: 0, sending: 0, sent: 0, failed: 0, unknown: 0, skipped: 0, cancelled: 0 };
      for (const row of rows) {
        counts[row.status] = Number(row.n);
        counts.total! += Number(row.n);
      }
      return counts;
    }

    it("match the rows after a run with retried sends, bulk updates, ack updates and deletes", async () => {
      const seeded = await seedCampaign(database.db, { recipients: 40 });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      // Two sends answer 500 and are retried before they go.
      fake.setFaults({ failNext: 2 });
      const client = new WahaApiClient({ baseUrl: fake.url, timeoutMs: 1_000 });
      try {
        const outcome = await new CampaignRunnerService(database.db, client, { sendRetry: { attempts: 3, baseDelayMs: 1 } }).runCampaign(seeded.campaignId);
        expect(outcome.status).toBe("Completed");
      } finally {
        client.close();
      }
      expect(await countsOf(database.db, seeded.campaignId)).toEqual(await counted(seeded.campaignId));
      expect((await countsOf(database.db, seeded.campaignId)).total).toBe(40);

      // A many-row update, an ack-only update, a delete of some rows.
      await database.db.execute(sql`update campaign_recipients set status = 'skipped' where campaign_id = ${seeded.campaignId} and position < 10`);
      await database.db.execute(sql`update campaign_recipients set ack = 3 where campaign_id = ${seeded.campaignId}`);
      await database.db.execute(sql`delete from campaign_recipients where campaign_id = ${seeded.campaignId} and position >= 35`);
      expect(await countsOf(database.db, seeded.campaignId)).toEqual(await counted(seeded.campaignId));
      expect((await countsOf(database.db, seeded.campaignId)).skipped).toBe(10);

      // The campaign goes, its counts with it.
      await database.db.delete(s.campaigns).where(eq(s.campaigns.id, seeded.campaignId));
      expect(await database.db.select().from(s.campaignRecipientCounts).where(eq(s.campaignRecipientCounts.campaignId, seeded.campaignId))).toEqual([]);
    });

    it("a bulk insert of 5,000 rows is counted", async () => {
      const seeded = await seedCampaign(database.db, { recipients: 1 });
      await database.db.execute(sql`
        insert into campaign_recipients (campaign_id, position, phone, chat_id, rendered_text, status)
        select ${seeded.campaignId}, i, '+4915100' || i, '4915100' || i || '@c.us', 'x',
               (case when i % 2 = 0 then 'pending' else 'sent' end)::recipient_status
          from generate_series(1, 5000) as i`);
      expect(await countsOf(database.db, seeded.campaignId)).toEqual(await counted(seeded.campaignId));
      expect((await countsOf(database.db, seeded.campaignId)).total).toBe(5000);
    });
  });
}
