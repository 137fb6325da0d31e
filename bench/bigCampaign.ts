/**
 * Big campaigns (issue 15): `npm start` as a user runs it (the pages built, the fake WAHA in its own
 * process as a real WAHA would be), a contact list imported over REST (a CSV body) or, for 1,000,000,
 * seeded with SQL before the start, then a campaign at delay 0 created over REST to start a little
 * later. Measured: how late the first message reaches WAHA after `scheduledAt` (the fake's counter,
 * polled every 10 ms), and the server process's peak RSS through the import and the campaign (its
 * /proc entry every 100 ms; the breakdown where the probe saw its peak, from process.memoryUsage(),
 * bench/bigCampaignProbe.mjs: PGlite's WebAssembly memory shows in `external`).
 * 50,000 are sent to the end; of 1,000,000 only the first 10 s of sending (the rest would take half
 * an hour and measures nothing new: sending's own rate is section 3).
 * BENCH_BIG_ONLY=pglite-50000,postgres-50000,pglite-1000000 runs only those.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { sql } from "drizzle-orm";
import { REPO_ROOT, processTree, spawnProcess, tail } from "./lib/children";
import { sleep } from "./lib/childRuntime";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { createBenchDatabase } from "./lib/pg";
import { type Row, int, mb, ms } from "./lib/table";

const SECTION = "10. Big campaigns (npm start, delay 0)";
const BEFORE = "before (issue 15, 50,000, embedded): first message +6.0 s, peak RSS 619 MB";

interface Scenario {
  recipients: number;
  backend: "pglite" | "postgres";
  /** How the contacts get there: a REST CSV import, or SQL before the server starts. */
  seed: "rest" | "sql";
  /** scheduledAt = created + leadMs: time for the recipients to be made ahead. */
  leadMs: number;
  sendAll: boolean;
}

