/**
 * The outbox is also the delivery log: a finished row (delivered, or given up) is kept this long for
 * the page and `GET /webhooks/{id}/deliveries`, then the sweep's housekeeping deletes it, so the table
 * does not grow with every message ever sent. Undelivered rows are never deleted here.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";

export const DELIVERY_LOG_RETENTION_DAYS = 30;

export async function pruneWebhookOutbox(db: Db, retentionDays = DELIVERY_LOG_RETENTION_DAYS): Promise<number> {
  const rows = await queryRows<{ id: number }>(db, sql`
    delete from webhook_outbox
     where created_at < now() - ${retentionDays}::int * interval '1 day'
       and (delivered_at is not null or next_attempt_at = 'infinity')
    returning id`);
  return rows.length;
}
