/**
 * 8. The send-time opt-out check's cost per message (issue 14). `wc_send_step` (migration 0008)
 * reads the taken recipient's contact (`opted_out`) in the UPDATE that takes it. Measured in
 * isolation, the send step alone in a loop (no WAHA, no runner: settle the previous recipient as
 * sent, keep the slot, take the next), on one database, alternating rounds of the function with
 * the check and of migration 0005's (without it, installed over it for those rounds), so that the
 * machine's drift hits both. A third run has 10% of the contacts opted out after the recipients
 * were created: each is skipped inside the same call that then takes the next recipient.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { forkTask, REPO_ROOT } from "./lib/children";
import { openBenchDatabase, type OpenArgs } from "./lib/db";
import { createBenchDatabase } from "./lib/pg";
import { createWorkspace } from "./lib/seed";
import { StatementCounter, countPglite, countPostgres } from "./lib/statements";
import { type Row, int, ms } from "./lib/table";

const SECTION = "8. Send-time opt-out check";

interface OptOutArgs extends OpenArgs {
  count: number;
  rounds: number;
}

interface LoopOutcome {
  msPerMessage: number;
  statementsPerMessage: number;
  sent: number;
  skipped: number;
}

export interface OptOutOutcome {
  withCheck: LoopOutcome[];
  withoutCheck: LoopOutcome[];
  tenPercentOptedOut: LoopOutcome;
}

/** Migration 0005's wc_send_step (no opt-out check), to install over 0008's for the comparison rounds. */
function functionOf0005(): string {
  const text = readFileSync(path.join(REPO_ROOT, "src/server/db/migrations/0005_send_limits.sql"), "utf8");
  return text.slice(text.indexOf("CREATE OR REPLACE FUNCTION wc_send_step("));
}

function functionOf0008(): string {
  const text = readFileSync(path.join(REPO_ROOT, "src/server/db/migrations/0008_opt_out_send_check.sql"), "utf8");
  return text.slice(text.indexOf("CREATE OR REPLACE FUNCTION wc_send_step("));
}

