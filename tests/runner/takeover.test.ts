/**
 * Recovery without waiting out the lease (runner/presence.ts): a Running campaign whose holder's
 * process is provably dead (its presence lock is free) is taken over at once; a live holder never
 * is, before its lease expires. In-process on each backend, then with a real process SIGKILLed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateDatabase } from "~/server/db/client";
import * as s from "~/server/db/schema";
import { childLogger } from "~/server/logger";
import { CampaignRunnerService } from "~/server/services/runner/campaignRunner";
import { announcePresence, type ProcessPresence } from "~/server/services/runner/presence";
import { findStaleRunningCampaigns } from "~/server/services/scheduling/sweep";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { perChat, recipientCounts, seedCampaign, sessionMessages } from "./helpers";
import { startRunner, withFileDatabase } from "./processHelpers";

const log = childLogger("takeover-test");

/** Marks the campaign Running under `holder`, with a lease that has 30 s left. */
async function holdLease(db: TestDatabase["db"], campaignId: string, holder: string) {
  await db
    .update(s.campaigns)
    .set({ status: "Running", leaseHolder: holder, leaseExpiresAt: sql`now() + interval '30 seconds'`, startedAt: new Date() })
    .where(eq(s.campaigns.id, campaignId));
}

for (const backend of backends) {
  describe(`[${backend}] taking over a dead process's campaign at once`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    let client: WahaApiClient;
    let presence: ProcessPresence;

    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0 })]);
      client = new WahaApiClient({ baseUrl: fake.url, timeoutMs: 1_000 });
      presence = await announcePresence(database, log);
    });
    afterAll(async () => {
      await presence?.close();
      client?.close();
      await Promise.all([database?.close(), fake?.close()]);
    });

    it("a lease whose process holds no presence lock is taken over at once, and the campaign completes", async () => {
      const seeded = await seedCampaign(database.db, { recipients: 5 });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      await holdLease(database.db, seeded.campaignId, "p:crashed-host:4242:deadbeef/a1b2c3");
      expect(await findStaleRunningCampaigns(database.db, new Date())).toContain(seeded.campaignId);
      const outcome = await new CampaignRunnerService(database.db, client, { holderId: presence.holderId }).runCampaign(seeded.campaignId);
      expect(outcome).toEqual({ claimed: true, status: "Completed" });
      expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 5 });
    });

    it("a live holder keeps its lease: in this process, or in another connection's process", async () => {
      const mine = await seedCampaign(database.db, { recipients: 2 });
      await holdLease(database.db, mine.campaignId, `${presence.holderId}/other-run`);
      const runner = new CampaignRunnerService(database.db, client, { holderId: presence.holderId });
      expect((await runner.runCampaign(mine.campaignId)).claimed).toBe(false);
      const stale = await findStaleRunningCampaigns(database.db, new Date());
      expect(stale).not.toContain(mine.campaignId);

      // A holder without presence (a runner built without it) only loses its lease when it expires.
      const legacy = await seedCampaign(database.db, { recipients: 2 });
      await holdLease(database.db, legacy.campaignId, "some-host:1:cafe/run");
      expect((await runner.runCampaign(legacy.campaignId)).claimed).toBe(false);

      if (backend === "postgres") {
        // Another process, alive: its presence lock is held on its own connection.
        const other = await announcePresence({ ...database, pglite: null } as Database, log);
        try {
          const theirs = await seedCampaign(database.db, { recipients: 2 });
          await holdLease(database.db, theirs.campaignId, `${other.holderId}/run`);
          expect((await runner.runCampaign(theirs.campaignId)).claimed).toBe(false);
          expect(await findStaleRunningCampaigns(database.db, new Date())).not.toContain(theirs.campaignId);
        } finally {
          await other.close();
        }
      }
    });
  });
}

/** A runner process with presence and a 30 s lease, SIGKILLed mid-campaign, then a new one started. */
async function killAndRestart(fake: FakeWaha, seeded: Awaited<ReturnType<typeof seedCampaign>>, env: Record<string, string>) {
  const runnerEnv = { ...env, PRESENCE: "1", LEASE_MS: "30000", WAHA_URL: fake.url, CAMPAIGN_ID: seeded.campaignId };
  const first = startRunner(runnerEnv);
  await waitFor("the first runner to send", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length >= 20, { timeoutMs: 30_000 });
  first.process.kill("SIGKILL");
  expect((await first.exited).signal).toBe("SIGKILL");
  const sentBefore = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
  const restartedAt = Date.now();
  const second = startRunner(runnerEnv);
  await waitFor("the restarted runner to send", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length > sentBefore, { timeoutMs: 40_000 });
  const firstSendAfterMs = Date.now() - restartedAt;
  const exit = await second.exited;
  expect(exit.code, exit.stderr.slice(-500)).toBe(0);
  return { firstSendAfterMs, final: JSON.parse(exit.stdout.trim()) as { claims: number; status: string } };
}

// Child processes share the database: PostgreSQL when the run has one (CI), file-backed PGlite always.
if (backends.includes("postgres")) describe("[postgres] a runner process SIGKILLed and restarted", () => {
  let database: TestDatabase;
  let fake: FakeWaha;
  beforeAll(async () => {
    [database, fake] = await Promise.all([createTestDatabase("postgres"), startFakeWaha({ port: 0 })]);
  });
  afterAll(async () => {
    await Promise.all([database?.close(), fake?.close()]);
  });

  it("sends again within 5 s of the restart although the dead process's lease had 30 s left; each recipient once", async () => {
    const seeded = await seedCampaign(database.db, { recipients: 200 });
    fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
    const { firstSendAfterMs, final } = await killAndRestart(fake, seeded, { DATABASE_URL: database.url! });
    console.info(`[postgres] restart -> first send: ${firstSendAfterMs} ms (lease 30 s)`);
    expect(firstSendAfterMs).toBeLessThan(5_000);
    expect(final.status).toBe("Completed");
    const counts = perChat(fake.messages(), seeded.wahaSessionName);
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 200 });
  }, 90_000);
});

describe("[pglite, file-backed] a runner process SIGKILLed and restarted", () => {
  let dir: string;
  let fake: FakeWaha;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "runner-takeover-"));
    fake = await startFakeWaha({ port: 0 });
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends again within 5 s of the restart although the dead process's lease had 30 s left; each recipient once", async () => {
    const seeded = await withFileDatabase(dir, async (database) => {
      await migrateDatabase(database);
      return seedCampaign(database.db, { recipients: 200 });
    });
    fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
    const { firstSendAfterMs, final } = await killAndRestart(fake, seeded, { PGLITE_DIR: dir });
    console.info(`[pglite] restart -> first send: ${firstSendAfterMs} ms (lease 30 s)`);
    expect(firstSendAfterMs).toBeLessThan(5_000);
    expect(final.status).toBe("Completed");
    const counts = perChat(fake.messages(), seeded.wahaSessionName);
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 90_000);
});
