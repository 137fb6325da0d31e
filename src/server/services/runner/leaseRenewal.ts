/**
 * Renews every campaign lease a runner service holds in one statement per period, instead of one
 * statement per campaign: the fleet bench (issue 15: 2,000 campaigns on 3 workers, one message per
 * number every 1–2 s) counted a renewal per campaign every 10 s as about 0.7 statements per message,
 * and at a real pace of 6–60 s it would be more than the sends themselves.
 *
 * A lease is renewed at least every third of its length after it is held (the period is that third),
 * as each run's own timer did. A lease the statement does not give back (the campaign was paused,
 * cancelled, completed, deleted, or taken over by another holder) is reported lost once, to its run.
 */
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { type Db, queryRows } from "~/server/db/client";

interface HeldLease {
  campaignId: string;
  holder: string;
  onLost: () => void;
}

export class LeaseRenewer {
  private readonly held = new Map<string, HeldLease>();
  private timer: NodeJS.Timeout | null = null;
  private renewing = false;

  constructor(
    private readonly db: Db,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  /** Keeps `holder`'s lease on the campaign until the returned function is called. */
  hold(campaignId: string, holder: string, onLost: () => void): () => void {
    const key = `${campaignId}|${holder}`;
    this.held.set(key, { campaignId, holder, onLost });
    if (!this.timer) {
      this.timer = setInterval(() => void this.renewAll(), Math.max(50, Math.floor(this.leaseMs / 3)));
      this.timer.unref();
    }
    return () => {
      this.held.delete(key);
      if (this.held.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  private async renewAll(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    const batch = [...this.held.entries()];
    try {
      const leases = JSON.stringify(batch.map(([, lease]) => ({ id: lease.campaignId, holder: lease.holder })));
      const renewed = await queryRows<{ id: string; holder: string }>(this.db, sql`
        update campaigns c
           set lease_expires_at = now() + ${this.leaseMs}::int * interval '1 millisecond'
          from jsonb_to_recordset(${leases}::jsonb) as l(id uuid, holder text)
         where c.id = l.id and c.status = 'Running' and c.lease_holder = l.holder
        returning c.id::text as id, c.lease_holder as holder`);
      const kept = new Set(renewed.map((row) => `${row.id}|${row.holder}`));
      for (const [key, lease] of batch) {
        // Released while the statement ran: its run is over, nothing to tell it.
        if (kept.has(key) || this.held.get(key) !== lease) continue;
        this.held.delete(key);
        lease.onLost();
      }
    } catch (error) {
      // The next period tries again; a lease outlives two missed renewals.
      this.log.warn({ err: error, leases: batch.length }, "lease renewal failed; retrying");
    } finally {
      this.renewing = false;
    }
  }
}
