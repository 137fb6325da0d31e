/**
 * 3. Sending overhead: campaigns with delay 0 against the fake WAHA (its own process, no latency),
 * sent by CampaignRunnerService.runCampaign as the scheduler calls it, in a fresh child process.
 * Messages per second and database statements per message (counted at the driver). Beside it, the
 * physical limit for one WhatsApp number: the same `sendText` call through the same WAHA client,
 * sequential (one in flight), with no database at all.
 */
import path from "node:path";
import { openBenchDatabase } from "./lib/db";
import { forkTask } from "./lib/children";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { createBenchDatabase } from "./lib/pg";
import { seedSending } from "./lib/seed";
import { StatementCounter, countPglite, countPostgres } from "./lib/statements";
import { type Row, int, ms, pct, rate } from "./lib/table";
import type { WahaApiClient } from "~/server/services/waha/client";

const SECTION = "3. Sending overhead";

interface RawArgs {
  wahaUrl: string;
  session: string;
  count: number;
}

export interface RawOutcome {
  count: number;
  /** Through the app's WahaApiClient (fetch): the same call the runner makes. */
  clientPerSecond: number;
  /** Bare node:http with a keep-alive agent: what the transport itself allows. */
  bareHttpPerSecond: number;
}

/** Child: `count` sequential sendText calls, no database, through the app's client and through bare node:http. */
export async function rawHttpChild(args: RawArgs): Promise<RawOutcome> {
  const { WahaApiClient } = await import("~/server/services/waha/client");
  const http = await import("node:http");
  const client = new WahaApiClient({ baseUrl: args.wahaUrl });
  const body = (i: number) => ({ session: args.session, chatId: `${12000000000 + i}@c.us`, text: `Hello Contact${i}, this is a benchmark message.` });
  const viaClient = (i: number) => client.sendText(body(i));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(`${args.wahaUrl}/api/sendText`);
  const viaHttp = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const payload = JSON.stringify(body(i));
      const request = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            if (response.statusCode !== 201) return reject(new Error(`sendText: HTTP ${response.statusCode}`));
            JSON.parse(Buffer.concat(chunks).toString("utf8"));
            resolve();
          });
        },
      );
      request.on("error", reject);
      request.end(payload);
    });
  const perSecond = async (send: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await send(i); // warm-up: connection, JIT
    const started = performance.now();
    for (let i = 0; i < args.count; i++) await send(i);
    return (args.count / (performance.now() - started)) * 1000;
  };
  const clientPerSecond = await perSecond(viaClient);
  const bareHttpPerSecond = await perSecond(viaHttp);
  agent.destroy();
  return { count: args.count, clientPerSecond, bareHttpPerSecond };
}

interface SendingArgs {
  backend: "pglite" | "postgres";
  databaseUrl: string | null;
  dataDir: string;
  wahaUrl: string;
  sessions: number;
  recipientsPerCampaign: number;
  sessionPrefix: string;
  /** WAHA replaced by an in-process stub answering at once: what the runner and the database cost alone. */
  stubWaha?: boolean;
  /** The numbers' safe-sending policy (issue 13; bench/safeSendingCost.ts); absent: the neutral column defaults. */
  policy?: { typing: boolean; checkExists: boolean; dailyLimit: number | null; hourlyLimit: number | null };
}

export interface SendingOutcome {
  messages: number;
  sent: number;
  otherStatuses: Record<string, number>;
  campaignStatuses: Record<string, number>;
  /** runCampaign() from call to return, all campaigns. */
  elapsedMs: number;
  /** First to last sent_at: the steady sending phase, without claim and recipient creation. */
  sendPhaseMs: number;
  statements: number;
  topStatements: Array<{ shape: string; count: number }>;
}

