/**
 * 1. Start precision: N campaigns (one recipient each, each on its own WhatsApp number) due within
 * the same 10 s. Lateness = campaigns.started_at - scheduled_at, both from the database (the claim
 * sets started_at with the database's now()). Drivers: node-cron on PGlite and on PostgreSQL (one
 * child process: scheduler + runner, as `npm start` runs them), pg-boss with 1 and 3 worker
 * processes (`npx tsx src/worker/worker.ts`) fed by a web-role scheduler.
 */
import path from "node:path";
import { openBenchDatabase } from "./lib/db";
import { forkTask, spawnProcess, tail, waitForLog, type SpawnedProcess } from "./lib/children";
import { pollUntil } from "./lib/childRuntime";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { connectClient, createBenchDatabase } from "./lib/pg";
import { seedPrecision } from "./lib/seed";
import { type Summary, summarize } from "./lib/stats";
import { type Row, int, latency, ms } from "./lib/table";
import type { BareTimersArgs } from "./startPrecisionBaseline";

const SECTION = "1. Start precision";
const WINDOW_MS = 10_000;

export interface PrecisionOutcome {
  lateMs: number[];
  notStarted: number;
  completed: number;
  initializeMs?: number;
}

interface NodeCronArgs {
  backend: "pglite" | "postgres";
  databaseUrl: string | null;
  dataDir: string;
  wahaUrl: string;
  n: number;
  leadMs: number;
  windowMs: number;
  sessionPrefix: string;
}

/** Child: migrate, seed, initialize the node-cron scheduler, wait for every start. */
export async function precisionNodeCronChild(args: NodeCronArgs): Promise<PrecisionOutcome> {
  const { migrateDatabase } = await import("~/server/db/client");
  const { SchedulerService } = await import("~/server/services/scheduler");
  const { WahaApiClient } = await import("~/server/services/waha/client");
  const database = await openBenchDatabase(args);
  try {
    await migrateDatabase(database);
    const firstDueMs = Date.now() + args.leadMs;
    const { workspaceId } = await seedPrecision(database.db, { n: args.n, firstDueMs, windowMs: args.windowMs, sessionPrefix: args.sessionPrefix });
    const waha = new WahaApiClient({ baseUrl: args.wahaUrl });
    const scheduler = new SchedulerService(database.db, waha, {
      driver: "node-cron",
      role: "all",
      databaseUrl: database.url,
      pglite: database.pglite,
      runnerOptions: { mediaDir: path.join(args.dataDir, "media") },
    });
    const started = performance.now();
    await scheduler.initialize();
    const initializeMs = performance.now() - started;
    if (Date.now() > firstDueMs) process.stderr.write(`warning: initialize() ended ${Date.now() - firstDueMs} ms after the first campaign was due\n`);
    const { queryRows } = await import("~/server/db/client");
    const { sql } = await import("drizzle-orm");
    const progress = () =>
      queryRows<{ started: number; completed: number }>(
        database.db,
        sql`select count(started_at)::int as started, count(*) filter (where status = 'Completed')::int as completed
              from campaigns where workspace_id = ${workspaceId}::uuid`,
      ).then((rows) => rows[0]!);
    await pollUntil(async () => (await progress()).completed >= args.n, firstDueMs + args.windowMs + 60_000 - Date.now(), 500);
    const late = await queryRows<{ late_ms: number }>(
      database.db,
      sql`select (extract(epoch from started_at - scheduled_at) * 1000)::float8 as late_ms
            from campaigns where workspace_id = ${workspaceId}::uuid and started_at is not null`,
    );
    const final = await progress();
    await scheduler.stop();
    return { lateMs: late.map((row) => Number(row.late_ms)), notStarted: args.n - final.started, completed: final.completed, initializeMs };
  } finally {
    await database.close();
  }
}

