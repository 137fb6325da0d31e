/**
 * A send step announces a freed number (NOTIFY wc_slot_released) only when someone may be waiting for
 * it (migration 0024): PostgreSQL serialises every committing transaction that issued a NOTIFY on one
 * cluster-wide lock, so a NOTIFY per message capped a fleet of numbers at a few hundred messages a
 * second (`npm run bench -- --fleet`). A campaign alone on its number sends no NOTIFY per message;
 * with another campaign Running on the number, every release is announced (tests/runner/waiting.test.ts
 * shows such a waiter, and a cancel, woken by it). Real database, fake WAHA over HTTP.
 */
import { eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { CampaignRunnerService } from "~/server/services/runner/campaignRunner";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { campaignRow, recipientCounts, seedCampaign, sessionMessages } from "../runner/helpers";

/** Every wc_slot_released payload (a session id) received while listening, through the database's own LISTEN. */
async function listenToReleases(database: TestDatabase): Promise<{ received: string[]; settle(): Promise<void>; stop(): Promise<void> }> {
  const received: string[] = [];
  if (database.pglite) {
    const pglite = database.pglite;
    const unlisten = await pglite.listen("wc_slot_released", (payload) => received.push(payload));
    return { received, settle: () => pglite.query("select 1").then(() => undefined), stop: () => unlisten() };
  }
  const client = new pg.Client({ connectionString: database.url! });
  client.on("error", () => undefined);
  await client.connect();
  client.on("notification", (message) => {
    if (message.channel === "wc_slot_released" && message.payload) received.push(message.payload);
  });
  await client.query("listen wc_slot_released");
  // A round trip on the listening connection: notifications committed before it have arrived after it.
  return { received, settle: () => client.query("select 1").then(() => undefined), stop: () => client.end() };
}

const RECIPIENTS = 4;

for (const backend of backends) {
  describe(`[${backend}] a freed number is announced only to someone who may wait for it`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    let client: WahaApiClient;

    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0 })]);
      client = new WahaApiClient({ baseUrl: fake.url });
    });
    afterAll(async () => {
      client?.close();
      await Promise.all([database?.close(), fake?.close()]);
    });

    it("a campaign alone on its number, paced, sends each recipient once and no NOTIFY per message", async () => {
      const seeded = await seedCampaign(database.db, { recipients: RECIPIENTS, delayMinMs: 50, delayMaxMs: 60 });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      const releases = await listenToReleases(database);
      try {
        const outcome = await new CampaignRunnerService(database.db, client, { sendRetry: { attempts: 1, baseDelayMs: 5 } }).runCampaign(seeded.campaignId);
        expect(outcome.status).toBe("Completed");
        expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(RECIPIENTS);
        expect(await recipientCounts(database.db, seeded.campaignId)).toMatchObject({ sent: RECIPIENTS });
        await releases.settle();
        // Before migration 0024: one per message (4). What may remain: the last take that found nobody.
        expect(releases.received.filter((id) => id === seeded.sessionId).length).toBeLessThanOrEqual(1);
      } finally {
        await releases.stop();
      }
    });

    it("with another campaign Running on the number, every release after a send is announced", async () => {
      const seeded = await seedCampaign(database.db, { recipients: RECIPIENTS, delayMinMs: 50, delayMaxMs: 60 });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      // Another campaign on the same number, Running under a holder of its own (its run is elsewhere).
      const other = await seedCampaign(database.db, {
        recipients: 1,
        status: "Running",
        session: { id: seeded.sessionId, wahaSessionName: seeded.wahaSessionName, workspaceId: seeded.workspaceId },
      });
      await database.db
        .update(s.campaigns)
        .set({ leaseHolder: "elsewhere", leaseExpiresAt: new Date(Date.now() + 600_000) })
        .where(eq(s.campaigns.id, other.campaignId));
      const releases = await listenToReleases(database);
      try {
        const outcome = await new CampaignRunnerService(database.db, client, { sendRetry: { attempts: 1, baseDelayMs: 5 } }).runCampaign(seeded.campaignId);
        expect(outcome.status).toBe("Completed");
        expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(RECIPIENTS);
        // Notifications arrive after their commit.
        await waitFor("a release announced per message", () => releases.received.filter((id) => id === seeded.sessionId).length >= RECIPIENTS);
        expect((await campaignRow(database.db, other.campaignId))?.status).toBe("Running");
      } finally {
        await releases.stop();
      }
    });
  });
}