/** Child: seed, then run every campaign at once (one runner per campaign, as the scheduler does). */
export async function sendingChild(args: SendingArgs): Promise<SendingOutcome> {
  const { migrateDatabase, queryRows } = await import("~/server/db/client");
  const { CampaignRunnerService } = await import("~/server/services/runner/campaignRunner");
  const { WahaApiClient } = await import("~/server/services/waha/client");
  const { sql } = await import("drizzle-orm");
  const database = await openBenchDatabase(args);
  try {
    await migrateDatabase(database);
    const { campaignIds } = await seedSending(database.db, args);
    if (args.policy) {
      const policy = args.policy;
      await database.db.execute(sql`update whatsapp_sessions set typing = ${policy.typing}, check_exists = ${policy.checkExists},
        daily_limit = ${policy.dailyLimit}::int, hourly_limit = ${policy.hourlyLimit}::int`);
    }
    const waha = args.stubWaha ? stubWahaClient(WahaApiClient) : new WahaApiClient({ baseUrl: args.wahaUrl });
    const counter = new StatementCounter();
    const uncount = database.pglite ? countPglite(database.pglite, counter) : countPostgres(counter);
    const started = performance.now();
    await Promise.all(
      campaignIds.map((id) => new CampaignRunnerService(database.db, waha, { mediaDir: path.join(args.dataDir, "media") }).runCampaign(id)),
    );
    const elapsedMs = performance.now() - started;
    uncount();
    const statuses = await queryRows<{ status: string; n: number }>(
      database.db,
      sql`select status::text as status, count(*)::int as n from campaign_recipients group by status`,
    );
    const campaignStatuses = await queryRows<{ status: string; n: number }>(
      database.db,
      sql`select status::text as status, count(*)::int as n from campaigns group by status`,
    );
    const [phase] = await queryRows<{ ms: number }>(
      database.db,
      sql`select (extract(epoch from max(sent_at) - min(sent_at)) * 1000)::float8 as ms from campaign_recipients where status = 'sent'`,
    );
    const byStatus = Object.fromEntries(statuses.map((row) => [row.status, Number(row.n)]));
    const sent = byStatus.sent ?? 0;
    delete byStatus.sent;
    return {
      messages: args.sessions * args.recipientsPerCampaign,
      sent,
      otherStatuses: byStatus,
      campaignStatuses: Object.fromEntries(campaignStatuses.map((row) => [row.status, Number(row.n)])),
      elapsedMs,
      sendPhaseMs: Number(phase?.ms ?? 0),
      statements: counter.total,
      topStatements: counter.top(),
    };
  } finally {
    await database.close();
  }
}

/** The calls the send loop makes, answered in-process at once (no HTTP, no fake WAHA). */
function stubWahaClient(Client: typeof WahaApiClient): WahaApiClient {
  let next = 0;
  const newId = () => `STUB${(next++).toString(16).padStart(12, "0").toUpperCase()}`;
  class StubWahaClient extends Client {
    override async newMessageId(): Promise<string> {
      return newId();
    }
    override async getSession(session: string) {
      return { name: session, status: "WORKING" as const };
    }
    override async sendText(input: { session: string; chatId: string; text: string; messageId?: string }) {
      return { messageId: `true_${input.chatId}_${input.messageId ?? newId()}` };
    }
  }
  return new StubWahaClient({ baseUrl: "http://127.0.0.1:9" });
}

export async function runSending(
  ctx: BenchContext,
  backend: "pglite" | "postgres",
  sessions: number,
  perCampaign: number,
  stubWaha = false,
  policy?: SendingArgs["policy"],
): Promise<SendingOutcome> {
  const bench = backend === "postgres" ? await createBenchDatabase("sending") : null;
  try {
    await ctx.fakeWaha.reset();
    const sessionPrefix = `bench-send-${backend}-${sessions}-`;
    await ctx.fakeWaha.setWorking(Array.from({ length: sessions }, (_, i) => `${sessionPrefix}${i + 1}`));
    return await forkTask<SendingOutcome>(
      "sending-run",
      {
        backend,
        databaseUrl: bench?.url ?? null,
        dataDir: backend === "pglite" ? await ctx.pgliteDataDir(`sending-${backend}`) : ctx.tempDir(`sending-${backend}`),
        wahaUrl: ctx.fakeWaha.url,
        sessions,
        recipientsPerCampaign: perCampaign,
        sessionPrefix,
        stubWaha,
        ...(policy ? { policy } : {}),
      } satisfies SendingArgs,
      { logFile: path.join(ctx.logDir, `sending-${backend}-${sessions}x${perCampaign}${stubWaha ? "-stub" : ""}${policy ? "-policy" : ""}.log`), timeoutMs: 10 * 60_000, env: { LOG_LEVEL: "warn", NODE_ENV: "production" } },
    ).result;
  } finally {
    await bench?.drop();
  }
}

function describe(outcome: SendingOutcome): { perSecond: number; steady: number; perMessage: number; problems: string } {
  const perSecond = (outcome.sent / outcome.elapsedMs) * 1000;
  const steady = outcome.sendPhaseMs > 0 ? ((outcome.sent - 1) / outcome.sendPhaseMs) * 1000 : perSecond;
  const perMessage = outcome.statements / Math.max(1, outcome.sent);
  const unsent = outcome.messages - outcome.sent;
  const problems = unsent > 0 ? ` · ${int(unsent)} not sent (${JSON.stringify(outcome.otherStatuses)}, campaigns ${JSON.stringify(outcome.campaignStatuses)})` : "";
  return { perSecond, steady, perMessage, problems };
}

