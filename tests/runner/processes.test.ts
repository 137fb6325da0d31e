/**
 * Runners in separate processes (tests/runner/fixtures/runCampaign.ts) against one database and the
 * fake WAHA over HTTP: two at once on one campaign, and one killed with SIGKILL again and again.
 * PostgreSQL for both (several processes share it); the crash test also on a file-backed PGlite data
 * directory, one process at a time (PGlite is a single connection).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateDatabase } from "~/server/db/client";
import * as s from "~/server/db/schema";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { claims, recordClaims } from "../helpers/claims";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { perChat, recipientCounts, type Seeded, seedCampaign } from "./helpers";
import { killRepeatedly, startRunner, withFileDatabase } from "./processHelpers";

const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);

function expectEachOnce(fake: FakeWaha, seeded: Seeded): void {
  const counts = perChat(fake.messages(), seeded.wahaSessionName);
  const duplicates = [...counts.entries()].filter(([, n]) => n > 1);
  expect(duplicates).toEqual([]);
  expect(seeded.contacts.filter((contact) => !counts.has(contact.chatId)).map((contact) => contact.phone)).toEqual([]);
  expect(counts.size).toBe(seeded.contacts.length);
}

describe.skipIf(!hasPostgres)("[postgres] runners in separate processes", () => {
  let database: TestDatabase;
  let fake: FakeWaha;
  beforeAll(async () => {
    [database, fake] = await Promise.all([createTestDatabase("postgres"), startFakeWaha({ port: 0 })]);
    await recordClaims(database.db);
  });
  afterAll(async () => {
    await Promise.all([database?.close(), fake?.close()]);
  });

  it("two processes started on one campaign at once: each recipient gets exactly one message", async () => {
    const seeded = await seedCampaign(database.db, { recipients: 100, delayMinMs: 0, delayMaxMs: 2 });
    fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
    fake.setFaults({ latencyMs: 1 });
    const env = { DATABASE_URL: database.url!, WAHA_URL: fake.url, CAMPAIGN_ID: seeded.campaignId, LEASE_MS: "5000" };
    const results = await Promise.all([startRunner(env).exited, startRunner(env).exited]);
    fake.setFaults({ latencyMs: 0 });
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const outcomes = results.map((result) => JSON.parse(result.stdout.trim()) as { claims: number; status: string });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["Completed", "Completed"]);
    expect(outcomes.map((outcome) => outcome.claims).sort()).toEqual([0, 1]);
    // The database agrees: one claim of the campaign in all.
    expect(await claims(database.db, [seeded.campaignId])).toHaveLength(1);
    expectEachOnce(fake, seeded);
    expect(fake.stats().maxInFlight[seeded.wahaSessionName]).toBe(1);
  }, 60_000);

  it("a runner SIGKILLed at random moments, again and again, and restarted: every recipient exactly once, none pending", async () => {
    const seeded = await seedCampaign(database.db, { recipients: 300, delayMinMs: 0, delayMaxMs: 3 });
    fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
    fake.setFaults({ latencyMs: 2 }); // widens the moment between WAHA accepting a message and its answer
    const env = { DATABASE_URL: database.url!, WAHA_URL: fake.url, CAMPAIGN_ID: seeded.campaignId };
    const { killedAt, final } = await killRepeatedly(fake, seeded, env, 5);
    fake.setFaults({ latencyMs: 0 });
    // Each kill landed mid-campaign, after the previous one made progress.
    expect(killedAt.every((count, i) => count > (killedAt[i - 1] ?? 0) && count < 300), JSON.stringify(killedAt)).toBe(true);
    expect(JSON.parse(final)).toMatchObject({ status: "Completed" });
    expectEachOnce(fake, seeded);
    expect(await recipientCounts(database.db, seeded.campaignId)).toEqual({ sent: 300 });
    const [campaign] = await database.db.select().from(s.campaigns).where(eq(s.campaigns.id, seeded.campaignId));
    expect(campaign).toMatchObject({ status: "Completed", leaseHolder: null });
  }, 90_000);
});

describe("[pglite, file-backed] a runner process killed again and again", () => {
  let dir: string;
  let fake: FakeWaha;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "runner-crash-"));
    fake = await startFakeWaha({ port: 0 });
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const withDatabase = <T>(use: (database: Database) => Promise<T>) => withFileDatabase(dir, use);

  it("every recipient gets exactly one message and none is left pending", async () => {
    const seeded = await withDatabase(async (database) => {
      await migrateDatabase(database);
      return seedCampaign(database.db, { recipients: 300, delayMinMs: 0, delayMaxMs: 3 });
    });
    fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
    fake.setFaults({ latencyMs: 2 });
    const { killedAt, final } = await killRepeatedly(fake, seeded, { PGLITE_DIR: dir, WAHA_URL: fake.url, CAMPAIGN_ID: seeded.campaignId }, 3);
    fake.setFaults({ latencyMs: 0 });
    expect(killedAt.every((count) => count < 300), JSON.stringify(killedAt)).toBe(true);
    expect(JSON.parse(final)).toMatchObject({ status: "Completed" });
    expectEachOnce(fake, seeded);
    expect(await withDatabase((database) => recipientCounts(database.db, seeded.campaignId))).toEqual({ sent: 300 });
  }, 120_000);
});
