/**
 * Writes an event to the durable outbox, one row per enabled endpoint of the workspace subscribed to
 * its type, in the caller's transaction: the event exists if and only if the change it reports
 * committed. One INSERT ... SELECT: a workspace without endpoints costs that statement and nothing else.
 * The deliverer (deliverer.ts) posts the rows, at least once, in order per (endpoint, campaign).
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import type { WebhookEventType } from "./events";

export interface WebhookEventInput {
  type: WebhookEventType;
  workspaceId: string;
  /** Events of one campaign reach each endpoint in the order they were emitted. */
  campaignId?: string | null;
  /** The event's `data` (JSON): ids and what a receiver needs without calling back. */
  data: Record<string, unknown>;
}

/** Returns how many outbox rows were written (0 when no endpoint wants the event). */
export async function emitWebhookEvent(tx: Db, event: WebhookEventInput): Promise<number> {
  const rows = await queryRows<{ id: number }>(tx, sql`
    insert into webhook_outbox (endpoint_id, event_type, campaign_id, payload)
    select e.id, ${event.type}, ${event.campaignId ?? null}::uuid, ${JSON.stringify(event.data)}::jsonb
      from webhook_endpoints e
     where e.workspace_id = ${event.workspaceId}::uuid
       and e.disabled_at is null
       and ${event.type} = any(e.events)
    returning id`);
  return rows.length;
}
