/**
 * Delivers the outbox (one per process, started by the process entry, stopped by `close()`): claims due
 * rows under a lease (`locked_by`/`locked_until`, `for update skip locked`, so several processes share
 * the work and a crashed one's rows are taken again once its lease expires), POSTs each signed, and
 * records the answer. At least once: a crash between a receiver's 2xx and its record delivers that row
 * again, with the same event id. Per (endpoint, campaign) in order: a row waits while an earlier one is
 * undelivered (and not given up). Its own loop with bounded concurrency: a slow receiver never slows
 * sending.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import type { Logger } from "pino";
import { postWebhook, type PostOutcome } from "./post";
import { signWebhookBody } from "./signature";

export interface WebhookDelivererOptions {
  /** This process, as written to `locked_by`. */
  holderId: string;
  /** WEBHOOK_ALLOW_PRIVATE: deliver to loopback and private addresses. */
  allowPrivate: boolean;
  /** How often to look for due rows when there was nothing to do (default 1 s). */
  pollMs?: number;
  /** Deliveries in flight at once in this process (default 4). */
  concurrency?: number;
  /** A receiver's deadline (default 10 s). */
  timeoutMs?: number;
  /** How long a claimed row stays this process's (default: the deadline + 20 s); a crashed process's rows are taken again after it. */
  leaseMs?: number;
  /** First retry after about this long, doubling each time (default 10 s), up to `retryMaxMs` (default 1 h). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Stop retrying an event this old (default 24 h) or after this many attempts (default 40). */
  giveUpAfterMs?: number;
  maxAttempts?: number;
}

interface ClaimedRow {
  id: number;
  event_id: string;
  event_type: string;
  created_at: string;
  payload: unknown;
  attempts: number;
  url: string;
  secret: string;
  age_ms: number;
}

/** The body posted for a row: the same bytes at every attempt (the signature's timestamp changes). */
export function webhookBody(row: { event_id: string; event_type: string; created_at: string; payload: unknown }): string {
  return JSON.stringify({ id: row.event_id, type: row.event_type, createdAt: row.created_at, data: row.payload });
}

/** Exponential backoff with ±20 % jitter, so receivers coming back are not hit by every sender at once. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const plain = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(plain * (0.8 + 0.4 * random()));
}

export class WebhookDeliverer {
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly giveUpAfterMs: number;
  private readonly maxAttempts: number;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  /** Rows this process is delivering: never claimed again by it, even if a stalled record let the lease run out. */
  private readonly inFlightIds = new Set<number>();
  private wake: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly options: WebhookDelivererOptions,
  ) {
    this.pollMs = options.pollMs ?? 1_000;
    this.concurrency = options.concurrency ?? 4;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.leaseMs = options.leaseMs ?? this.timeoutMs + 20_000;
    this.retryBaseMs = options.retryBaseMs ?? 10_000;
    this.retryMaxMs = options.retryMaxMs ?? 3_600_000;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 24 * 3_600_000;
    this.maxAttempts = options.maxAttempts ?? 40;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming and waits for the deliveries in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      const room = this.concurrency - this.inFlight.size;
      if (room > 0) {
        try {
          const rows = await this.claim(room);
          claimed = rows.length;
          for (const row of rows) {
            this.inFlightIds.add(row.id);
            const delivery: Promise<void> = this.deliver(row)
              .catch((error: unknown) => this.log.error({ err: error, outboxId: row.id }, "recording a webhook delivery failed"))
              .finally(() => {
                this.inFlight.delete(delivery);
                this.inFlightIds.delete(row.id);
                this.wake?.();
              });
            this.inFlight.add(delivery);
          }
        } catch (error) {
          if (this.running) this.log.warn({ err: error }, "claiming webhook deliveries failed");
        }
      }
      // Full, or found nothing: wait for a delivery to finish or for the next poll.
      if (this.running && (claimed === 0 || this.inFlight.size >= this.concurrency)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
    await Promise.allSettled([...this.inFlight]);
  }

  /** Takes up to `limit` due rows whose campaign has no earlier undelivered row at the same endpoint. */
  async claim(limit: number): Promise<ClaimedRow[]> {
    const leaseMs = this.leaseMs;
    return queryRows<ClaimedRow>(this.db, sql`
      update webhook_outbox o
         set locked_by = ${this.options.holderId}, locked_until = now() + ${leaseMs}::float8 * interval '1 millisecond',
             attempts = o.attempts + 1
        from webhook_endpoints e
       where e.id = o.endpoint_id
         and e.disabled_at is null
         and o.id in (
           select c.id from webhook_outbox c
            where c.delivered_at is null and c.next_attempt_at <= now()
              and (c.locked_until is null or c.locked_until < now())
              and not (c.id = any(${`{${[...this.inFlightIds].join(",")}}`}::int8[]))
              and (c.campaign_id is null or not exists (
                    select 1 from webhook_outbox p
                     where p.endpoint_id = c.endpoint_id and p.campaign_id = c.campaign_id and p.id < c.id
                       and p.delivered_at is null and p.next_attempt_at <> 'infinity'))
            order by c.next_attempt_at, c.id
            limit ${limit}
            for update skip locked)
      returning o.id, o.event_id, o.event_type, o.payload, o.attempts, e.url, e.secret,
                to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
                (extract(epoch from now() - o.created_at) * 1000)::float8 as age_ms`);
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    const body = webhookBody(row);
    const timestamp = Math.floor(Date.now() / 1000);
    const outcome = await postWebhook(row.url, body, {
      "x-webhook-id": row.event_id,
      "x-webhook-event": row.event_type,
      "x-webhook-timestamp": String(timestamp),
      "x-webhook-signature": signWebhookBody(row.secret, timestamp, body),
    }, { timeoutMs: this.timeoutMs, allowPrivate: this.options.allowPrivate });
    await this.record(row, outcome);
  }

  private async record(row: ClaimedRow, outcome: PostOutcome): Promise<void> {
    if (outcome.ok) {
      await this.db.execute(sql`
        update webhook_outbox set delivered_at = now(), last_status = ${outcome.status}, last_error = null, locked_by = null, locked_until = null
         where id = ${row.id} and delivered_at is null`);
      return;
    }
    const error = outcome.error.slice(0, 500);
    const giveUp = row.attempts >= this.maxAttempts || row.age_ms >= this.giveUpAfterMs;
    if (giveUp) {
      this.log.warn({ outboxId: row.id, eventType: row.event_type, attempts: row.attempts, error }, "gave up delivering a webhook");
      await this.db.execute(sql`
        update webhook_outbox set next_attempt_at = 'infinity', last_status = ${outcome.status}, locked_by = null, locked_until = null,
               last_error = ${`gave up after ${row.attempts} attempts: ${error}`}
         where id = ${row.id} and delivered_at is null`);
      return;
    }
    const delayMs = retryDelayMs(row.attempts, this.retryBaseMs, this.retryMaxMs);
    await this.db.execute(sql`
      update webhook_outbox set next_attempt_at = now() + ${delayMs}::float8 * interval '1 millisecond', last_status = ${outcome.status},
             last_error = ${error}, locked_by = null, locked_until = null
       where id = ${row.id} and delivered_at is null`);
  }
}