/** Parent side of the pg-boss variants: workers are real `npm run worker` processes. */
async function precisionPgBoss(ctx: BenchContext, workers: number, n: number, leadMs: number): Promise<PrecisionOutcome> {
  const bench = await createBenchDatabase(`precision_pgboss_${workers}`);
  const dataDir = ctx.tempDir(`pgboss-${workers}`);
  const procs: SpawnedProcess[] = [];
  const { openDatabase } = await import("~/server/db/client");
  const database = await openDatabase({ databaseUrl: bench.url, maxConnections: 4 });
  let web: { stop(): Promise<void> } | null = null;
  try {
    for (let i = 0; i < workers; i++) {
      procs.push(
        spawnProcess("npx", ["tsx", "src/worker/worker.ts"], {
          logFile: path.join(ctx.logDir, `precision-pgboss-${workers}-worker-${i + 1}.log`),
          env: {
            DATABASE_URL: bench.url,
            WAHA_URL: ctx.fakeWaha.url,
            WAHA_WEBHOOK_SECRET: "bench-webhook-secret-0123456789",
            SCHEDULER_DRIVER: "pg-boss",
            DATA_DIR: dataDir,
            LOG_LEVEL: "info",
            NODE_ENV: "production",
          },
        }),
      );
    }
    await Promise.all(procs.map((proc) => waitForLog(proc.logFile, /worker ready/, 90_000, () => proc.child.exitCode === null)));

    const sessionPrefix = `bench-pb${workers}-`;
    await ctx.fakeWaha.setWorking(Array.from({ length: n }, (_, i) => `${sessionPrefix}${i + 1}`));
    const firstDueMs = Date.now() + leadMs;
    const { workspaceId } = await seedPrecision(database.db, { n, firstDueMs, windowMs: WINDOW_MS, sessionPrefix });
    // The web process's part: queue a delayed job per campaign (initialize() does it for all at once).
    const { SchedulerService } = await import("~/server/services/scheduler");
    const { WahaApiClient } = await import("~/server/services/waha/client");
    const { default: pino } = await import("pino");
    const scheduler = new SchedulerService(database.db, new WahaApiClient({ baseUrl: ctx.fakeWaha.url }), {
      driver: "pg-boss",
      role: "web",
      databaseUrl: bench.url,
      // Its log would interleave with the table on stdout.
      logger: pino({ level: "warn" }),
    });
    web = scheduler;
    await scheduler.initialize();
    if (Date.now() > firstDueMs) ctx.progress(`warning: jobs were queued ${Date.now() - firstDueMs} ms after the first campaign was due`);

    const client = await connectClient(bench.url);
    try {
      const progress = async () =>
        (
          await client.query<{ started: number; completed: number }>(
            `select count(started_at)::int as started, count(*) filter (where status = 'Completed')::int as completed
               from campaigns where workspace_id = $1`,
            [workspaceId],
          )
        ).rows[0]!;
      await pollUntil(async () => (await progress()).completed >= n, firstDueMs + WINDOW_MS + 60_000 - Date.now(), 500);
      const { rows } = await client.query<{ late_ms: number }>(
        `select (extract(epoch from started_at - scheduled_at) * 1000)::float8 as late_ms
           from campaigns where workspace_id = $1 and started_at is not null`,
        [workspaceId],
      );
      const final = await progress();
      return { lateMs: rows.map((row) => Number(row.late_ms)), notStarted: n - final.started, completed: final.completed };
    } finally {
      await client.end();
    }
  } catch (error) {
    for (const proc of procs) ctx.progress(`worker log ${proc.logFile}:\n${tail(proc.logFile, 5)}`);
    throw error;
  } finally {
    await web?.stop().catch(() => undefined);
    await Promise.all(procs.map((proc) => proc.stop(15_000)));
    await database.close();
    await bench.drop();
  }
}

