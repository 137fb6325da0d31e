/**
 * 4. API latency on PostgreSQL with 10,000 campaigns and 1,000,000 recipient rows (seeded with
 * generate_series): p50 / p95 of the campaign list (first page, with counts) and of the campaign
 * detail (with counts), through the HTTP server (tRPC GET with a session cookie, as the dashboard
 * calls it; REST v1 with an API key too when it answers). The server runs in a child process built
 * by createAppServices + createHttpServer (no Next pages: they do not serve these routes).
 */
import path from "node:path";
import { sql } from "drizzle-orm";
import { forkTask } from "./lib/children";
import { emit, stopRequested } from "./lib/childRuntime";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { checkpoint, connectClient, createBenchDatabase } from "./lib/pg";
import { seedApi } from "./lib/seed";
import { summarize } from "./lib/stats";
import { type Row, int, ms } from "./lib/table";

const SECTION = "4. API latency (PostgreSQL)";
const CAMPAIGNS = 10_000;
/** One more campaign of this size: its detail must stay fast (issue 11: p95 < 20 ms). */
const MILLION = 1_000_000;

interface ServerArgs {
  databaseUrl: string;
  wahaUrl: string;
  dataDir: string;
}

/** Child: the app's services and HTTP server on a random port, until the parent says stop. */
export async function apiServerChild(args: ServerArgs): Promise<{ rssBytes: number }> {
  const { parseEnv } = await import("~/env");
  const { createAppServices } = await import("~/server/app");
  const { createHttpServer } = await import("~/server/http/server");
  const config = parseEnv({
    DATABASE_URL: args.databaseUrl,
    WAHA_URL: args.wahaUrl,
    WAHA_WEBHOOK_SECRET: "bench-webhook-secret-0123456789",
    DATA_DIR: args.dataDir,
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
  });
  const services = await createAppServices(config);
  await services.scheduler.initialize();
  const server = createHttpServer(services, null);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  emit("ready", { port: typeof address === "object" && address ? address.port : 0 });
  await stopRequested;
  const rssBytes = process.memoryUsage().rss;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await services.close();
  return { rssBytes };
}

