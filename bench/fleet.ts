/**
 * `npm run bench -- --fleet` (issue 15): a fleet of numbers sending at once, through the pg-boss
 * driver on PostgreSQL, with real `npm run worker` processes (src/worker/worker.ts, unchanged; a
 * probe is preloaded to count their statements and sample their memory: bench/fleetProbe.mjs).
 *
 * 2,000 numbers spread over 4 fake WAHA processes (registered as `waha_servers` rows, so each run
 * sends through its number's server), one campaign per number, 100 recipients each, paced
 * 1–2 s apart (compressed time standing in for 6–60 s), all due at the same instant, their
 * recipients made ahead of it (as the web process does for campaigns due within 5 minutes). Run with 3
 * workers (the reported figures), then 2 and 1, each on a fresh database and fresh fakes.
 *
 * Figures, all from outside the workers except the probe's:
 * - aggregate rate: messages the fakes accepted ÷ (last send − the instant the campaigns were due),
 *   against the pace-limited ideal (numbers ÷ 1.5 s); a run that has not finished at its cap counts
 *   what was sent by then;
 * - the smallest gap between two sends of one number, from the fakes' message logs (each send's
 *   arrival time): must never be under the 1 s minimum delay;
 * - statements per message: every statement the workers sent between the due instant and the end
 *   (claims, materialising, send steps, lease renewals, waits, pg-boss polling), counted at the
 *   driver; beside it PostgreSQL's own count of transactions (pg_stat_database xact_commit +
 *   xact_rollback) for the bench database over the same span (pg_stat_statements is not loaded);
 * - worker RSS: the peak of each worker process.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { type SpawnedProcess, REPO_ROOT, spawnProcess, tail, waitForLog } from "./lib/children";
import { sleep } from "./lib/childRuntime";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { type FakeWahaProcess, startFakeWahaProcess } from "./lib/fakeWaha";
import { connectClient, createBenchDatabase } from "./lib/pg";
import { MESSAGE, createWorkspace, uid } from "./lib/seed";
import { summarize } from "./lib/stats";
import { type Row, int, mb, ms, pct, rate } from "./lib/table";

const SECTION = "Fleet (issue 15): numbers on 4 fake WAHA servers, pg-boss on PostgreSQL";
const SERVERS = 4;
const DELAY_MIN_MS = 1_000;
const DELAY_MAX_MS = 2_000;
const MEAN_DELAY_S = (DELAY_MIN_MS + DELAY_MAX_MS) / 2 / 1000;
const PROBE = path.join(REPO_ROOT, "bench", "fleetProbe.mjs");

export interface FleetPlan {
  numbers: number;
  recipients: number;
  workers: number[];
  /** How long a run may take after the due instant before it is measured as it stands. */
  capMs: (workers: number) => number;
}

export function fleetPlan(quick: boolean): FleetPlan {
  if (quick) return { numbers: 400, recipients: 20, workers: [3, 1], capMs: () => 90_000 };
  // Ideal: 99 gaps of 1.5 s = 149 s. 3 workers get twice that; the scale-out rows a little less.
  return { numbers: 2_000, recipients: 100, workers: [3, 2, 1], capMs: (workers) => (workers === 3 ? 300_000 : 220_000) };
}