export async function measureStartPrecision(ctx: BenchContext): Promise<MeasurementResult> {
  const n = ctx.quick ? 200 : 1000;
  const leadMs = 4_000;
  const figures: Record<string, unknown> = { campaigns: n, windowMs: WINDOW_MS };
  const rows: Row[] = [];
  const timeoutMs = leadMs + WINDOW_MS + 120_000;
  const label = (what: string) => `${what} (${int(n)} due within 10 s)`;
  const lateness = (outcome: PrecisionOutcome): { summary: Summary; text: string } => {
    const summary = summarize(outcome.lateMs);
    const missing = outcome.notStarted > 0 ? ` · ${int(outcome.notStarted)} never started` : "";
    const unfinished = n - outcome.completed - outcome.notStarted > 0 ? ` · ${int(n - outcome.completed - outcome.notStarted)} not completed` : "";
    return { summary, text: `${latency(summary)}${missing}${unfinished}` };
  };

  // Baseline: bare node-cron timers, no database.
  let baseline = "n/a";
  ctx.progress(`start precision: bare node-cron timers (${n})`);
  try {
    const outcome = await forkTask<{ lateMs: number[] }>("precision-bare", { n, leadMs: 2_000, windowMs: WINDOW_MS } satisfies BareTimersArgs, {
      logFile: path.join(ctx.logDir, "precision-bare.log"),
      timeoutMs,
    }).result;
    const summary = summarize(outcome.lateMs);
    figures.bareNodeCron = summary;
    baseline = `bare node-cron timers, no DB: p99 ${ms(summary.p99)}, max ${ms(summary.max)}`;
  } catch (error) {
    baseline = errorCell(error);
  }

  for (const backend of ["pglite", "postgres"] as const) {
    const name = `node-cron · ${backend === "pglite" ? "PGlite" : "PostgreSQL"}`;
    ctx.progress(`start precision: ${name} (${n})`);
    const bench = backend === "postgres" ? await createBenchDatabase("precision_cron").catch((error: unknown) => error as Error) : null;
    try {
      if (bench instanceof Error) throw bench;
      const sessionPrefix = `bench-pc-${backend}-`;
      await ctx.fakeWaha.setWorking(Array.from({ length: n }, (_, i) => `${sessionPrefix}${i + 1}`));
      const outcome = await forkTask<PrecisionOutcome>(
        "precision-node-cron",
        {
          backend,
          databaseUrl: bench?.url ?? null,
          dataDir: backend === "pglite" ? await ctx.pgliteDataDir(`precision-${backend}`) : ctx.tempDir(`precision-${backend}`),
          wahaUrl: ctx.fakeWaha.url,
          n,
          leadMs,
          windowMs: WINDOW_MS,
          sessionPrefix,
        } satisfies NodeCronArgs,
        { logFile: path.join(ctx.logDir, `precision-node-cron-${backend}.log`), timeoutMs, env: { LOG_LEVEL: "info", NODE_ENV: "production" } },
      ).result;
      const { summary, text } = lateness(outcome);
      figures[`nodeCron_${backend}`] = { ...summary, notStarted: outcome.notStarted, completed: outcome.completed, initializeMs: outcome.initializeMs };
      rows.push({ section: SECTION, label: label(name), ours: text, baseline, target: "p99 < 1 s", met: outcome.notStarted === 0 && summary.p99 < 1000 });
    } catch (error) {
      rows.push({ section: SECTION, label: label(name), ours: errorCell(error), baseline, target: "p99 < 1 s", met: null });
    } finally {
      if (bench && !(bench instanceof Error)) await bench.drop();
    }
  }

  for (const workers of [1, 3]) {
    const name = `pg-boss · PostgreSQL · ${workers} worker${workers > 1 ? "s" : ""}`;
    ctx.progress(`start precision: ${name} (${n})`);
    const target = workers === 3 ? "p99 < 3 s" : "— (3 s is for 3 workers)";
    try {
      const outcome = await precisionPgBoss(ctx, workers, n, leadMs);
      const { summary, text } = lateness(outcome);
      figures[`pgBoss_${workers}`] = { ...summary, notStarted: outcome.notStarted, completed: outcome.completed };
      rows.push({
        section: SECTION,
        label: label(name),
        ours: text,
        baseline: "—",
        target,
        met: workers === 3 ? outcome.notStarted === 0 && summary.p99 < 3000 : null,
      });
    } catch (error) {
      rows.push({ section: SECTION, label: label(name), ours: errorCell(error), baseline: "—", target, met: null });
    }
  }
  return { rows, figures };
}
