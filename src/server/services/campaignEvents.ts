/**
 * A campaign's history of state changes that a person needs explained: when and why it paused,
 * who or what resumed it, when the app stopped trying by itself. Shown on the campaign's page.
 */
import { desc, eq } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { type CampaignEvent, campaignEvents } from "~/server/db/schema";

export type CampaignEventKind = "paused" | "resumed" | "auto_resume_stopped";

export async function recordCampaignEvent(
  db: Db,
  event: { campaignId: string; kind: CampaignEventKind; reason?: string | null; detail?: string | null },
): Promise<void> {
  await db.insert(campaignEvents).values({ campaignId: event.campaignId, kind: event.kind, reason: event.reason ?? null, detail: event.detail ?? null });
}

/** Newest first. */
export async function listCampaignEvents(db: Db, campaignId: string, limit = 50): Promise<CampaignEvent[]> {
  return db.select().from(campaignEvents).where(eq(campaignEvents.campaignId, campaignId)).orderBy(desc(campaignEvents.id)).limit(limit);
}
