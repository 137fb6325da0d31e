/**
 * 2. Scale of the schedule: 100,000 Scheduled campaigns over the next 30 days (bulk-inserted with
 * generate_series). In a fresh child process each: the time of `initialize()`, the RSS after it,
 * and the cost of one sweep (time and statements). Baseline: the seed plan's literal design, one
 * node-cron task per campaign with no horizon, in a child process of its own.
 */
import path from "node:path";
import { openBenchDatabase } from "./lib/db";
import { forkTask } from "./lib/children";
import { settledRss } from "./lib/childRuntime";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { checkpoint, createBenchDatabase } from "./lib/pg";
import { seedScheduleScale } from "./lib/seed";
import { StatementCounter, countPglite, countPostgres } from "./lib/statements";
import { median } from "./lib/stats";
import { type Row, int, mb, ms } from "./lib/table";
import type { BaselineArgs, BaselineOutcome } from "./scheduleScaleBaseline";

const SECTION = "2. Scale of the schedule";
const N = 100_000;
const SPAN_MS = 30 * 24 * 60 * 60 * 1000;
/** Nothing may come due while measuring. */
const FIRST_DUE_IN_MS = 10 * 60 * 1000;
const SWEEPS = 5;

interface ScaleArgs {
  backend: "pglite" | "postgres";
  driver: "node-cron" | "pg-boss";
  databaseUrl: string | null;
  dataDir: string;
  wahaUrl: string;
  n: number;
}

export interface ScaleOutcome {
  /** RSS with the database open and migrated, before initialize(). */
  rssOpenBytes: number;
  initializeMs: number;
  initializeStatements: number;
  rssAfterBytes: number;
  rssAfterGcBytes: number;
  armed: number;
  sweepMs: number[];
  sweepStatements: number[];
  /** process.memoryUsage() after initialize() and a GC: where the RSS is (V8 heap, buffers, WebAssembly memory). */
  memory: NodeJS.MemoryUsage;
}

/**
 * Child: seeds the database and closes it. Seeding runs apart from the measured process: a bulk
 * insert of 100,000 rows grows PGlite's WebAssembly heap for good, which a real start never pays.
 */
export async function scaleSeedChild(args: ScaleArgs): Promise<{ seedMs: number }> {
  const { migrateDatabase } = await import("~/server/db/client");
  const database = await openBenchDatabase(args);
  try {
    await migrateDatabase(database);
    const started = performance.now();
    await seedScheduleScale(database.db, { n: args.n, firstDueMs: Date.now() + FIRST_DUE_IN_MS, spanMs: SPAN_MS });
    return { seedMs: performance.now() - started };
  } finally {
    await database.close();
  }
}

/** Child: opens the seeded database as a starting process would, then initialize() and a few sweeps, measured. */
export async function scaleChild(args: ScaleArgs): Promise<ScaleOutcome> {
  const { migrateDatabase } = await import("~/server/db/client");
  const { SchedulerService } = await import("~/server/services/scheduler");
  const { WahaApiClient } = await import("~/server/services/waha/client");
  const database = await openBenchDatabase(args);
  try {
    await migrateDatabase(database);
    const rssOpenBytes = settledRss();

    const counter = new StatementCounter();
    const uncount = database.pglite ? countPglite(database.pglite, counter) : countPostgres(counter);
    const scheduler = new SchedulerService(database.db, new WahaApiClient({ baseUrl: args.wahaUrl }), {
      driver: args.driver,
      role: "all",
      databaseUrl: database.url,
      pglite: database.pglite,
      // Only the sweeps run below: the periodic one is set to once a year.
      sweepCron: "0 0 0 1 1 *",
      runnerOptions: { mediaDir: path.join(args.dataDir, "media") },
    });
    const started = performance.now();
    await scheduler.initialize();
    const initializeMs = performance.now() - started;
    const initializeStatements = counter.total;
    const rssAfterBytes = process.memoryUsage().rss;
    const rssAfterGcBytes = settledRss();
    const memory = process.memoryUsage();
    const armed = scheduler.status().armedJobs;

    // The periodic sweep is private; it is what the sweep task calls every 30 s.
    const sweep = (scheduler as unknown as { sweep?: () => Promise<void> }).sweep;
    if (typeof sweep !== "function") throw new Error("SchedulerService has no sweep() to time");
    const sweepMs: number[] = [];
    const sweepStatements: number[] = [];
    for (let i = 0; i < SWEEPS; i++) {
      counter.reset();
      const at = performance.now();
      await sweep.call(scheduler);
      sweepMs.push(performance.now() - at);
      sweepStatements.push(counter.total);
    }
    uncount();
    await scheduler.stop();
    return { rssOpenBytes, initializeMs, initializeStatements, rssAfterBytes, rssAfterGcBytes, armed, sweepMs, sweepStatements, memory };
  } finally {
    await database.close();
  }
}

