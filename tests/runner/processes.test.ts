/**
 * Runners in separate processes (tests/runner/fixtures/runCampaign.ts) against one database and the
 * fake WAHA over HTTP: two at once on one campaign, and one killed with SIGKILL again and again.
 * PostgreSQL for both (several processes share it); the crash test also on a file-backed PGlite data
 * directory, one process at a time (PGlite is a single connection).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateDatabase, openDatabase } from "~/server/db/client";
import * as s from "~/server/db/schema";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { perChat, recipientCounts, type Seeded, seedCampaign, sessionMessages, waitFor } from "./helpers";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixture = path.join(repoRoot, "tests/runner/fixtures/runCampaign.ts");
const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);

interface Child {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startRunner(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "silent", CLIENT_TIMEOUT_MS: "400", SEND_TIMEOUT_MS: "500", LEASE_MS: "1000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { process: child, exited };
}

function expectEachOnce(fake: FakeWaha, seeded: Seeded): void {
  const counts = perChat(fake.messages(), seeded.wahaSessionName);
  const duplicates = [...counts.entries()].filter(([, n]) => n > 1);
  expect(duplicates).toEqual([]);
  expect(seeded.contacts.filter((contact) => !counts.has(contact.chatId)).map((contact) => contact.phone)).toEqual([]);
  expect(counts.size).toBe(seeded.contacts.length);
}

/**
 * Starts a runner, waits until it is sending (the fake's log grows), lets it run a random moment,
 * SIGKILLs it; `kills` times. Then a last runner finishes the campaign.
 */
async function killRepeatedly(fake: FakeWaha, seeded: Seeded, env: Record<string, string>, kills: number): Promise<{ killedAt: number[]; final: string }> {
  const killedAt: number[] = [];
  for (let round = 0; round < kills; round++) {
    const before = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
    const child = startRunner(env);
    const finishedEarly = await Promise.race([
      waitFor(() => sessionMessages(fake.messages(), seeded.wahaSessionName).length > before, { timeoutMs: 20_000, intervalMs: 5, what: "the runner to send" }).then(() => false),
      child.exited.then(() => true),
    ]);
    if (!finishedEarly) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 120));
      child.process.kill("SIGKILL");
    }
    const exit = await child.exited;
    killedAt.push(sessionMessages(fake.messages(), seeded.wahaSessionName).length);
    if (exit.signal !== "SIGKILL") throw new Error(`runner ended before it was killed: ${exit.code} ${exit.stderr.slice(-500)}`);
  }
  const last = startRunner(env);
  const exit = await last.exited;
  if (exit.code !== 0) throw new Error(`the last runner failed (${exit.code}): ${exit.stderr.slice(-1000)}`);
  return { killedAt, final: exit.stdout.trim() };
}

describe.skipIf(!hasPostgres)("[postgres] runners in separate processes", () => {
  let database: TestDatabase;
  let fake: FakeWaha;
  beforeAll(async () => {
    [database, fake] = await Promise.all([createTestDatabase("postgres"), startFakeWaha({ port: 0 })]);
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

  async function withDatabase<T>(use: (database: Database) => Promise<T>): Promise<T> {
    const database = await openDatabase({ dataDir: dir });
    try {
      return await use(database);
    } finally {
      await database.close();
    }
  }

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
