/**
 * pg-boss with more than one process: three `npm run worker` processes (src/worker/worker.ts, started
 * with `npx tsx`) execute what a web-role scheduler queues. PostgreSQL only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { SchedulerService } from "~/server/services/scheduler";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { claims, recordClaims } from "../helpers/claims";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { captureLogger, LEVEL, type LogLine } from "./fixtures/logCapture";
import { type Audience, campaignRow, insertCampaign, type SeededCampaign, seedAudience } from "./fixtures/seed";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WORKERS = 3;
const CAMPAIGNS = 50;
const SESSIONS = 5;

interface Worker {
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  closed: Promise<number | null>;
}

function startWorker(env: Record<string, string>): Worker {
  // Its own process group, so that stopping it reaches npx, tsx and node alike.
  const child = spawn("npx", ["tsx", "src/worker/worker.ts"], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: LogLine[] = [];
  let pending = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    const complete = pending.split("\n");
    pending = complete.pop()!;
    for (const line of complete) {
      if (!line.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const closed = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      if (code !== 0 && stderr) console.error(`[worker ${child.pid}] ${stderr}`);
      resolve(code);
    }),
  );
  return { child, lines, stderr: () => stderr, closed };
}

function stopGroup(worker: Worker): void {
  try {
    if (worker.child.pid) process.kill(-worker.child.pid, "SIGTERM");
  } catch {
    // already gone
  }
}

describe.runIf(!!process.env.TEST_DATABASE_URL)("[postgres] three pg-boss worker processes", () => {
  let database: TestDatabase;
  let fake: FakeWaha;
  // Each test starts its own workers and web scheduler; they are stopped after it.
  let workers: Worker[] = [];
  let web: SchedulerService | null = null;
  let webLog: ReturnType<typeof captureLogger>;

  /** Three worker processes, ready, and a web-role scheduler queueing for them. */
  async function startWorkers(): Promise<void> {
    const env = {
      DATABASE_URL: database.url!,
      WAHA_URL: fake.url,
      WAHA_WEBHOOK_SECRET: "test-webhook-secret-0123456789",
      SCHEDULER_DRIVER: "pg-boss",
      LOG_LEVEL: "info",
      NODE_ENV: "test",
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "waha-worker-")),
    };
    workers = Array.from({ length: WORKERS }, () => startWorker(env));
    await Promise.all(
      workers.map((worker) =>
        waitFor(`worker ${worker.child.pid} to be ready`, () => worker.lines.some((line) => line.msg.startsWith("worker ready")), { timeoutMs: 45_000, intervalMs: 50 }).catch(
          (error: unknown) => {
            console.error(`[worker ${worker.child.pid}] log:`, JSON.stringify(worker.lines), "stderr:", worker.stderr());
            throw error;
          },
        ),
      ),
    );
    webLog = captureLogger();
    web = new SchedulerService(database.db, new WahaApiClient({ baseUrl: fake.url }), {
      driver: "pg-boss",
      role: "web",
      databaseUrl: database.url,
      logger: webLog.logger,
    });
    await web.initialize();
  }

  async function stopWorkers(): Promise<void> {
    for (const worker of workers) stopGroup(worker);
    await Promise.all(workers.map((worker) => worker.closed));
  }

  /** Waits until every campaign is Completed; returns their rows. */
  function allCompleted(campaigns: SeededCampaign[], timeoutMs: number) {
    return waitFor(
      "every campaign to complete",
      async () => {
        const current = await Promise.all(campaigns.map((campaign) => campaignRow(database.db, campaign.id)));
        return current.every((row) => row?.status === "Completed") ? current : null;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    fake = await startFakeWaha({ port: 0 });
    await recordClaims(database.db);
  });

  beforeEach(() => {
    fake.reset();
  });

  afterEach(async () => {
    await web?.stop();
    web = null;
    await stopWorkers();
    workers = [];
  });

  afterAll(async () => {
    await fake?.close();
    await database?.close();
  });

  it("50 campaigns due in the same second: each runs once, each recipient gets exactly one message", async () => {
    onTestFailed(() => {
      for (const worker of workers) {
        for (const line of worker.lines.filter((entry) => entry.level >= LEVEL.warn)) console.error(`[worker ${worker.child.pid}]`, JSON.stringify(line));
      }
    });
    const audiences: Audience[] = [];
    for (let i = 0; i < SESSIONS; i++) audiences.push(await seedAudience(database.db, fake));
    await startWorkers();
    const scheduler = web!;
    const second = Math.ceil(Date.now() / 1000) * 1000 + 2_000;
    const campaigns: SeededCampaign[] = [];
    for (let i = 0; i < CAMPAIGNS; i++) {
      const audience = audiences[i % SESSIONS]!;
      campaigns.push(await insertCampaign(database.db, audience, new Date(second + i * 15), `burst-${i}`));
    }
    await Promise.all(campaigns.map((campaign) => scheduler.scheduleCampaignJob(campaign)));

    const rows = await allCompleted(campaigns, 30_000);

    const lateness = rows.map((row) => row!.startedAt!.getTime() - row!.scheduledAt!.getTime()).sort((a, b) => a - b);
    console.info(
      `[scheduler lateness] pg-boss, ${WORKERS} worker processes, ${CAMPAIGNS} campaigns: ` +
        `min ${lateness[0]} ms, p50 ${lateness[Math.floor(CAMPAIGNS / 2)]} ms, max ${lateness.at(-1)} ms`,
    );
    expect(lateness[0]).toBeGreaterThanOrEqual(0);
    expect(lateness.at(-1)).toBeLessThan(3_000);

    // The fake's log is the judge: each campaign's text reached each of its recipients exactly once.
    const messages = fake.messages();
    expect(messages).toHaveLength(CAMPAIGNS * 2);
    campaigns.forEach((campaign, i) => {
      const sentTo = messages.filter((message) => message.text === campaign.text).map((message) => message.chatId);
      expect(sentTo.sort()).toEqual([...audiences[i % SESSIONS]!.chatIds].sort());
    });

    // Each campaign was claimed by exactly one run, across all processes: the database's record of claims.
    const claimed = await claims(database.db, campaigns.map((campaign) => campaign.id));
    const claimsPerCampaign = new Map<string, number>();
    for (const claim of claimed) claimsPerCampaign.set(claim.campaignId, (claimsPerCampaign.get(claim.campaignId) ?? 0) + 1);
    expect(claimsPerCampaign.size).toBe(CAMPAIGNS);
    expect([...claimsPerCampaign.values()].every((count) => count === 1)).toBe(true);
    const perProcess = new Map<string, number>();
    for (const claim of claimed) {
      const holderId = claim.holder.split("/")[0]!;
      perProcess.set(holderId, (perProcess.get(holderId) ?? 0) + 1);
    }
    console.info(`[multi-process] claimed per worker: ${[...perProcess.values()].join(" / ")}`);

    // Nobody logged an error doing it.
    for (const worker of workers) expect(worker.lines.filter((line) => line.level >= LEVEL.error)).toEqual([]);
    expect(webLog.lines.filter((line) => line.level >= LEVEL.error)).toEqual([]);
  }, 120_000);

  it("workers stop cleanly on SIGTERM", async () => {
    // Workers that have run campaigns, one each (the claim decides which worker runs which).
    const audience = await seedAudience(database.db, fake);
    await startWorkers();
    const scheduler = web!;
    const at = new Date(Date.now() + 2_000);
    const campaigns: SeededCampaign[] = [];
    for (let i = 0; i < WORKERS; i++) campaigns.push(await insertCampaign(database.db, audience, at, `before-sigterm-${i}`));
    await Promise.all(campaigns.map((campaign) => scheduler.scheduleCampaignJob(campaign)));
    await allCompleted(campaigns, 30_000);

    await stopWorkers();

    for (const worker of workers) {
      expect(worker.lines.some((line) => line.msg === "scheduler stopped")).toBe(true);
      expect(worker.lines.filter((line) => line.level >= LEVEL.error)).toEqual([]);
    }
    expect(webLog.lines.filter((line) => line.level >= LEVEL.error)).toEqual([]);
  }, 120_000);
});

describe.runIf(!!process.env.TEST_DATABASE_URL)("[postgres] pg-boss starting in several processes at once", () => {
  it("every scheduler starts on a fresh database (pg-boss's queue creation race is retried)", async () => {
    const database = await createTestDatabase("postgres");
    const log = captureLogger();
    const schedulers = Array.from(
      { length: 6 },
      () =>
        new SchedulerService(database.db, new WahaApiClient({ baseUrl: "http://127.0.0.1:9" }), {
          driver: "pg-boss",
          role: "web",
          databaseUrl: database.url,
          logger: log.logger,
        }),
    );
    try {
      const results = await Promise.allSettled(schedulers.map((scheduler) => scheduler.initialize()));
      expect(results.filter((result) => result.status === "rejected")).toEqual([]);
    } finally {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
      await database.close();
    }
  });
});
