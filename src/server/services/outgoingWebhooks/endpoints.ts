/**
 * A workspace's webhook endpoints: register (URL checked against the SSRF policy, a secret generated
 * and returned this once), list (without secrets), delete (its outbox rows and log go with it), and the
 * delivery log.
 */
import { randomBytes } from "node:crypto";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { webhookEndpoints, webhookOutbox } from "~/server/db/schema";
import { badRequest, notFound } from "../errors";
import { assertDeliverableUrl, parseWebhookUrl, type Resolver, WebhookUrlError } from "./addressPolicy";
import type { WebhookEventType } from "./events";

/** Enough for any real integration; bounds the rows one event can write. */
export const MAX_ENDPOINTS_PER_WORKSPACE = 20;

export interface WebhookEndpointView {
  id: string;
  url: string;
  events: string[];
  createdAt: Date;
  disabledAt: Date | null;
}

export interface UrlPolicy {
  allowPrivate: boolean;
  resolve?: Resolver;
}

export async function createWebhookEndpoint(
  db: Db,
  workspaceId: string,
  input: { url: string; events: WebhookEventType[] },
  policy: UrlPolicy,
): Promise<WebhookEndpointView & { secret: string }> {
  try {
    await assertDeliverableUrl(parseWebhookUrl(input.url), policy);
  } catch (error) {
    if (error instanceof WebhookUrlError) throw badRequest(`url ${error.message}`, "url");
    throw error;
  }
  const [{ n } = { n: 0 }] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.workspaceId, workspaceId));
  if (n >= MAX_ENDPOINTS_PER_WORKSPACE) {
    throw badRequest(`A workspace may have at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints: delete one first`, "url");
  }
  const secret = `whsec_${randomBytes(32).toString("hex")}`;
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ workspaceId, url: input.url, events: [...new Set(input.events)], secret })
    .returning();
  return { ...toView(row!), secret };
}

export async function listWebhookEndpoints(db: Db, workspaceId: string): Promise<WebhookEndpointView[]> {
  const rows = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.workspaceId, workspaceId)).orderBy(webhookEndpoints.createdAt);
  return rows.map(toView);
}

export async function deleteWebhookEndpoint(db: Db, workspaceId: string, id: string): Promise<void> {
  const deleted = await db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.workspaceId, workspaceId)))
    .returning({ id: webhookEndpoints.id });
  if (deleted.length === 0) throw notFound("Webhook endpoint");
}

export type DeliveryState = "delivered" | "pending" | "retrying" | "gave_up";

export interface WebhookDeliveryView {
  id: number;
  eventId: string;
  eventType: string;
  campaignId: string | null;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAt: Date | null;
  payload: unknown;
}

/** Newest first; `before` (an id from the previous page) pages back. */
export async function listWebhookDeliveries(
  db: Db,
  workspaceId: string,
  endpointId: string,
  options: { limit: number; before?: number },
): Promise<{ items: WebhookDeliveryView[]; nextBefore: number | null }> {
  const [endpoint] = await db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.workspaceId, workspaceId)));
  if (!endpoint) throw notFound("Webhook endpoint");
  const gaveUp = sql<boolean>`${webhookOutbox.nextAttemptAt} = 'infinity'`;
  const rows = await db
    .select({
      id: webhookOutbox.id,
      eventId: webhookOutbox.eventId,
      eventType: webhookOutbox.eventType,
      campaignId: webhookOutbox.campaignId,
      attempts: webhookOutbox.attempts,
      lastStatus: webhookOutbox.lastStatus,
      lastError: webhookOutbox.lastError,
      createdAt: webhookOutbox.createdAt,
      deliveredAt: webhookOutbox.deliveredAt,
      gaveUp,
      // 'infinity' is no JavaScript date: read it as null.
      nextAttemptAt: sql<Date | null>`case when ${gaveUp} or ${webhookOutbox.deliveredAt} is not null then null else ${webhookOutbox.nextAttemptAt} end`.mapWith(webhookOutbox.nextAttemptAt),
      payload: webhookOutbox.payload,
    })
    .from(webhookOutbox)
    .where(and(eq(webhookOutbox.endpointId, endpointId), options.before === undefined ? undefined : lt(webhookOutbox.id, options.before)))
    .orderBy(desc(webhookOutbox.id))
    .limit(options.limit + 1);
  const items = rows.slice(0, options.limit).map(({ gaveUp: gave, ...row }) => ({
    ...row,
    nextAttemptAt: row.nextAttemptAt ?? null,
    state: (row.deliveredAt ? "delivered" : gave ? "gave_up" : row.attempts > 0 ? "retrying" : "pending") as DeliveryState,
  }));
  return { items, nextBefore: rows.length > options.limit ? items[items.length - 1]!.id : null };
}

function toView(row: typeof webhookEndpoints.$inferSelect): WebhookEndpointView {
  return { id: row.id, url: row.url, events: row.events, createdAt: row.createdAt, disabledAt: row.disabledAt };
}