/** Child: seed one Running campaign of `count` recipients, then time the send step's loop. */
export async function optOutCheckChild(args: OptOutArgs): Promise<OptOutOutcome> {
  const { migrateDatabase, queryRows } = await import("~/server/db/client");
  const { sendStep } = await import("~/server/services/runner/sendSlot");
  const { sql } = await import("drizzle-orm");
  const database = await openBenchDatabase(args);
  const db = database.db;
  try {
    await migrateDatabase(database);
    const workspaceId = await createWorkspace(db, "bench opt-out");
    const [session] = await queryRows<{ id: string }>(db, sql`
      insert into whatsapp_sessions (workspace_id, name, waha_session_name, status)
      values (${workspaceId}::uuid, 'Number', 'bench-optout', 'WORKING') returning id::text as id`);
    const [campaign] = await queryRows<{ id: string }>(db, sql`
      insert into campaigns (workspace_id, name, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms, lease_holder, lease_expires_at)
      values (${workspaceId}::uuid, 'Opt-out bench', 'Hello', ${session!.id}::uuid, now(), 'Running', 0, 0, 'bench', now() + interval '1 day')
      returning id::text as id`);
    await db.execute(sql`
      insert into contacts (workspace_id, phone) select ${workspaceId}::uuid, '+1555' || lpad(i::text, 7, '0') from generate_series(1, ${args.count}::int) i`);
    await db.execute(sql`
      insert into campaign_recipients (campaign_id, contact_id, position, phone, chat_id, rendered_text)
      select ${campaign!.id}::uuid, c.id, row_number() over (order by c.phone), c.phone, substr(c.phone, 2) || '@c.us', 'Hello'
        from contacts c where c.workspace_id = ${workspaceId}::uuid`);
    await db.execute(sql`analyze`);
    const key = { campaignId: campaign!.id, sessionId: session!.id, holder: "bench", slotHolder: `bench|${campaign!.id}`, slotTtlMs: 60_000 };

    const reset = async (optedOutShare: number) => {
      await db.execute(sql`update campaign_recipients set status = 'pending', waha_message_id = null, sent_at = null, sending_started_at = null,
        attempts = 0, skip_reason = null, last_error = null where campaign_id = ${campaign!.id}::uuid`);
      await db.execute(sql`update whatsapp_sessions set send_slot_holder = null, send_slot_expires_at = null, next_send_at = null,
        sent_day_count = 0, sent_hour_count = 0 where id = ${session!.id}::uuid`);
      await db.execute(sql`update contacts set opted_out = (right(phone, 2)::int < ${Math.round(optedOutShare * 100)}) where workspace_id = ${workspaceId}::uuid`);
      await db.execute(sql`vacuum analyze campaign_recipients`).catch(() => undefined);
    };
    const loop = async (): Promise<LoopOutcome> => {
      const counter = new StatementCounter();
      const uncount = database.pglite ? countPglite(database.pglite, counter) : countPostgres(counter);
      let previous: { id: string; attempts: number } | null = null;
      let sent = 0;
      const started = performance.now();
      for (let i = 0; ; i++) {
        const step = await sendStep(db, key, {
          settle: previous ? { recipient: previous, outcome: { status: "sent", wahaMessageId: `true_x_M${i}` } } : null,
          release: previous ? { nextDelayMs: 0 } : null,
          take: "recipient",
          messageId: `M${i}`,
        });
        if (!step.recipient) break;
        previous = { id: step.recipient.id, attempts: step.recipient.attempts };
        sent++;
      }
      const elapsed = performance.now() - started;
      uncount();
      const [skipped] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from campaign_recipients where campaign_id = ${campaign!.id}::uuid and status = 'skipped'`);
      return { msPerMessage: elapsed / Math.max(1, sent), statementsPerMessage: counter.total / Math.max(1, sent), sent, skipped: Number(skipped?.n ?? 0) };
    };

    const withCheck: LoopOutcome[] = [];
    const withoutCheck: LoopOutcome[] = [];
    for (let round = 0; round < args.rounds; round++) {
      await db.execute(sql.raw(functionOf0008()));
      await reset(0);
      withCheck.push(await loop());
      await db.execute(sql.raw(functionOf0005()));
      await reset(0);
      withoutCheck.push(await loop());
    }
    await db.execute(sql.raw(functionOf0008()));
    await reset(0.1);
    const tenPercentOptedOut = await loop();
    return { withCheck, withoutCheck, tenPercentOptedOut };
  } finally {
    await database.close();
  }
}

const best = (outcomes: LoopOutcome[]) => outcomes.reduce((a, b) => (b.msPerMessage < a.msPerMessage ? b : a));

export async function measureOptOutCheckCost(ctx: BenchContext): Promise<MeasurementResult> {
  const count = ctx.quick ? 3_000 : 20_000;
  const rounds = ctx.quick ? 2 : 3;
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { count, rounds };
  for (const backend of ["pglite", "postgres"] as const) {
    const name = backend === "pglite" ? "PGlite" : "PostgreSQL";
    const label = `send step alone, 1 campaign × ${int(count)}, with vs without the check · ${name}`;
    const bench = backend === "postgres" ? await createBenchDatabase("optout").catch(() => null) : null;
    try {
      if (backend === "postgres" && !bench) throw new Error("no PostgreSQL");
      ctx.progress(`opt-out check: ${rounds} rounds each way · ${name}`);
      const outcome = await forkTask<OptOutOutcome>(
        "optout-check",
        {
          backend,
          databaseUrl: bench?.url ?? null,
          dataDir: backend === "pglite" ? await ctx.pgliteDataDir(`optout-${backend}`) : ctx.tempDir(`optout-${backend}`),
          count,
          rounds,
        } satisfies OptOutArgs,
        { logFile: path.join(ctx.logDir, `optout-${backend}.log`), timeoutMs: 10 * 60_000, env: { LOG_LEVEL: "warn", NODE_ENV: "production" } },
      ).result;
      figures[backend] = outcome;
      const on = best(outcome.withCheck);
      const off = best(outcome.withoutCheck);
      const skipRun = outcome.tenPercentOptedOut;
      rows.push(
        {
          section: SECTION,
          label,
          ours: `${ms(on.msPerMessage)}/msg · ${on.statementsPerMessage.toFixed(2)} statements/msg`,
          baseline: `0005's function: ${ms(off.msPerMessage)}/msg · ${off.statementsPerMessage.toFixed(2)} statements/msg`,
          target: "—",
          met: null,
        },
        {
          section: SECTION,
          label: `the check's cost per message · ${name}`,
          ours: `${on.msPerMessage - off.msPerMessage >= 0 ? "+" : ""}${ms(on.msPerMessage - off.msPerMessage)}, +${(on.statementsPerMessage - off.statementsPerMessage).toFixed(2)} statements (best of ${rounds} rounds each)`,
          baseline: "—",
          target: "—",
          met: null,
        },
        {
          section: SECTION,
          label: `10% of contacts opted out after materialising · ${name}`,
          ours: `${int(skipRun.skipped)} skipped (opted_out), ${int(skipRun.sent)} sent · ${ms(skipRun.msPerMessage)}/sent msg · ${skipRun.statementsPerMessage.toFixed(2)} statements/sent msg`,
          baseline: "—",
          target: "—",
          met: null,
        },
      );
    } catch (error) {
      rows.push({ section: SECTION, label, ours: errorCell(error), baseline: "—", target: "—", met: null });
    } finally {
      await bench?.drop();
    }
  }
  return { rows, figures };
}
