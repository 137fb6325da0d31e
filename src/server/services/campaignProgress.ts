/**
 * A campaign's progress, the one way the API, the runner and the pages count it: recipients per
 * status and the time left at the campaign's pace. Counts come from `campaign_recipient_counts`,
 * which triggers keep (migration 0003): one indexed lookup, whatever the campaign's size. Before
 * recipients exist (the campaign has not started), the audience is its list's reachable members.
 *
 * Safe sending (issue 13): a campaign held back reads with `waiting: {reason, until, detail}` (what
 * the runner recorded, runner/waiting.ts), and its ETA is simulated under its number's limits, the
 * warm-up, its send window and batches (safeSending/eta.ts) instead of "remaining × mean delay";
 * that costs one more lookup (the numbers' policies and counters), only when some campaign is active.
 */
import { and, count, countDistinct, eq, inArray } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import {
  type Campaign,
  type CampaignStatus,
  type RecipientStatus,
  campaignOutcomeCounts,
  campaignRecipientCounts,
  contactListMembers,
  contacts,
  inboundMessages,
  whatsappSessions,
} from "~/server/db/schema";
import { audienceContacts } from "./campaignAudience";
import { localDayBounds, localHourBounds } from "./safeSending/calendar";
import { simulateRun } from "./safeSending/eta";
import type { WaitingReason } from "./safeSending/waiting";

/**
 * Recipients per status, plus the funnel after sending (issue 14): `delivered` (ack >= 2), `read`
 * (ack >= 3) and `replied` (a reply attributed to the campaign), kept in `campaign_outcome_counts` by a
 * trigger (migration 0010); `optedOut`: contacts whose reply to this campaign opted them out.
 */
export type CampaignCounts = StatusCounts & { delivered: number; read: number; replied: number; optedOut: number };

/** Recipients per status only (the runner's summary: `countsOf`). */
export type StatusCounts = { total: number } & Record<RecipientStatus, number>;

export interface CampaignProgress {
  counts: CampaignCounts;
  /** Seconds until the last message goes out at the campaign's pace; null when not progressing. */
  etaSeconds: number | null;
  /** Why the campaign is held back now, and until when; null when it is not. */
  waiting: { reason: WaitingReason; until: Date | null; detail: string | null } | null;
}

/** `audience` and `workspaceId`: a campaign with an audience (issue 15) is counted from it before it starts. */
type CountedCampaign = Partial<Pick<Campaign, "audience" | "workspaceId">> & Pick<
  Campaign,
  | "id"
  | "listId"
  | "recipientsMaterializedAt"
  | "status"
  | "scheduledAt"
  | "delayMinMs"
  | "delayMaxMs"
  | "sessionId"
  | "sendWindow"
  | "batchSize"
  | "batchPauseMs"
  | "waitingReason"
  | "waitingUntil"
  | "waitingDetail"
>;

type NumberRow = typeof whatsappSessions.$inferSelect;

const isActive = (status: CampaignStatus) => status === "Running" || status === "Scheduled";

const emptyStatusCounts = (): StatusCounts => ({ total: 0, pending: 0, sending: 0, sent: 0, failed: 0, unknown: 0, skipped: 0, cancelled: 0 });
const emptyCounts = (): CampaignCounts => ({ ...emptyStatusCounts(), delivered: 0, read: 0, replied: 0, optedOut: 0 });