async function timeRequests(url: string, headers: Record<string, string>, samples: number, check: (body: unknown) => void): Promise<number[]> {
  const once = async () => {
    const started = performance.now();
    const response = await fetch(url, { headers });
    const text = await response.text();
    const elapsed = performance.now() - started;
    if (!response.ok) throw new Error(`GET ${url.replace(/\?.*/, "")}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return { elapsed, text };
  };
  check(JSON.parse((await once()).text));
  for (let i = 0; i < 20; i++) await once(); // warm-up: JIT, connection pool, plan cache
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push((await once()).elapsed);
  return times;
}

const trpcUrl = (base: string, procedure: string, input: unknown) =>
  `${base}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;

function expectCounts(body: unknown, path: string[]): void {
  let value: unknown = body;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  const item = Array.isArray(value) ? value[0] : value;
  if (!item || typeof item !== "object" || !("counts" in item)) throw new Error(`answer has no counts at ${path.join(".")}: ${JSON.stringify(body).slice(0, 200)}`);
}

async function explain(url: string, query: string, params: unknown[]): Promise<{ executionMs: number; plan: string }> {
  const client = await connectClient(url);
  try {
    const { rows } = await client.query<{ "QUERY PLAN": string }>(`explain (analyze, buffers) ${query}`, params);
    const plan = rows.map((row) => row["QUERY PLAN"]).join("\n");
    return { executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? Number.NaN), plan };
  } finally {
    await client.end();
  }
}

export async function measureApiLatency(ctx: BenchContext): Promise<MeasurementResult> {
  const recipients = ctx.quick ? 100_000 : 1_000_000;
  const samples = ctx.quick ? 100 : 300;
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { campaigns: CAMPAIGNS, recipients, samples };
  const sizeNote = `${int(CAMPAIGNS)} campaigns, ${int(recipients)} recipients`;

  let bench: Awaited<ReturnType<typeof createBenchDatabase>> | null = null;
  try {
    bench = await createBenchDatabase("api");
    const { openDatabase } = await import("~/server/db/client");
    const { createApiKey, createUser, logIn } = await import("~/server/services/auth");
    const database = await openDatabase({ databaseUrl: bench.url, maxConnections: 2 });
    let seed: Awaited<ReturnType<typeof seedApi>>;
    let token: string;
    let apiKey: string;
    try {
      const credentials = { email: "bench@example.com", password: "correct horse battery staple" };
      const user = await createUser(database.db, credentials);
      token = (await logIn(database.db, credentials)).token;
      apiKey = (await createApiKey(database.db, { workspaceId: user.workspaceId, userId: user.id, name: "bench" })).key;
      ctx.progress(`api: seeding ${sizeNote}`);
      const seedStarted = performance.now();
      seed = await seedApi(database.db, { workspaceId: user.workspaceId, campaigns: CAMPAIGNS, recipients, millionRecipients: MILLION });
      // Fresh statistics and visibility map, as autovacuum would have them on a live database.
      await database.db.execute(sql`vacuum analyze`);
      figures.seedMs = performance.now() - seedStarted;
      await checkpoint();
    } finally {
      await database.close();
    }

    const server = forkTask<{ rssBytes: number }>(
      "api-server",
      { databaseUrl: bench.url, wahaUrl: ctx.fakeWaha.url, dataDir: ctx.tempDir("api") } satisfies ServerArgs,
      { logFile: path.join(ctx.logDir, "api-server.log"), timeoutMs: 10 * 60_000, env: { LOG_LEVEL: "warn", NODE_ENV: "production" } },
    );
    try {
      const { port } = await server.event<{ port: number }>("ready", 120_000);
      const base = `http://127.0.0.1:${port}`;
      const cookie = { cookie: `wc_session=${encodeURIComponent(token)}` };
      const cases: Array<{ key: string; label: string; url: string; headers: Record<string, string>; path: string[]; targetMs?: number }> = [
        {
          key: "trpc_list",
          label: "campaign list, first page of 50, with counts · tRPC",
          url: trpcUrl(base, "campaign.list", { limit: 50 }),
          headers: cookie,
          path: ["result", "data", "json", "items"],
        },
        {
          key: "trpc_detail_typical",
          label: `campaign detail with counts (${int(seed.typicalRecipients)} recipients) · tRPC`,
          url: trpcUrl(base, "campaign.get", { id: seed.typicalCampaignId }),
          headers: cookie,
          path: ["result", "data", "json"],
        },
        {
          key: "trpc_detail_large",
          label: `campaign detail with counts (${int(seed.largeRecipients)} recipients) · tRPC`,
          url: trpcUrl(base, "campaign.get", { id: seed.largeCampaignId }),
          headers: cookie,
          path: ["result", "data", "json"],
        },
        {
          key: "trpc_detail_million",
          label: `campaign detail with counts (${int(MILLION)} recipients in one campaign) · tRPC`,
          url: trpcUrl(base, "campaign.get", { id: seed.millionCampaignId }),
          headers: cookie,
          path: ["result", "data", "json"],
          targetMs: 20,
        },
      ];
      // REST v1, when it has landed.
      const bearer = { authorization: `Bearer ${apiKey}` };
      const restProbe = await fetch(`${base}/api/v1/campaigns/${seed.typicalCampaignId}`, { headers: bearer }).catch(() => null);
      if (restProbe?.ok) {
        cases.push(
          { key: "rest_list", label: "campaign list, first page of 50 · REST v1", url: `${base}/api/v1/campaigns?limit=50`, headers: bearer, path: ["items"] },
          {
            key: "rest_detail_large",
            label: `campaign detail (${int(seed.largeRecipients)} recipients) · REST v1`,
            url: `${base}/api/v1/campaigns/${seed.largeCampaignId}`,
            headers: bearer,
            path: [],
          },
        );
      }
      await restProbe?.arrayBuffer().catch(() => undefined);

      for (const test of cases) {
        ctx.progress(`api: ${test.label}`);
        try {
          const times = await timeRequests(test.url, test.headers, samples, (body) => expectCounts(body, test.path));
          const summary = summarize(times);
          figures[test.key] = summary;
          const targetMs = test.targetMs ?? 50;
          rows.push({
            section: SECTION,
            label: `${test.label} (${sizeNote})`,
            ours: `p50 ${ms(summary.p50)} · p95 ${ms(summary.p95)}`,
            baseline: "—",
            target: `p95 < ${targetMs} ms`,
            met: summary.p95 < targetMs,
          });
        } catch (error) {
          rows.push({ section: SECTION, label: `${test.label} (${sizeNote})`, ours: errorCell(error), baseline: "—", target: `p95 < ${test.targetMs ?? 50} ms`, met: null });
        }
      }
      server.requestStop();
      figures.serverRssBytes = (await server.result).rssBytes;
    } finally {
      await server.kill();
    }

    // The counts lookup as campaignProgress() sends it, and what counting the rows would cost, for the notes.
    const client = await connectClient(bench.url);
    let firstPage: string[];
    try {
      firstPage = (await client.query<{ id: string }>("select id from campaigns order by created_at desc, id desc limit 50")).rows.map((row) => row.id);
    } finally {
      await client.end();
    }
    const countsSql = (ids: string[]) =>
      `select campaign_id, status, n from campaign_recipient_counts where campaign_id in (${ids.map((_, i) => `$${i + 1}`).join(", ")})`;
    figures.explainListCounts = await explain(bench.url, countsSql(firstPage), firstPage);
    figures.explainLargeCounts = await explain(bench.url, countsSql([seed.largeCampaignId]), [seed.largeCampaignId]);
    if (seed.millionCampaignId) {
      const rowCount = await explain(bench.url, "select status, count(*) from campaign_recipients where campaign_id = $1 group by status", [seed.millionCampaignId]);
      figures.explainMillionRowCount = rowCount;
      rows.push({
        section: SECTION,
        label: `the same counts by counting that campaign's ${int(MILLION)} rows (before campaign_recipient_counts), one query`,
        ours: ms(rowCount.executionMs),
        baseline: "—",
        target: "—",
        met: null,
      });
    }
  } catch (error) {
    rows.push({ section: SECTION, label: `campaign list and detail (${sizeNote})`, ours: errorCell(error), baseline: "—", target: "p95 < 50 ms", met: null });
  } finally {
    await bench?.drop();
  }
  return { rows, figures };
}