export async function measureSendingOverhead(ctx: BenchContext): Promise<MeasurementResult> {
  const single = ctx.quick ? 3_000 : 20_000;
  const parallelEach = ctx.quick ? 150 : 1_000;
  const parallelSessions = 20;
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { single, parallelSessions, parallelEach };

  // The raw limit is measured again right before each run it is compared with: others' work on
  // this machine moves both, and a ratio of two figures taken minutes apart would mostly measure that.
  let rawCell = "n/a";
  const raws: RawOutcome[] = [];
  const measureRaw = async (): Promise<RawOutcome | null> => {
    ctx.progress(`sending: raw sendText, no DB (${int(single)})`);
    try {
      await ctx.fakeWaha.setWorking(["bench-raw"]);
      const raw = await forkTask<RawOutcome>("sending-raw", { wahaUrl: ctx.fakeWaha.url, session: "bench-raw", count: single } satisfies RawArgs, {
        logFile: path.join(ctx.logDir, "sending-raw.log"),
        timeoutMs: 5 * 60_000,
      }).result;
      raws.push(raw);
      rawCell = `raw sendText, no DB, 1 in flight, just before: ${rate(raw.clientPerSecond)} via WahaApiClient, ${rate(raw.bareHttpPerSecond)} via bare node:http`;
      return raw;
    } catch (error) {
      rawCell = errorCell(error);
      return null;
    }
  };
  figures.raw = raws;

  for (const backend of ["pglite", "postgres"] as const) {
    const name = backend === "pglite" ? "PGlite" : "PostgreSQL";
    const rateTarget = backend === "pglite" ? "≥ 1,000 msg/s and ≥ 25% of raw" : "≥ 25% of raw";
    const rawNow = await measureRaw();
    ctx.progress(`sending: 1 campaign × ${int(single)} · ${name}`);
    try {
      const outcome = await runSending(ctx, backend, 1, single);
      const { perSecond, steady, perMessage, problems } = describe(outcome);
      figures[`single_${backend}`] = { ...outcome, perSecond, steadyPerSecond: steady, statementsPerMessage: perMessage };
      const fraction = rawNow ? perSecond / rawNow.clientPerSecond : null;
      rows.push(
        {
          section: SECTION,
          label: `1 campaign × ${int(single)}, delay 0 · ${name}`,
          ours: `${rate(perSecond)} (steady ${rate(steady)})${fraction === null ? "" : ` = ${pct(fraction)} of raw (WahaApiClient)`}${problems}`,
          baseline: rawCell,
          target: rateTarget,
          met: fraction === null ? null : (backend === "postgres" || perSecond >= 1000) && fraction >= 0.25 && !problems,
        },
        {
          section: SECTION,
          label: `DB statements per message · ${name}`,
          ours: perMessage.toFixed(2),
          baseline: "—",
          target: "≤ 3",
          met: perMessage <= 3,
        },
      );
    } catch (error) {
      rows.push({ section: SECTION, label: `1 campaign × ${int(single)}, delay 0 · ${name}`, ours: errorCell(error), baseline: rawCell, target: rateTarget, met: null });
    }
  }

  // Where the time goes: the same run with WAHA answered in-process (no HTTP at all).
  for (const backend of ["pglite", "postgres"] as const) {
    const name = backend === "pglite" ? "PGlite" : "PostgreSQL";
    ctx.progress(`sending: 1 campaign × ${int(single)}, WAHA stubbed in-process · ${name}`);
    const label = `same, WAHA stubbed in-process (runner + DB alone) · ${name}`;
    try {
      const outcome = await runSending(ctx, backend, 1, single, true);
      const { perSecond, steady, perMessage, problems } = describe(outcome);
      figures[`stub_${backend}`] = { ...outcome, perSecond, steadyPerSecond: steady, statementsPerMessage: perMessage };
      rows.push({
        section: SECTION,
        label,
        ours: `${rate(perSecond)} (steady ${rate(steady)}) = ${ms(1000 / steady)} of runner + DB per message${problems}`,
        baseline: "—",
        target: "—",
        met: null,
      });
    } catch (error) {
      rows.push({ section: SECTION, label, ours: errorCell(error), baseline: "—", target: "—", met: null });
    }
  }

  for (const backend of ["pglite", "postgres"] as const) {
    const name = backend === "pglite" ? "PGlite" : "PostgreSQL";
    ctx.progress(`sending: ${parallelSessions} sessions × ${int(parallelEach)} in parallel · ${name}`);
    const label = `${parallelSessions} numbers × ${int(parallelEach)} in parallel · ${name}`;
    try {
      const outcome = await runSending(ctx, backend, parallelSessions, parallelEach);
      const { perSecond, steady, perMessage, problems } = describe(outcome);
      figures[`parallel_${backend}`] = { ...outcome, perSecond, steadyPerSecond: steady, statementsPerMessage: perMessage };
      rows.push({
        section: SECTION,
        label,
        ours: `${rate(perSecond)} (steady ${rate(steady)}) · ${perMessage.toFixed(2)} statements/msg${problems}`,
        baseline: raws.length ? `1 number's raw limit: ${rate(raws.at(-1)!.clientPerSecond)} (WahaApiClient)` : rawCell,
        target: "≤ 3 statements/msg",
        met: perMessage <= 3 && !problems,
      });
    } catch (error) {
      rows.push({ section: SECTION, label, ours: errorCell(error), baseline: rawCell, target: "≤ 3 statements/msg", met: null });
    }
  }
  return { rows, figures };
}