/** Rows of `campaign_recipient_counts`, summed per campaign. */
function sumCounts<C extends StatusCounts>(rows: Array<{ campaignId: string; status: RecipientStatus; n: number }>, empty: () => C): Map<string, C> {
  const byCampaign = new Map<string, C>();
  for (const row of rows) {
    let counts = byCampaign.get(row.campaignId);
    if (!counts) byCampaign.set(row.campaignId, (counts = empty()));
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
  // Statuses and outcomes (delivered, read, replied) are kept in separate tables: read them in one
  // snapshot, or an ack committed between the reads shows `read: 1` beside a recipient not yet `sent`.
  const counted = started.length
    ? await db.transaction(
        async (tx) => {
          const rows = sumCounts(await tx.select().from(campaignRecipientCounts).where(inArray(campaignRecipientCounts.campaignId, started)), emptyCounts);
          await addOutcomes(tx as unknown as Db, started, rows);
          return rows;
        },
        { isolationLevel: "repeatable read", accessMode: "read only" },
      )
    : new Map<string, CampaignCounts>();
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
  // An audience of tags or several lists is counted campaign by campaign (one lookup each, before it starts).
  const audienceSizes = new Map<string, number>();
  for (const campaign of campaigns) {
    if (campaign.recipientsMaterializedAt || !campaign.audience || !campaign.workspaceId) continue;
    const [size] = await db
      .select({ n: count() })
      .from(contacts)
      .where(audienceContacts(db, campaign.workspaceId, campaign.listId, campaign.audience));
    audienceSizes.set(campaign.id, size?.n ?? 0);
  }
  const activeNumbers = [...new Set(campaigns.filter((campaign) => isActive(campaign.status)).map((campaign) => campaign.sessionId))];
  const numbers = new Map<string, NumberRow>();
  if (activeNumbers.length > 0) {
    for (const row of await db.select().from(whatsappSessions).where(inArray(whatsappSessions.id, activeNumbers))) numbers.set(row.id, row);
  }
  const now = new Date();
  for (const campaign of campaigns) {
    let counts = campaign.recipientsMaterializedAt ? counted.get(campaign.id) : undefined;
    if (!counts) {
      counts = emptyCounts();
      if (!campaign.recipientsMaterializedAt) {
        counts.total = counts.pending = audienceSizes.get(campaign.id) ?? (campaign.listId ? (audience.get(campaign.listId) ?? 0) : 0);
      }
    }
    const remaining = counts.pending + counts.sending;
    const number = numbers.get(campaign.sessionId);
    progress.set(campaign.id, {
      counts,
      etaSeconds: number && governed(campaign, number) ? simulatedEtaSeconds(campaign, number, counts, now) : estimateEtaSeconds(campaign, remaining),
      waiting:
        isActive(campaign.status) && campaign.waitingReason
          ? { reason: campaign.waitingReason as WaitingReason, until: campaign.waitingUntil, detail: campaign.waitingDetail }
          : null,
    });
  }
  return progress;
}

/** Recipients per status of a campaign whose recipients exist (the runner's summary). */
export async function countsOf(db: Db, campaignId: string): Promise<StatusCounts> {
  const rows = await db.select().from(campaignRecipientCounts).where(eq(campaignRecipientCounts.campaignId, campaignId));
  return sumCounts(rows, emptyStatusCounts).get(campaignId) ?? emptyStatusCounts();
}

/**
 * The funnel beyond the statuses: delivered, read, replied (one lookup by key in the trigger-kept
 * `campaign_outcome_counts`) and opted out (the STOP replies attributed to each campaign, through
 * `inbound_messages`' campaign index: replies are few beside sends).
 */
async function addOutcomes(db: Db, campaignIds: string[], counted: Map<string, CampaignCounts>): Promise<void> {
  if (campaignIds.length === 0) return;
  const countsFor = (campaignId: string) => {
    let counts = counted.get(campaignId);
    if (!counts) counted.set(campaignId, (counts = emptyCounts()));
    return counts;
  };
  for (const row of await db.select().from(campaignOutcomeCounts).where(inArray(campaignOutcomeCounts.campaignId, campaignIds))) {
    Object.assign(countsFor(row.campaignId), { delivered: row.delivered, read: row.read, replied: row.replied });
  }
  const optedOut = await db
    .select({ campaignId: inboundMessages.campaignId, n: countDistinct(inboundMessages.contactId) })
    .from(inboundMessages)
    .where(and(inArray(inboundMessages.campaignId, campaignIds), eq(inboundMessages.optOut, true)))
    .groupBy(inboundMessages.campaignId);
  for (const row of optedOut) if (row.campaignId) countsFor(row.campaignId).optedOut = row.n;
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
  campaign: { status: CampaignStatus; scheduledAt: Date | null; delayMinMs: number; delayMaxMs: number },
  remaining: number,
): number | null {
  if (remaining <= 0 || (campaign.status !== "Running" && campaign.status !== "Scheduled")) return null;
  const perMessageMs = (campaign.delayMinMs + campaign.delayMaxMs) / 2;
  const startsInMs = campaign.status === "Scheduled" && campaign.scheduledAt ? Math.max(0, campaign.scheduledAt.getTime() - Date.now()) : 0;
  return Math.ceil((startsInMs + remaining * perMessageMs) / 1000);
}

/** Whether any safe-sending rule can hold the campaign back (else the plain estimate is exact enough). */
function governed(campaign: CountedCampaign, number: NumberRow): boolean {
  return number.dailyLimit !== null || number.hourlyLimit !== null || number.warmup || campaign.sendWindow !== null || (campaign.batchSize ?? 0) > 0;
}

/**
 * The ETA under the number's limits and warm-up, the window and the batches (safeSending/eta.ts),
 * from the number's counters as wc_send_step keeps them. Null when not progressing, or when the
 * rules never let it finish.
 */
function simulatedEtaSeconds(campaign: CountedCampaign, number: NumberRow, counts: CampaignCounts, now: Date): number | null {
  const remaining = counts.pending + counts.sending;
  if (remaining <= 0 || !isActive(campaign.status)) return null;
  const start = campaign.status === "Scheduled" && campaign.scheduledAt && campaign.scheduledAt > now ? campaign.scheduledAt : now;
  const zone = number.timeZone;
  const day = localDayBounds(start, zone);
  const hour = localHourBounds(start, zone);
  const run = simulateRun(
    {
      remaining,
      delayMinMs: campaign.delayMinMs,
      delayMaxMs: campaign.delayMaxMs,
      policy: { timeZone: zone, dailyLimit: number.dailyLimit, hourlyLimit: number.hourlyLimit, warmup: number.warmup },
      sentToday: number.sentDayStart?.getTime() === day.start.getTime() ? number.sentDayCount : 0,
      sentThisHour: number.sentHourStart?.getTime() === hour.start.getTime() ? number.sentHourCount : 0,
      firstSentAt: number.firstSentAt,
      sendWindow: campaign.sendWindow,
      batchSize: campaign.batchSize,
      batchPauseMs: campaign.batchPauseMs,
      campaignSent: counts.sent,
      // The batch in progress is taken as just begun: the runner keeps its pause in memory.
      campaignLastSentAt: null,
      nextSendAt: campaign.waitingUntil && campaign.waitingUntil > start ? campaign.waitingUntil : null,
    },
    start,
  );
  if (!run.finishAt) return null;
  return Math.ceil((run.finishAt.getTime() - now.getTime()) / 1000);
}
