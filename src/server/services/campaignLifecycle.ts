/**
 * The user's controls over a campaign's state, for the API layer (which scopes by workspace first).
 * Each change is one conditional UPDATE that also drops the runner's lease: the runner re-checks
 * status and lease in the same statement that starts each send, so the change takes effect before
 * the next send. `cancelCampaign` also waits out a send already in flight, so that when it returns
 * nothing more goes out.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import { pollingWakeups, type SlotWakeups } from "~/server/db/notifications";
import { type Campaign, type CampaignStatus, campaigns, contactListMembers, contacts } from "~/server/db/schema";
import { recordCampaignEvent } from "./campaignEvents";
import { USER_ACTIONS } from "./campaignStatuses";
import { AppError } from "./errors";
import { NOT_PAUSED } from "./runner/claim";
import { PAUSE_REASONS } from "./runner/pauses";

export class CampaignStateError extends Error {
  readonly code = "WRONG_STATE" as const;
  constructor(
    readonly currentStatus: CampaignStatus,
    message: string,
  ) {
    super(message);
    this.name = "CampaignStateError";
  }
}

/** The campaign vanished between the caller's check and the change (deleted meanwhile). */
export class CampaignNotFoundError extends AppError {
  constructor(readonly campaignId: string) {
    super("NOT_FOUND", "Campaign not found");
    this.name = "CampaignNotFoundError";
  }
}

/** Upper bound on waiting for an in-flight send (the send slot expires well before this). */
const IN_FLIGHT_WAIT_CAP_MS = 60_000;
const IN_FLIGHT_POLL_MS = 25;

/** Scheduled | Running -> Paused. A running campaign stops before its next send. */
export async function pauseCampaign(db: Db, campaignId: string, reason?: string): Promise<Campaign> {
  const [row] = await db
    .update(campaigns)
    .set({
      ...NOT_PAUSED,
      status: "Paused",
      pauseReason: reason ?? PAUSE_REASONS.pausedByUser,
      pausedAt: sql`now()`,
      leaseHolder: null,
      leaseExpiresAt: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(campaigns.id, campaignId), inArray(campaigns.status, USER_ACTIONS.pause.from)))
    .returning();
  if (row) {
    await recordCampaignEvent(db, { campaignId, kind: "paused", reason: row.pauseReason });
    return row;
  }
  throw await wrongState(db, campaignId, "paused", "only a scheduled or running campaign can be paused");
}

/**
 * Draft | Scheduled | Running | Paused -> Cancelled. Returns only when no send for it can still
 * happen: a send already in flight is waited for (bounded by the send slot's expiry).
 */
export async function cancelCampaign(db: Db, campaignId: string, slotWakeups: SlotWakeups = pollingWakeups): Promise<Campaign> {
  const [row] = await db
    .update(campaigns)
    .set({ status: "Cancelled", leaseHolder: null, leaseExpiresAt: null, completedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(campaigns.id, campaignId), inArray(campaigns.status, USER_ACTIONS.cancel.from)))
    .returning();
  if (!row) throw await wrongState(db, campaignId, "cancelled", "a campaign that has ended cannot be cancelled");
  await waitForInFlightSend(db, row.sessionId, campaignId, slotWakeups);
  return row;
}

/**
 * Resolves when no send of this campaign is in flight. A runner holds its number's send slot
 * (`send_slot_holder` ending in `|<campaignId>`) from the moment a recipient becomes `sending` until
 * its outcome is written, and never longer than the slot's expiry: wait until it is freed or expired.
 */
export async function waitForInFlightSend(db: Db, sessionId: string, campaignId: string, slotWakeups: SlotWakeups = pollingWakeups): Promise<void> {
  const deadline = Date.now() + IN_FLIGHT_WAIT_CAP_MS;
  const suffix = `%|${campaignId}`;
  for (;;) {
    const rows = await queryRows<{ remaining_ms: number }>(
      db,
      sql`select (extract(epoch from (send_slot_expires_at - now())) * 1000)::float8 as remaining_ms
            from whatsapp_sessions
           where id = ${sessionId} and send_slot_holder like ${suffix} and send_slot_expires_at > now()`,
    );
    const left = deadline - Date.now();
    if (rows.length === 0 || left <= 0) return;
    // Woken when the runner frees the slot; the slot's expiry bounds the wait anyway.
    const untilExpiry = Math.min(Number(rows[0]!.remaining_ms), left);
    await slotWakeups.waitForRelease(sessionId, slotWakeups.listening ? untilExpiry : Math.min(untilExpiry, IN_FLIGHT_POLL_MS));
  }
}

