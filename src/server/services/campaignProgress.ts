/**
 * A campaign's progress, the one way the API, the runner and the pages count it: recipients per
 * status and the time left at the campaign's pace. Counts come from `campaign_recipient_counts`,
 * which triggers keep (migration 0003): one indexed lookup, whatever the campaign's size. Before
 * recipients exist (the campaign has not started), the audience is its list's reachable members.
 */
import { and, count, eq, inArray } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { type Campaign, type CampaignStatus, type RecipientStatus, campaignRecipientCounts, contactListMembers, contacts } from "~/server/db/schema";

export type CampaignCounts = { total: number } & Record<RecipientStatus, number>;

export interface CampaignProgress {
  counts: CampaignCounts;
  /** Seconds until the last message goes out at the campaign's pace; null when not progressing. */
  etaSeconds: number | null;
}

type CountedCampaign = Pick<Campaign, "id" | "listId" | "recipientsMaterializedAt" | "status" | "scheduledAt" | "delayMinMs" | "delayMaxMs">;

const emptyCounts = (): CampaignCounts => ({ total: 0, pending: 0, sending: 0, sent: 0, failed: 0, unknown: 0, skipped: 0 });

/** Rows of `campaign_recipient_counts`, summed per campaign. */
function sumCounts(rows: Array<{ campaignId: string; status: RecipientStatus; n: number }>): Map<string, CampaignCounts> {
  const byCampaign = new Map<string, CampaignCounts>();
  for (const row of rows) {
    let counts = byCampaign.get(row.campaignId);
    if (!counts) byCampaign.set(row.campaignId, (counts = emptyCounts()));
    counts[row.status] += row.n;
    counts.total += row.n;
  }
  return byCampaign;
}

/** Progress of each campaign (two lookups at most, whatever the number of campaigns), by campaign id. */
export async function campaignProgress(db: Db, campaigns: CountedCampaign[]): Promise<Map<string, CampaignProgress>> {
  const progress = new Map<string, CampaignProgress>();
  if (campaigns.length === 0) return progress;
  const started = campaigns.filter((campaign) => campaign.recipientsMaterializedAt).map((campaign) => campaign.id);
  const counted = sumCounts(started.length ? await db.select().from(campaignRecipientCounts).where(inArray(campaignRecipientCounts.campaignId, started)) : []);
  const lists = [...new Set(campaigns.filter((campaign) => !campaign.recipientsMaterializedAt && campaign.listId).map((campaign) => campaign.listId!))];
  const audience = new Map<string, number>();
  if (lists.length > 0) {
    const sizes = await db
      .select({ listId: contactListMembers.listId, n: count() })
      .from(contactListMembers)
      .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
      .where(and(inArray(contactListMembers.listId, lists), eq(contacts.optedOut, false)))
      .groupBy(contactListMembers.listId);
    for (const size of sizes) audience.set(size.listId, size.n);
  }
  for (const campaign of campaigns) {
    let counts = campaign.recipientsMaterializedAt ? counted.get(campaign.id) : undefined;
    if (!counts) {
      counts = emptyCounts();
      if (!campaign.recipientsMaterializedAt) counts.total = counts.pending = campaign.listId ? (audience.get(campaign.listId) ?? 0) : 0;
    }
    progress.set(campaign.id, { counts, etaSeconds: estimateEtaSeconds(campaign, counts.pending + counts.sending) });
  }
  return progress;
}

/** Recipients per status of a campaign whose recipients exist (the runner's summary). */
export async function countsOf(db: Db, campaignId: string): Promise<CampaignCounts> {
  const rows = await db.select().from(campaignRecipientCounts).where(eq(campaignRecipientCounts.campaignId, campaignId));
  return sumCounts(rows).get(campaignId) ?? emptyCounts();
}

/** One campaign's progress. */
export async function progressOf(db: Db, campaign: CountedCampaign): Promise<CampaignProgress> {
  return (await campaignProgress(db, [campaign])).get(campaign.id)!;
}

/**
 * Seconds until the last message goes out: time to start (Scheduled) plus the remaining messages at
 * the campaign's average delay. Null when not progressing.
 */
export function estimateEtaSeconds(
  campaign: { status: CampaignStatus; scheduledAt: Date; delayMinMs: number; delayMaxMs: number },
  remaining: number,
): number | null {
  if (remaining <= 0 || (campaign.status !== "Running" && campaign.status !== "Scheduled")) return null;
  const perMessageMs = (campaign.delayMinMs + campaign.delayMaxMs) / 2;
  const startsInMs = campaign.status === "Scheduled" ? Math.max(0, campaign.scheduledAt.getTime() - Date.now()) : 0;
  return Math.ceil((startsInMs + remaining * perMessageMs) / 1000);
}