interface Outcome {
  importMs: number | null;
  lateMs: number;
  sent: number;
  sendMs: number | null;
  peakRssBytes: number;
  /** process.memoryUsage() where the server's RSS peaked (PGlite's WebAssembly memory counts in `external`). */
  atPeak: { rss: number; heapUsed: number; external: number; arrayBuffers: number } | null;
  idleRssBytes: number;
  preparedAheadMs: number | null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const phoneOf = (index: number) => `+4915${String(index).padStart(9, "0")}`;

/** The account, its number (WORKING, no limits: the bench measures the engine, not the policy) and, for `sql`, the contacts. */
async function prepareData(scenario: Scenario, target: { dataDir?: string; databaseUrl?: string }, wahaSessionName: string) {
  const { migrateDatabase, openDatabase } = await import("~/server/db/client");
  const { createApiKey, createUser } = await import("~/server/services/auth");
  const { PasswordHasher } = await import("~/server/services/auth/passwords");
  const schema = await import("~/server/db/schema");
  const database = await openDatabase({ dataDir: target.dataDir ?? null, databaseUrl: target.databaseUrl ?? null, maxConnections: 2 });
  try {
    await migrateDatabase(database);
    const user = await createUser(database.db, { email: `big-${randomBytes(3).toString("hex")}@example.com`, password: `Bench-${randomBytes(12).toString("hex")}` }, { passwords: new PasswordHasher() });
    const apiKey = `bench-${randomBytes(16).toString("hex")}`;
    await createApiKey(database.db, { workspaceId: user.workspaceId, userId: user.id, name: "bench", rawKey: apiKey });
    const [session] = await database.db
      .insert(schema.whatsappSessions)
      .values({
        workspaceId: user.workspaceId,
        name: "Big",
        wahaSessionName,
        status: "WORKING",
        warmup: false,
        dailyLimit: null,
        hourlyLimit: null,
        typing: false,
        checkExists: false,
        maxConsecutiveFailures: null,
      })
      .returning({ id: schema.whatsappSessions.id });
    let listId: string | null = null;
    if (scenario.seed === "sql") {
      await database.db.update(schema.workspaces).set({ quotaContacts: scenario.recipients + 1000 }).where(sql`id = ${user.workspaceId}`);
      const [list] = await database.db.insert(schema.contactLists).values({ workspaceId: user.workspaceId, name: "Seeded" }).returning({ id: schema.contactLists.id });
      listId = list!.id;
      const step = 100_000;
      for (let from = 0; from < scenario.recipients; from += step) {
        const to = Math.min(scenario.recipients, from + step) - 1;
        await database.db.execute(sql`
          with made as (
            insert into contacts (workspace_id, phone, first_name, attributes)
            select ${user.workspaceId}::uuid, '+4915' || lpad(i::text, 9, '0'), 'Name' || i, jsonb_build_object('code', 'C' || i)
              from generate_series(${from}::int, ${to}::int) as i
            returning id, phone)
          insert into contact_list_members (list_id, contact_id) select ${listId}::uuid, id from made order by phone`);
      }
    }
    return { apiKey, sessionId: session!.id, listId };
  } finally {
    await database.close();
  }
}

async function runScenario(ctx: BenchContext, scenario: Scenario): Promise<Outcome> {
  const label = `big-${scenario.backend}-${scenario.recipients}`;
  const wahaSessionName = `big_${randomBytes(4).toString("hex")}`;
  let dataDir: string;
  let databaseUrl: string | undefined;
  if (scenario.backend === "pglite") {
    dataDir = await ctx.pgliteDataDir(label);
  } else {
    dataDir = ctx.tempDir(label);
    databaseUrl = (await createBenchDatabase("big")).url;
  }
  ctx.progress(`big campaign: ${int(scenario.recipients)} · ${scenario.backend}: account${scenario.seed === "sql" ? " and contacts (SQL)" : ""}`);
  const seeded = await prepareData(scenario, databaseUrl ? { databaseUrl } : { dataDir }, wahaSessionName);
  await ctx.fakeWaha.setWorking([wahaSessionName]);

  const port = await freePort();
  const probeDir = ctx.tempDir(`${label}-probe`);
  const logFile = path.join(ctx.logDir, `${label}.log`);
  const server = spawnProcess("npm", ["start"], {
    logFile,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      WAHA_URL: ctx.fakeWaha.url,
      WAHA_WEBHOOK_SECRET: randomBytes(16).toString("hex"),
      SCHEDULER_DRIVER: undefined,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_OPTIONS: `--import ${path.join(REPO_ROOT, "bench/bigCampaignProbe.mjs")}`,
      BIG_PROBE_FILE: path.join(probeDir, "memory"),
    },
  });
  let sampler: NodeJS.Timeout | null = null;
  try {
    const base = `http://127.0.0.1:${port}/api/v1`;
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      if (server.child.exitCode !== null) throw new Error(`npm start exited with ${server.child.exitCode}\n${tail(logFile)}`);
      if (Date.now() > deadline) throw new Error(`npm start did not answer within 5 min\n${tail(logFile)}`);
      try {
        const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2_000) });
        await health.arrayBuffer();
        if (health.ok) break;
      } catch {
        // not yet
      }
      await sleep(100);
    }
    await sleep(2_000);
    const serverPid = () => {
      const tree = processTree(server.child.pid!);
      return tree.reduce((biggest, info) => (info.rssBytes > biggest.rssBytes ? info : biggest), tree[0]!);
    };
    const idleRssBytes = serverPid().rssBytes;
    let peakRssBytes = idleRssBytes;
    sampler = setInterval(() => {
      const rss = processTree(server.child.pid!).reduce((biggest, info) => Math.max(biggest, info.rssBytes), 0);
      peakRssBytes = Math.max(peakRssBytes, rss);
    }, 100);

    const call = async (method: string, route: string, body?: string, type = "application/json") => {
      const response = await fetch(base + route, {
        method,
        headers: { authorization: `Bearer ${seeded.apiKey}`, ...(body === undefined ? {} : { "content-type": type }) },
        body,
        signal: AbortSignal.timeout(5 * 60_000),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };

    let listId = seeded.listId;
    let importMs: number | null = null;
    if (scenario.seed === "rest") {
      listId = (await call("POST", "/lists", JSON.stringify({ name: "Imported" }))).id as string;
      const lines = ["phone,first_name,code"];
      for (let index = 0; index < scenario.recipients; index++) lines.push(`${phoneOf(index)},Name${index},C${index}`);
      ctx.progress(`big campaign: importing ${int(scenario.recipients)} contacts over REST`);
      const started = performance.now();
      const imported = await call("POST", `/lists/${listId}/import?defaultCountry=DE`, `${lines.join("\n")}\n`, "text/csv");
      importMs = performance.now() - started;
      const saved = Number(imported.imported ?? imported.created ?? imported.added ?? Number.NaN);
      if (Number.isFinite(saved) && saved < scenario.recipients) throw new Error(`the import saved ${saved} of ${scenario.recipients}`);
    }

    const scheduledAt = new Date(Date.now() + scenario.leadMs);
    scheduledAt.setMilliseconds(0);
    ctx.progress(`big campaign: campaign of ${int(scenario.recipients)} due in ${ms(scheduledAt.getTime() - Date.now())}`);
    const campaign = await call(
      "POST",
      "/campaigns",
      JSON.stringify({
        name: `Big ${scenario.recipients}`,
        listId,
        sessionId: seeded.sessionId,
        text: "{Hi|Hello} {{first_name|there}}, your code is {{code}}",
        scheduledAt: scheduledAt.toISOString(),
        delayMinMs: 0,
        delayMaxMs: 0,
      }),
    );

    const sentSoFar = async () => {
      const response = await fetch(`${ctx.fakeWaha.url}/__fake/stats`);
      const stats = (await response.json()) as { sent: Record<string, number> };
      return stats.sent[wahaSessionName] ?? 0;
    };
    const firstDeadline = scheduledAt.getTime() + 10 * 60_000;
    while ((await sentSoFar()) === 0) {
      if (Date.now() > firstDeadline) throw new Error(`nothing sent 10 min after scheduledAt\n${tail(logFile)}`);
      await sleep(10);
    }
    const lateMs = Date.now() - scheduledAt.getTime();
    ctx.progress(`big campaign: first message +${ms(lateMs)}`);

    let sent = await sentSoFar();
    let sendMs: number | null = null;
    if (scenario.sendAll) {
      const doneDeadline = Date.now() + 15 * 60_000;
      while (sent < scenario.recipients) {
        if (Date.now() > doneDeadline) throw new Error(`only ${sent} of ${scenario.recipients} sent after 15 min`);
        await sleep(500);
        sent = await sentSoFar();
      }
      sendMs = Date.now() - scheduledAt.getTime();
      // Its completion and the last counts are part of the campaign too.
      for (let attempt = 0; attempt < 60; attempt++) {
        if ((await call("GET", `/campaigns/${campaign.id as string}`)).status === "Completed") break;
        await sleep(500);
      }
    } else {
      await sleep(10_000);
      sent = await sentSoFar();
      await call("POST", `/campaigns/${campaign.id as string}/cancel`, "{}").catch(() => undefined);
    }
    clearInterval(sampler);
    sampler = null;
    await sleep(600);

    // The server is the node process with the largest RSS (npm and tsx's wrapper are node processes too).
    const probes = readdirSync(probeDir)
      .filter((name) => !name.endsWith(".tmp"))
      .map((name) => JSON.parse(readFileSync(path.join(probeDir, name), "utf8")) as { peak: Outcome["atPeak"] });
    const probe = probes.reduce<(typeof probes)[number] | null>((best, candidate) => ((candidate.peak?.rss ?? 0) > (best?.peak?.rss ?? 0) ? candidate : best), null);
    const prepared = /"msg":"recipients prepared ahead"[^\n]*"durationMs":(\d+)|"durationMs":(\d+)[^\n]*"msg":"recipients prepared ahead"/.exec(readFileSync(logFile, "utf8"));
    return {
      importMs,
      lateMs,
      sent,
      sendMs,
      peakRssBytes: Math.max(peakRssBytes, probe?.peak?.rss ?? 0),
      atPeak: probe?.peak ?? null,
      idleRssBytes,
      preparedAheadMs: prepared ? Number(prepared[1] ?? prepared[2]) : null,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await server.stop(15_000);
  }
}

function describe(scenario: Scenario): string {
  const contacts = scenario.seed === "rest" ? "REST CSV import" : "contacts seeded with SQL before the start";
  return `${int(scenario.recipients)} recipients · ${scenario.backend === "pglite" ? "embedded (PGlite)" : "PostgreSQL"} · ${contacts}`;
}

export async function measureBigCampaign(ctx: BenchContext): Promise<MeasurementResult> {
  const all: Scenario[] = [
    { recipients: 50_000, backend: "pglite", seed: "rest", leadMs: 20_000, sendAll: true },
    { recipients: 50_000, backend: "postgres", seed: "rest", leadMs: 20_000, sendAll: true },
    ...(ctx.quick ? [] : [{ recipients: 1_000_000, backend: "pglite" as const, seed: "sql" as const, leadMs: 240_000, sendAll: false }]),
  ];
  const scenarios = all.filter((scenario) => !process.env.BENCH_BIG_ONLY || process.env.BENCH_BIG_ONLY.split(",").includes(`${scenario.backend}-${scenario.recipients}`));
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    const name = describe(scenario);
    try {
      const outcome = await runScenario(ctx, scenario);
      figures[name] = outcome;
      const peak = outcome.atPeak;
      const embedded50k = scenario.backend === "pglite" && scenario.recipients === 50_000;
      rows.push({
        section: SECTION,
        label: `${name}: first message after scheduledAt`,
        ours: `+${ms(outcome.lateMs)} (recipients made ahead in ${ms(outcome.preparedAheadMs)}${outcome.importMs !== null ? `; import ${ms(outcome.importMs)}` : ""})`,
        baseline: scenario.recipients === 50_000 && scenario.backend === "pglite" ? BEFORE : "—",
        target: scenario.recipients === 50_000 ? "< 1 s" : "—",
        met: scenario.recipients === 50_000 ? outcome.lateMs < 1_000 : null,
      });
      rows.push({
        section: SECTION,
        label: `${name}: peak RSS of the server${scenario.sendAll ? " through the import and the whole campaign" : " through the making ahead and 10 s of sending"}`,
        ours: `${mb(outcome.peakRssBytes)} (idle ${mb(outcome.idleRssBytes)}${peak ? `; at the peak: JS heap used ${mb(peak.heapUsed)}, external ${mb(peak.external)} (PGlite's WebAssembly memory as reserved; RSS holds only the pages it touched), ArrayBuffers ${mb(peak.arrayBuffers)}` : ""}); sent ${int(outcome.sent)}${outcome.sendMs !== null ? ` in ${ms(outcome.sendMs)}` : ""}`,
        baseline: embedded50k ? BEFORE : "—",
        target: embedded50k ? "< 400 MB" : "—",
        met: embedded50k ? outcome.peakRssBytes < 400 * 1024 * 1024 : null,
      });
    } catch (error) {
      rows.push({ section: SECTION, label: name, ours: errorCell(error), baseline: "—", target: "—", met: null });
    }
  }
  return { rows, figures };
}