export async function measureScheduleScale(ctx: BenchContext): Promise<MeasurementResult> {
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { campaigns: N, spanDays: 30 };
  const timeoutMs = 5 * 60_000;

  ctx.progress(`schedule scale: baseline, ${int(N)} node-cron tasks`);
  let baselineInit = "n/a";
  let baselineRss = "n/a";
  try {
    const outcome = await forkTask<BaselineOutcome>(
      "scale-baseline",
      { n: N, firstDueMs: Date.now() + FIRST_DUE_IN_MS, spanMs: SPAN_MS } satisfies BaselineArgs,
      { logFile: path.join(ctx.logDir, "scale-baseline.log"), timeoutMs },
    ).result;
    figures.baseline = outcome;
    baselineInit = `${int(N)} node-cron tasks (seed plan): ${ms(outcome.createMs)}`;
    baselineRss = `${int(N)} node-cron tasks: ${mb(outcome.rssAfterGcBytes)} (empty process ${mb(outcome.rssBeforeBytes)})`;
  } catch (error) {
    baselineInit = baselineRss = errorCell(error);
  }

  const variants = [
    { backend: "pglite", driver: "node-cron", name: "node-cron · PGlite" },
    { backend: "postgres", driver: "node-cron", name: "node-cron · PostgreSQL" },
    { backend: "postgres", driver: "pg-boss", name: "pg-boss · PostgreSQL" },
  ] as const;
  for (const variant of variants) {
    ctx.progress(`schedule scale: ${variant.name}, ${int(N)} campaigns`);
    const bench = variant.backend === "postgres" ? await createBenchDatabase("scale").catch((error: unknown) => error as Error) : null;
    try {
      if (bench instanceof Error) throw bench;
      const args: ScaleArgs = {
        backend: variant.backend,
        driver: variant.driver,
        databaseUrl: bench?.url ?? null,
        dataDir: variant.backend === "pglite" ? await ctx.pgliteDataDir(`scale-${variant.backend}`) : ctx.tempDir(`scale-${variant.backend}`),
        wahaUrl: ctx.fakeWaha.url,
        n: N,
      };
      const logFile = path.join(ctx.logDir, `scale-${variant.backend}-${variant.driver}.log`);
      const env = { LOG_LEVEL: "warn", NODE_ENV: "production" };
      const seeded = await forkTask<{ seedMs: number }>("scale-seed", args, { logFile, timeoutMs, env }).result;
      if (bench) await checkpoint();
      const outcome = await forkTask<ScaleOutcome>("scale-ours", args, { logFile, timeoutMs, env }).result;
      figures[`${variant.driver}_${variant.backend}`] = { ...outcome, ...seeded };
      const sweep = median(outcome.sweepMs);
      const sweepStatements = median(outcome.sweepStatements);
      rows.push(
        {
          section: SECTION,
          label: `initialize(), ${int(N)} over 30 days · ${variant.name}`,
          ours: `${ms(outcome.initializeMs)} (${int(outcome.armed)} armed within the horizon, ${int(outcome.initializeStatements)} statements)`,
          baseline: baselineInit,
          target: "< 10 s",
          met: outcome.initializeMs < 10_000,
        },
        {
          section: SECTION,
          label: `RSS after initialize() · ${variant.name}`,
          ours: `${mb(outcome.rssAfterGcBytes)} (${mb(outcome.rssOpenBytes)} with the database open, before it)`,
          baseline: baselineRss,
          target: "< 300 MB",
          met: outcome.rssAfterGcBytes < 300 * 1024 * 1024,
        },
        {
          section: SECTION,
          label: `one sweep · ${variant.name}`,
          ours: `${ms(sweep)} · ${int(sweepStatements)} statements (median of ${outcome.sweepMs.length})`,
          baseline: "— (the seed plan has no sweep)",
          target: "—",
          met: null,
        },
      );
    } catch (error) {
      rows.push({ section: SECTION, label: `initialize(), ${int(N)} over 30 days · ${variant.name}`, ours: errorCell(error), baseline: baselineInit, target: "< 10 s", met: null });
    } finally {
      if (bench && !(bench instanceof Error)) await bench.drop();
    }
  }
  return { rows, figures };
}