export interface CampaignProgress {
  total: number;
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  unknown: number;
  skipped: number;
  /** Seconds until the last message goes out at the campaign's pace; null when not progressing. */
  etaSeconds: number | null;
}

/**
 * "X of Y" and an ETA, from the recipient rows (before the first run, from the list). Two or three
 * cheap queries, fine to poll.
 */
export async function getCampaignProgress(db: Db, campaignId: string): Promise<CampaignProgress> {
  const [campaign] = await db
    .select({
      status: campaigns.status,
      listId: campaigns.listId,
      workspaceId: campaigns.workspaceId,
      scheduledAt: campaigns.scheduledAt,
      delayMinMs: campaigns.delayMinMs,
      delayMaxMs: campaigns.delayMaxMs,
      recipientsMaterializedAt: campaigns.recipientsMaterializedAt,
    })
    .from(campaigns)
    .where(eq(campaigns.id, campaignId));
  if (!campaign) throw new CampaignNotFoundError(campaignId);

  const progress: CampaignProgress = { total: 0, pending: 0, sending: 0, sent: 0, failed: 0, unknown: 0, skipped: 0, etaSeconds: null };
  if (campaign.recipientsMaterializedAt === null) {
    if (campaign.listId !== null) {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(contactListMembers)
        .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
        .where(and(eq(contactListMembers.listId, campaign.listId), eq(contacts.workspaceId, campaign.workspaceId), eq(contacts.optedOut, false)));
      progress.total = Number(row?.n ?? 0);
      progress.pending = progress.total;
    }
  } else {
    const rows = await queryRows<{ status: keyof Omit<CampaignProgress, "total" | "etaSeconds">; n: number }>(
      db,
      sql`select status::text as status, count(*)::int as n from campaign_recipients where campaign_id = ${campaignId} group by status`,
    );
    for (const row of rows) {
      progress[row.status] = Number(row.n);
      progress.total += Number(row.n);
    }
  }

  const remaining = progress.pending + progress.sending;
  const observedMs = remaining > 0 ? await observedMsPerMessage(db, campaignId, campaign.status) : 0;
  progress.etaSeconds = estimateEtaSeconds(campaign, remaining, observedMs);
  return progress;
}

/**
 * Seconds until the last message goes out: time to start (Scheduled) plus the remaining messages at
 * the campaign's average delay, or at the pace actually observed when slower. Null when not progressing.
 */
export function estimateEtaSeconds(
  campaign: { status: CampaignStatus; scheduledAt: Date; delayMinMs: number; delayMaxMs: number },
  remaining: number,
  observedMsPerMessageMs = 0,
): number | null {
  if (remaining <= 0 || (campaign.status !== "Running" && campaign.status !== "Scheduled")) return null;
  const perMessageMs = Math.max((campaign.delayMinMs + campaign.delayMaxMs) / 2, observedMsPerMessageMs);
  const startsInMs = campaign.status === "Scheduled" ? Math.max(0, campaign.scheduledAt.getTime() - Date.now()) : 0;
  return Math.ceil((startsInMs + remaining * perMessageMs) / 1000);
}

/** The pace actually seen over the last sends (delay + WAHA's time), 0 when too few to tell. */
async function observedMsPerMessage(db: Db, campaignId: string, status: CampaignStatus): Promise<number> {
  if (status !== "Running") return 0;
  const [row] = await queryRows<{ n: number; span_ms: number | null }>(
    db,
    sql`select count(*)::int as n, (extract(epoch from (max(sent_at) - min(sent_at))) * 1000)::float8 as span_ms
          from (select sent_at from campaign_recipients
                 where campaign_id = ${campaignId} and status = 'sent' and sent_at is not null
                 order by sent_at desc limit 20) recent`,
  );
  if (!row || Number(row.n) < 5 || row.span_ms === null) return 0;
  return Number(row.span_ms) / (Number(row.n) - 1);
}

async function wrongState(db: Db, campaignId: string, verb: string, rule: string): Promise<Error> {
  const [current] = await db.select({ status: campaigns.status }).from(campaigns).where(eq(campaigns.id, campaignId));
  if (!current) return new CampaignNotFoundError(campaignId);
  return new CampaignStateError(current.status, `The campaign is ${current.status} and cannot be ${verb}: ${rule}`);
}