interface ProbeSnapshot {
  pid: number;
  at: number;
  statements: number;
  byShape: Record<string, number>;
  rssBytes: number;
  peakRssBytes: number;
  cpuMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

function readProbe(file: string): ProbeSnapshot | null {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ProbeSnapshot;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for its CPU use over a span. */
function cpuTimes(): { busy: number; total: number } {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU time (user + system) a process used so far, from /proc/<pid>/stat; 0 when it is gone. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces), "(...)": state is the 3rd field, utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** Linux's USER_HZ, 100 on every common kernel (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** The backends serving the bench database, by pid. */
async function backendPids(url: string): Promise<number[]> {
  const client = await connectClient(url);
  try {
    const { rows } = await client.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function sentSoFar(fakes: FakeWahaProcess[]): Promise<number> {
  const stats = await Promise.all(fakes.map((fake) => fetchJson<{ sent: Record<string, number> }>(`${fake.url}/__fake/stats`)));
  return stats.reduce((sum, stat) => sum + Object.values(stat.sent).reduce((a, b) => a + b, 0), 0);
}

async function xacts(url: string): Promise<{ xacts: number; tuples: number }> {
  const client = await connectClient(url);
  try {
    await client.query("select pg_stat_clear_snapshot()");
    const { rows } = await client.query<{ xacts: string; tuples: string }>(
      `select (xact_commit + xact_rollback)::text as xacts,
              (tup_returned + tup_fetched + tup_inserted + tup_updated + tup_deleted)::text as tuples
         from pg_stat_database where datname = current_database()`,
    );
    return { xacts: Number(rows[0]!.xacts), tuples: Number(rows[0]!.tuples) };
  } finally {
    await client.end();
  }
}

export interface FleetOutcome {
  workers: number;
  numbers: number;
  recipients: number;
  expected: number;
  sent: number;
  finished: boolean;
  /** Due instant → last send (or the cap). */
  elapsedMs: number;
  ratePerS: number;
  idealPerS: number;
  /** Rate between the 10th and the 90th percentile send: the run without its start and its tail. */
  steadyRatePerS: number;
  firstSendLateMs: { p50: number; p99: number; max: number };
  /** Set-up: making every recipient row ahead of the due instant (the bench process, 4 at a time). */
  preparedAheadMs: number;
  minGapMs: number;
  gapsUnderMin: number;
  duplicates: number;
  statements: number;
  statementsPerMessage: number;
  xactsPerMessage: number;
  topStatements: Array<{ shape: string; perMessage: number }>;
  peakRssBytes: number[];
  /** Each worker's RSS just before the due instant (started, nothing running). */
  idleRssBytes: number[];
  /** campaign_recipients at the end: rows, and bytes per row of the table and of its indexes. */
  recipientTable: { rows: number; tableBytesPerRow: number; indexBytesPerRow: number; indexes: Record<string, number> };
  workerCpuPerMessageMs: number;
  loopDelayP99Ms: { median: number; max: number };
  machineCpuBusy: number;
  /**
   * CPU per message over the run, by process kind: the workers (probe), PostgreSQL (the bench
   * database's backends, from /proc; one that ended mid-run is missed), the fakes. With the machine's
   * cores, the rate that CPU alone would allow.
   */
  cpuPerMessageMs: { workers: number; postgres: number; fakes: number; total: number; cores: number; cpuBoundRatePerS: number };
}

/** One fleet run with `workers` worker processes; everything it starts is stopped, its database dropped. */
export async function runFleet(ctx: BenchContext, plan: FleetPlan, workers: number): Promise<FleetOutcome> {
  const tag = `fleet-${workers}w`;
  const bench = await createBenchDatabase(`fleet_${workers}w`);
  const fakes: FakeWahaProcess[] = [];
  const procs: SpawnedProcess[] = [];
  const probeFiles: string[] = [];
  const { openDatabase } = await import("~/server/db/client");
  const database = await openDatabase({ databaseUrl: bench.url, maxConnections: 4 });
  let web: { stop(): Promise<void> } | null = null;
  let preparedAheadMs = Number.NaN;
  try {
    for (let k = 0; k < SERVERS; k++) fakes.push(await startFakeWahaProcess(ctx.logDir, `${tag}-fake-waha-${k + 1}`));
    const probeDir = ctx.tempDir(`${tag}-probe`);
    const dataDir = ctx.tempDir(`${tag}-data`);
    for (let i = 0; i < workers; i++) {
      const probeFile = path.join(probeDir, `worker-${i + 1}.json`);
      probeFiles.push(probeFile);
      procs.push(
        // `npm run worker` is `tsx src/worker/worker.ts`: the same entry, with the probe preloaded.
        spawnProcess(process.execPath, ["--import", "tsx", "--import", PROBE, "src/worker/worker.ts"], {
          logFile: path.join(ctx.logDir, `${tag}-worker-${i + 1}.log`),
          env: {
            DATABASE_URL: bench.url,
            // The default server: unused, every fleet number is on a registered one.
            WAHA_URL: fakes[0]!.url,
            WAHA_WEBHOOK_SECRET: "bench-webhook-secret-0123456789",
            SCHEDULER_DRIVER: "pg-boss",
            DATA_DIR: dataDir,
            // The default level, as users run it (its "worker ready" line is also how the bench knows).
            LOG_LEVEL: "info",
            NODE_ENV: "production",
            FLEET_PROBE_FILE: probeFile,
          },
        }),
      );
    }
    const ready = Promise.all(procs.map((proc) => waitForLog(proc.logFile, /worker ready/, 120_000, () => proc.child.exitCode === null)));

    // The fleet: servers, numbers (number i on server (i - 1) % 4), lists, contacts, campaigns.
    const s = Math.random().toString(16).slice(2, 10);
    const prefix = `fleet-${s}-`;
    const db = database.db;
    const { numbers: n, recipients: r } = plan;
    const workspaceId = await createWorkspace(db, `bench fleet ${s}`);
    for (let k = 0; k < SERVERS; k++) {
      await db.execute(sql`
        insert into waha_servers (id, workspace_id, name, url, health_status)
        values (${uid(sql`${s} || 'w' || ${k + 1}::int`)}, ${workspaceId}::uuid, ${`Fake WAHA ${k + 1}`}, ${fakes[k]!.url}, 'healthy')`);
    }
    await db.execute(sql`
      insert into whatsapp_sessions (id, workspace_id, name, waha_session_name, server_id, status)
      select ${uid(sql`${s} || 's' || i`)}, ${workspaceId}::uuid, 'Number ' || i, ${prefix} || i,
             ${uid(sql`${s} || 'w' || ((i - 1) % ${SERVERS}::int + 1)`)}, 'WORKING'
        from generate_series(1, ${n}::int) i`);
    await db.execute(sql`
      insert into contact_lists (id, workspace_id, name)
      select ${uid(sql`${s} || 'l' || i`)}, ${workspaceId}::uuid, 'List ' || i from generate_series(1, ${n}::int) i`);
    await db.execute(sql`
      insert into contacts (id, workspace_id, phone, first_name)
      select ${uid(sql`${s} || 'c' || i`)}, ${workspaceId}::uuid, '+1' || (2000000000 + i)::text, 'Contact' || i
        from generate_series(1, ${n * r}::int) i`);
    await db.execute(sql`
      insert into contact_list_members (list_id, contact_id)
      select ${uid(sql`${s} || 'l' || ((i - 1) / ${r}::int + 1)`)}, ${uid(sql`${s} || 'c' || i`)}
        from generate_series(1, ${n * r}::int) i`);
    await db.execute(sql`analyze`);
    for (let k = 0; k < SERVERS; k++) {
      const names = Array.from({ length: n }, (_, i) => i + 1)
        .filter((i) => (i - 1) % SERVERS === k)
        .map((i) => `${prefix}${i}`);
      await fakes[k]!.setWorking(names);
    }
    await ready;

    // Campaigns scheduled ahead, as users do: their recipients are made before their time, as the web
    // process's sweep does for campaigns due within 5 minutes (scheduling/prepareRecipients.ts). Set-up,
    // not measured; then all are moved to one instant a little ahead, and their jobs queued.
    const campaignIds = (
      (await db.execute(sql`
        insert into campaigns (id, workspace_id, name, list_id, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms)
        select ${uid(sql`${s} || 'k' || i`)}, ${workspaceId}::uuid, 'Campaign ' || i, ${uid(sql`${s} || 'l' || i`)}, ${MESSAGE},
               ${uid(sql`${s} || 's' || i`)}, now() + interval '1 hour', 'Scheduled', ${DELAY_MIN_MS}::int, ${DELAY_MAX_MS}::int
          from generate_series(1, ${n}::int) i
        returning id::text as id`)) as unknown as { rows: Array<{ id: string }> }
    ).rows.map((row) => row.id);
    const { RecipientPreparer } = await import("~/server/services/scheduling/prepareRecipients");
    const { default: pino } = await import("pino");
    const preparer = new RecipientPreparer(db, pino({ level: "warn" }));
    const preparingSince = performance.now();
    for (let start = 0; start < campaignIds.length; start += 4) {
      const outcomes = await Promise.all(campaignIds.slice(start, start + 4).map((id) => preparer.prepare(id)));
      if (outcomes.some((outcome) => outcome !== "prepared")) throw new Error(`recipients not prepared ahead: ${outcomes.join(", ")}`);
    }
    preparedAheadMs = performance.now() - preparingSince;
    ctx.progress(`${tag}: ${int(n * r)} recipients prepared ahead in ${ms(preparedAheadMs)}`);
    const dueMs = Math.ceil((Date.now() + 8_000) / 1000) * 1000;
    await db.execute(sql`update campaigns set scheduled_at = ${new Date(dueMs).toISOString()}::timestamptz where workspace_id = ${workspaceId}::uuid`);
    // A reschedule, as campaign.update does it: the jobs the workers' sweeps queued for the old time go.
    await db.execute(sql`delete from pgboss.job where name = 'campaign-start' and state < 'active'`);
    const { SchedulerService } = await import("~/server/services/scheduler");
    const { WahaApiClient } = await import("~/server/services/waha/client");
    const scheduler = new SchedulerService(db, new WahaApiClient({ baseUrl: fakes[0]!.url }), {
      driver: "pg-boss",
      role: "web",
      databaseUrl: bench.url,
      logger: pino({ level: "warn" }),
    });
    web = scheduler;
    await scheduler.initialize();
    if (Date.now() > dueMs) ctx.progress(`${tag}: warning: jobs queued ${Date.now() - dueMs} ms after the due instant`);

    // Baselines just before the due instant.
    await sleep(Math.max(0, dueMs - Date.now() - 1_200));
    const before = probeFiles.map(readProbe);
    const xactsBefore = await xacts(bench.url);
    const cpuBefore = cpuTimes();
    const fakePids = fakes.map((fake) => fake.process.child.pid ?? 0);
    const fakeCpuBefore = fakePids.map(processCpuMs);
    const pgCpuBefore = new Map((await backendPids(bench.url)).map((pid) => [pid, processCpuMs(pid)]));
    await sleep(Math.max(0, dueMs - Date.now()));
    ctx.progress(`${tag}: ${int(n)} campaigns due now (${int(n * r)} messages, ${workers} worker${workers > 1 ? "s" : ""})`);

    const expected = n * r;
    const capAt = dueMs + plan.capMs(workers);
    const loopP99: number[] = [];
    const loopMax: number[] = [];
    let sent = 0;
    let lastReport = Date.now();
    for (;;) {
      await sleep(1_000);
      sent = await sentSoFar(fakes);
      for (const file of probeFiles) {
        const snapshot = readProbe(file);
        if (snapshot) {
          loopP99.push(snapshot.loopDelayP99Ms);
          loopMax.push(snapshot.loopDelayMaxMs);
        }
      }
      if (Date.now() - lastReport >= 15_000) {
        lastReport = Date.now();
        const seconds = (Date.now() - dueMs) / 1000;
        ctx.progress(`${tag}: ${int(sent)} of ${int(expected)} sent in ${seconds.toFixed(0)} s (${rate(sent / seconds)})`);
      }
      if (sent >= expected || Date.now() >= capAt) break;
      for (const proc of procs) if (proc.child.exitCode !== null) throw new Error(`worker exited (log: ${proc.logFile})\n${tail(proc.logFile)}`);
    }
    const finished = sent >= expected;
    // Let the last settles and completions land (they are part of a message's cost), then one more probe write.
    await sleep(finished ? 4_000 : 1_500);
    const cpuAfter = cpuTimes();
    const fakeCpuMs = fakePids.reduce((sum, pid, i) => sum + processCpuMs(pid) - fakeCpuBefore[i]!, 0);
    const pgCpuMs = (await backendPids(bench.url)).reduce((sum, pid) => sum + processCpuMs(pid) - (pgCpuBefore.get(pid) ?? 0), 0);
    const after = probeFiles.map(readProbe);
    const xactsAfter = await xacts(bench.url);
    const sizes = await connectClient(bench.url).then(async (client) => {
      try {
        const { rows: counted } = await client.query<{ n: string; table: string; indexes: string }>(
          `select count(*)::text as n, pg_table_size('campaign_recipients')::text as table, pg_indexes_size('campaign_recipients')::text as indexes from campaign_recipients`,
        );
        const { rows: perIndex } = await client.query<{ name: string; bytes: string }>(
          `select indexrelid::regclass::text as name, pg_relation_size(indexrelid)::text as bytes from pg_index where indrelid = 'campaign_recipients'::regclass`,
        );
        const rowsNow = Number(counted[0]!.n);
        return {
          rows: rowsNow,
          tableBytesPerRow: Math.round(Number(counted[0]!.table) / Math.max(1, rowsNow)),
          indexBytesPerRow: Math.round(Number(counted[0]!.indexes) / Math.max(1, rowsNow)),
          indexes: Object.fromEntries(perIndex.map((row) => [row.name, Math.round(Number(row.bytes) / Math.max(1, rowsNow))])),
        };
      } finally {
        await client.end();
      }
    });

    // The fakes' logs: every accepted send with its arrival time.
    type Message = { session: string; chatId: string; at: string };
    const messages = (await Promise.all(fakes.map((fake) => fetchJson<Message[]>(`${fake.url}/__fake/messages`)))).flat();
    const bySession = new Map<string, number[]>();
    const seen = new Set<string>();
    let duplicates = 0;
    for (const message of messages) {
      const at = Date.parse(message.at);
      const list = bySession.get(message.session);
      if (list) list.push(at);
      else bySession.set(message.session, [at]);
      const key = `${message.session}\n${message.chatId}`;
      if (seen.has(key)) duplicates++;
      seen.add(key);
    }
    let minGapMs = Number.POSITIVE_INFINITY;
    let gapsUnderMin = 0;
    const firstLate: number[] = [];
    for (const times of bySession.values()) {
      times.sort((a, b) => a - b);
      firstLate.push(times[0]! - dueMs);
      for (let i = 1; i < times.length; i++) {
        const gap = times[i]! - times[i - 1]!;
        if (gap < minGapMs) minGapMs = gap;
        if (gap < DELAY_MIN_MS) gapsUnderMin++;
      }
    }
    const allTimes = messages.map((message) => Date.parse(message.at)).sort((a, b) => a - b);
    const measuredUntil = finished ? allTimes[allTimes.length - 1]! : capAt;
    const counted = allTimes.filter((at) => at <= measuredUntil).length;
    const elapsedMs = measuredUntil - dueMs;
    const p10 = allTimes[Math.floor(allTimes.length * 0.1)]!;
    const p90 = allTimes[Math.floor(allTimes.length * 0.9)]!;
    const late = summarize(firstLate);

    const statements = after.reduce((sum, snapshot, i) => sum + (snapshot?.statements ?? 0) - (before[i]?.statements ?? 0), 0);
    const shapes = new Map<string, number>();
    after.forEach((snapshot, i) => {
      for (const [shape, count] of Object.entries(snapshot?.byShape ?? {})) {
        shapes.set(shape, (shapes.get(shape) ?? 0) + count - (before[i]?.byShape[shape] ?? 0));
      }
    });
    const cpuMs = after.reduce((sum, snapshot, i) => sum + (snapshot?.cpuMs ?? 0) - (before[i]?.cpuMs ?? 0), 0);
    const sortedP99 = [...loopP99].sort((a, b) => a - b);
    return {
      workers,
      numbers: n,
      recipients: r,
      expected,
      sent: messages.length,
      finished,
      elapsedMs,
      ratePerS: counted / (elapsedMs / 1000),
      idealPerS: n / MEAN_DELAY_S,
      steadyRatePerS: (allTimes.length * 0.8) / Math.max(0.001, (p90 - p10) / 1000),
      firstSendLateMs: { p50: late.p50, p99: late.p99, max: late.max },
      preparedAheadMs,
      minGapMs,
      gapsUnderMin,
      duplicates,
      statements,
      statementsPerMessage: statements / Math.max(1, messages.length),
      xactsPerMessage: (xactsAfter.xacts - xactsBefore.xacts) / Math.max(1, messages.length),
      topStatements: [...shapes.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([shape, count]) => ({ shape, perMessage: Math.round((count / Math.max(1, messages.length)) * 1000) / 1000 })),
      peakRssBytes: after.map((snapshot) => snapshot?.peakRssBytes ?? Number.NaN),
      idleRssBytes: before.map((snapshot) => snapshot?.rssBytes ?? Number.NaN),
      recipientTable: sizes,
      workerCpuPerMessageMs: cpuMs / Math.max(1, messages.length),
      loopDelayP99Ms: { median: sortedP99[Math.floor(sortedP99.length / 2)] ?? Number.NaN, max: Math.max(...loopMax, 0) },
      cpuPerMessageMs: (() => {
        const per = (total: number) => total / Math.max(1, messages.length);
        const total = per(cpuMs) + per(pgCpuMs) + per(fakeCpuMs);
        const cores = os.cpus().length;
        return { workers: per(cpuMs), postgres: per(pgCpuMs), fakes: per(fakeCpuMs), total, cores, cpuBoundRatePerS: (cores * 1000) / total };
      })(),
      machineCpuBusy: cpuAfter.total > cpuBefore.total ? (cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total) : Number.NaN,
    };
  } catch (error) {
    for (const proc of procs) ctx.progress(`worker log ${proc.logFile}:\n${tail(proc.logFile, 5)}`);
    throw error;
  } finally {
    await web?.stop().catch(() => undefined);
    await Promise.all(procs.map((proc) => proc.stop(15_000)));
    await Promise.all(fakes.map((fake) => fake.stop()));
    await database.close();
    await bench.drop();
  }
}

function rowsFor(outcome: FleetOutcome, reported: boolean): Row[] {
  const w = `${outcome.workers} worker${outcome.workers > 1 ? "s" : ""}`;
  const run = `${int(outcome.numbers)} numbers × ${outcome.recipients}, ${w}`;
  const share = outcome.ratePerS / outcome.idealPerS;
  const sentNote = outcome.finished ? `all ${int(outcome.sent)} sent in ${ms(outcome.elapsedMs)}` : `${int(outcome.sent)} of ${int(outcome.expected)} sent by the ${ms(outcome.elapsedMs)} cap`;
  const rows: Row[] = [
    {
      section: SECTION,
      label: `aggregate rate · ${run}`,
      ours: `${rate(outcome.ratePerS)} = ${pct(share)} of ideal (${sentNote}; steady ${rate(outcome.steadyRatePerS)})`,
      baseline: `pace-limited ideal ${rate(outcome.idealPerS)} (${int(outcome.numbers)} ÷ 1.5 s)`,
      target: reported ? "≥ 90% of ideal" : "—",
      met: reported ? share >= 0.9 : null,
    },
    {
      section: SECTION,
      label: `smallest gap between two sends of one number · ${w}`,
      ours: `${ms(outcome.minGapMs)} (${outcome.gapsUnderMin} under 1 s; ${outcome.duplicates} recipients sent twice)`,
      baseline: "minimum delay 1 s",
      target: "≥ 1 s",
      met: outcome.gapsUnderMin === 0 && outcome.duplicates === 0,
    },
    {
      section: SECTION,
      label: `database statements per message · ${w}`,
      ours: `${outcome.statementsPerMessage.toFixed(2)} (workers' driver count, all included) · ${outcome.xactsPerMessage.toFixed(2)} transactions (pg_stat_database)`,
      baseline: "—",
      target: reported ? "≤ 3" : "—",
      met: reported ? outcome.statementsPerMessage <= 3 : null,
    },
    {
      section: SECTION,
      label: `worker RSS, peak per worker · ${w}`,
      ours: `${outcome.peakRssBytes.map(mb).join(" · ")} (${outcome.idleRssBytes.map(mb).join(" · ")} just before the due instant)`,
      baseline: "—",
      target: "< 1 GB",
      met: outcome.peakRssBytes.every((bytes) => bytes < 1024 ** 3),
    },
  ];
  if (reported) {
    rows.push({
      section: SECTION,
      label: `where the time goes · ${w}`,
      ours: `${int(outcome.recipientTable.tableBytesPerRow)} + ${int(outcome.recipientTable.indexBytesPerRow)} bytes of table + indexes per recipient row · first send p50 ${ms(outcome.firstSendLateMs.p50)} / p99 ${ms(outcome.firstSendLateMs.p99)} after due · CPU per message: workers ${outcome.cpuPerMessageMs.workers.toFixed(2)} ms + PostgreSQL ${outcome.cpuPerMessageMs.postgres.toFixed(2)} ms + fakes ${outcome.cpuPerMessageMs.fakes.toFixed(2)} ms = ${outcome.cpuPerMessageMs.total.toFixed(2)} ms, so ${outcome.cpuPerMessageMs.cores} cores allow at most ${rate(outcome.cpuPerMessageMs.cpuBoundRatePerS)} · event-loop delay p99 ${ms(outcome.loopDelayP99Ms.median)} (max ${ms(outcome.loopDelayP99Ms.max)}) · machine CPU ${pct(outcome.machineCpuBusy)} busy`,
      baseline: "—",
      target: "—",
      met: null,
    });
  }
  return rows;
}

export async function measureFleet(ctx: BenchContext): Promise<MeasurementResult> {
  const plan = fleetPlan(ctx.quick);
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { plan: { numbers: plan.numbers, recipients: plan.recipients, workers: plan.workers, servers: SERVERS, delayMs: [DELAY_MIN_MS, DELAY_MAX_MS] } };
  for (const workers of plan.workers) {
    const reported = workers === 3;
    try {
      ctx.progress(`fleet: ${int(plan.numbers)} numbers × ${plan.recipients} recipients, ${workers} worker${workers > 1 ? "s" : ""}`);
      const outcome = await runFleet(ctx, plan, workers);
      figures[`workers_${workers}`] = outcome;
      rows.push(...rowsFor(outcome, reported));
    } catch (error) {
      ctx.progress(`fleet with ${workers} workers failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push({ section: SECTION, label: `${workers} worker${workers > 1 ? "s" : ""}`, ours: errorCell(error), baseline: "—", target: "—", met: null });
    }
  }
  return { rows, figures };
}
