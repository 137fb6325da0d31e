/**
 * 9. Outgoing webhooks (issue 14). Two figures, on one database per backend:
 * - the hot path's cost of the outbox trigger (migration 0009): the send step alone in a loop (as in
 *   section 8), alternating rounds with the trigger dropped (baseline), with the trigger and no
 *   endpoint anywhere (one EXISTS per statement), and with an endpoint subscribed to `recipient.sent`
 *   (one outbox row written per message);
 * - the deliverer's throughput: N events in the outbox, one process's deliverer (default concurrency 4)
 *   posting them signed to a receiver on loopback that answers 200 at once, until all are recorded.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { forkTask } from "./lib/children";
import { openBenchDatabase, type OpenArgs } from "./lib/db";
import { createBenchDatabase } from "./lib/pg";
import { createWorkspace } from "./lib/seed";
import { StatementCounter, countPglite, countPostgres } from "./lib/statements";
import { type Row, int, ms } from "./lib/table";

const SECTION = "9. Outgoing webhooks";

interface OutboxArgs extends OpenArgs {
  count: number;
  rounds: number;
  events: number;
}

interface LoopOutcome {
  msPerMessage: number;
  statementsPerMessage: number;
  sent: number;
  outboxRows: number;
}

export interface OutboxOutcome {
  noTrigger: LoopOutcome[];
  noEndpoint: LoopOutcome[];
  withEndpoint: LoopOutcome[];
  delivery: { events: number; seconds: number; perSecond: number; received: number };
}

/** Child: seed one Running campaign of `count` recipients, time the send step's loop three ways, then the deliverer. */
export async function outboxChild(args: OutboxArgs): Promise<OutboxOutcome> {
  const { migrateDatabase, queryRows } = await import("~/server/db/client");
  const { sendStep } = await import("~/server/services/runner/sendSlot");
  const { WebhookDeliverer } = await import("~/server/services/outgoingWebhooks/deliverer");
  const { default: pino } = await import("pino");
  const { sql } = await import("drizzle-orm");
  const database = await openBenchDatabase(args);
  const db = database.db;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(200).end();
    });
  });
  let received = 0;
  try {
    await migrateDatabase(database);
    const workspaceId = await createWorkspace(db, "bench outbox");
    const [session] = await queryRows<{ id: string }>(db, sql`
      insert into whatsapp_sessions (workspace_id, name, waha_session_name, status)
      values (${workspaceId}::uuid, 'Number', 'bench-outbox', 'WORKING') returning id::text as id`);
    const [campaign] = await queryRows<{ id: string }>(db, sql`
      insert into campaigns (workspace_id, name, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms, lease_holder, lease_expires_at)
      values (${workspaceId}::uuid, 'Outbox bench', 'Hello', ${session!.id}::uuid, now(), 'Running', 0, 0, 'bench', now() + interval '1 day')
      returning id::text as id`);
    await db.execute(sql`
      insert into contacts (workspace_id, phone) select ${workspaceId}::uuid, '+1555' || lpad(i::text, 7, '0') from generate_series(1, ${args.count}::int) i`);
    await db.execute(sql`
      insert into campaign_recipients (campaign_id, contact_id, position, phone, chat_id, rendered_text)
      select ${campaign!.id}::uuid, c.id, row_number() over (order by c.phone), c.phone, substr(c.phone, 2) || '@c.us', 'Hello'
        from contacts c where c.workspace_id = ${workspaceId}::uuid`);
    await db.execute(sql`analyze`);
    const key = { campaignId: campaign!.id, sessionId: session!.id, holder: "bench", slotHolder: `bench|${campaign!.id}`, slotTtlMs: 60_000 };

    const reset = async () => {
      await db.execute(sql`delete from webhook_outbox`);
      await db.execute(sql`update campaign_recipients set status = 'pending', waha_message_id = null, sent_at = null, sending_started_at = null,
        attempts = 0, skip_reason = null, last_error = null where campaign_id = ${campaign!.id}::uuid`);
      await db.execute(sql`update whatsapp_sessions set send_slot_holder = null, send_slot_expires_at = null, next_send_at = null,
        sent_day_count = 0, sent_hour_count = 0 where id = ${session!.id}::uuid`);
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
      const [rows] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from webhook_outbox`);
      return { msPerMessage: elapsed / Math.max(1, sent), statementsPerMessage: counter.total / Math.max(1, sent), sent, outboxRows: Number(rows?.n ?? 0) };
    };

    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const noTrigger: LoopOutcome[] = [];
    const noEndpoint: LoopOutcome[] = [];
    const withEndpoint: LoopOutcome[] = [];
    for (let round = 0; round < args.rounds; round++) {
      await db.execute(sql`alter table campaign_recipients disable trigger campaign_recipients_updated`);
      await reset();
      noTrigger.push(await loop());
      await db.execute(sql`alter table campaign_recipients enable trigger campaign_recipients_updated`);
      await reset();
      noEndpoint.push(await loop());
      await db.execute(sql`insert into webhook_endpoints (workspace_id, url, events, secret) values (${workspaceId}::uuid, ${url}, array['recipient.sent'], 'bench-secret')`);
      await reset();
      withEndpoint.push(await loop());
      await db.execute(sql`delete from webhook_endpoints`);
    }

    // Delivery: `events` rows of one endpoint, spread over 50 campaigns (order holds per campaign).
    await db.execute(sql`delete from webhook_outbox`);
    const [endpoint] = await queryRows<{ id: string }>(db, sql`
      insert into webhook_endpoints (workspace_id, url, events, secret) values (${workspaceId}::uuid, ${url}, array['recipient.sent'], 'bench-secret') returning id::text as id`);
    await db.execute(sql`
      insert into webhook_outbox (endpoint_id, event_type, campaign_id, payload)
      select ${endpoint!.id}::uuid, 'recipient.sent', c.id, jsonb_build_object('seq', i, 'phone', '+15550000000')
        from generate_series(1, ${args.events}::int) i
        join (select gen_random_uuid() as id, row_number() over () as k from generate_series(1, 50)) c on c.k = 1 + i % 50
       order by i`);
    const deliverer = new WebhookDeliverer(db, pino({ level: "warn" }), { holderId: "bench", allowPrivate: true, pollMs: 20 });
    const started = performance.now();
    deliverer.start();
    for (;;) {
      const [left] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from webhook_outbox where delivered_at is null`);
      if (Number(left!.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    await deliverer.stop();
    return { noTrigger, noEndpoint, withEndpoint, delivery: { events: args.events, seconds, perSecond: args.events / seconds, received } };
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await database.close();
  }
}

const best = (outcomes: LoopOutcome[]) => outcomes.reduce((a, b) => (b.msPerMessage < a.msPerMessage ? b : a));
const delta = (a: LoopOutcome, b: LoopOutcome) =>
  `${a.msPerMessage - b.msPerMessage >= 0 ? "+" : ""}${ms(a.msPerMessage - b.msPerMessage)}/msg, ${a.statementsPerMessage - b.statementsPerMessage >= 0 ? "+" : ""}${(a.statementsPerMessage - b.statementsPerMessage).toFixed(2)} statements/msg`;

export async function measureOutboxThroughput(ctx: BenchContext): Promise<MeasurementResult> {
  const count = ctx.quick ? 2_000 : 10_000;
  const rounds = ctx.quick ? 2 : 3;
  const events = ctx.quick ? 2_000 : 10_000;
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { count, rounds, events };
  for (const backend of ["pglite", "postgres"] as const) {
    const name = backend === "pglite" ? "PGlite" : "PostgreSQL";
    const label = `send step alone, 1 campaign × ${int(count)}: the outbox trigger with no endpoint vs none · ${name}`;
    const bench = backend === "postgres" ? await createBenchDatabase("outbox").catch(() => null) : null;
    try {
      if (backend === "postgres" && !bench) throw new Error("no PostgreSQL");
      ctx.progress(`outbox: ${rounds} rounds × 3 ways, then ${int(events)} deliveries · ${name}`);
      const outcome = await forkTask<OutboxOutcome>(
        "outbox",
        {
          backend,
          databaseUrl: bench?.url ?? null,
          dataDir: backend === "pglite" ? await ctx.pgliteDataDir(`outbox-${backend}`) : ctx.tempDir(`outbox-${backend}`),
          count,
          rounds,
          events,
        } satisfies OutboxArgs,
        { logFile: path.join(ctx.logDir, `outbox-${backend}.log`), timeoutMs: 10 * 60_000, env: { LOG_LEVEL: "warn", NODE_ENV: "production" } },
      ).result;
      figures[backend] = outcome;
      const off = best(outcome.noTrigger);
      const idle = best(outcome.noEndpoint);
      const busy = best(outcome.withEndpoint);
      rows.push(
        {
          section: SECTION,
          label,
          ours: `${ms(idle.msPerMessage)}/msg · ${idle.statementsPerMessage.toFixed(2)} statements/msg (${delta(idle, off)})`,
          baseline: `trigger dropped: ${ms(off.msPerMessage)}/msg · ${off.statementsPerMessage.toFixed(2)} statements/msg`,
          target: "+0 statements/msg",
          met: idle.statementsPerMessage - off.statementsPerMessage < 0.005,
        },
        {
          section: SECTION,
          label: `same, with an endpoint subscribed to recipient.sent (an outbox row per message) · ${name}`,
          ours: `${ms(busy.msPerMessage)}/msg (${delta(busy, off)}) · ${int(busy.outboxRows)} outbox rows for ${int(busy.sent)} sent`,
          baseline: "—",
          target: "—",
          met: null,
        },
        {
          section: SECTION,
          label: `outbox throughput: ${int(events)} events over 50 campaigns to a loopback receiver, 1 process, concurrency 4 · ${name}`,
          ours: `${int(Math.round(outcome.delivery.perSecond))} events/s (${outcome.delivery.seconds.toFixed(1)} s, ${int(outcome.delivery.received)} POSTs)`,
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
