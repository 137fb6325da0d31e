/**
 * The user's controls over a campaign's state, for the API layer (which scopes by workspace first).
 * Each change is one conditional UPDATE that also drops the runner's lease: the runner re-checks
 * status and lease in the same statement that starts each send, so the change takes effect before
 * the next send. `cancelCampaign` also waits out a send already in flight, so that when it returns
 * nothing more goes out, and moves the recipients not yet sent to `cancelled` (issue 14).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import { pollingWakeups, type SlotWakeups } from "~/server/db/notifications";
import { type Campaign, type CampaignStatus, campaignRecipients, campaigns } from "~/server/db/schema";
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
 * Paused -> Scheduled (paused before it ever started, its time still ahead) or Running (without a
 * lease: the runner's claim takes it as any unheld Running campaign, and the sweep does if nobody
 * starts it). One conditional UPDATE, so the caller is answered with the state the campaign is
 * really in afterwards, not the Paused it was in while a runner had yet to claim it.
 */
export async function resumeCampaign(db: Db, campaignId: string): Promise<Campaign> {
  const [row] = await db
    .update(campaigns)
    .set({
      ...NOT_PAUSED,
      status: sql`case when ${campaigns.startedAt} is null and ${campaigns.scheduledAt} > now() then 'Scheduled' else 'Running' end::campaign_status`,
      leaseHolder: null,
      leaseExpiresAt: null,
      lastError: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(campaigns.id, campaignId), inArray(campaigns.status, USER_ACTIONS.resume.from)))
    .returning();
  if (row) return row;
  throw await wrongState(db, campaignId, "resumed", "only a paused campaign can be resumed");
}

/**
 * Draft | Scheduled | Running | Paused -> Cancelled. Returns only when no send for it can still
 * happen: a send already in flight is waited for (bounded by the send slot's expiry).
 */
export async function cancelCampaign(db: Db, campaignId: string, slotWakeups: SlotWakeups = pollingWakeups): Promise<Campaign> {
  const row = await db.transaction(async (tx) => {
    const [cancelled] = await tx
      .update(campaigns)
      .set({ status: "Cancelled", leaseHolder: null, leaseExpiresAt: null, completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(campaigns.id, campaignId), inArray(campaigns.status, USER_ACTIONS.cancel.from)))
      .returning();
    // Issue 14: the unsent recipients read `cancelled`, not `pending`, from the same commit on.
    if (cancelled) await cancelPendingRecipients(tx, campaignId);
    return cancelled;
  });
  if (!row) throw await wrongState(db, campaignId, "cancelled", "a campaign that has ended cannot be cancelled");
  await waitForInFlightSend(db, row.sessionId, campaignId, slotWakeups);
  // A send in flight may have been settled back to `pending` (held by a limit, not sent): it goes too.
  await cancelPendingRecipients(db, campaignId);
  return row;
}

/**
 * Pending → cancelled. A recipient `sending` is left to its runner, which settles what really
 * happened to it (sent, failed or unknown).
 */
async function cancelPendingRecipients(db: Pick<Db, "update">, campaignId: string): Promise<void> {
  await db
    .update(campaignRecipients)
    .set({ status: "cancelled" })
    .where(and(eq(campaignRecipients.campaignId, campaignId), eq(campaignRecipients.status, "pending")));
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
    // Every number of the campaign (issue 15: campaign_sessions when it has several).
    const rows = await queryRows<{ id: string; remaining_ms: number }>(
      db,
      sql`select id::text as id, (extract(epoch from (send_slot_expires_at - now())) * 1000)::float8 as remaining_ms
            from whatsapp_sessions
           where (id = ${sessionId} or id in (select s.session_id from campaign_sessions s where s.campaign_id = ${campaignId}))
             and send_slot_holder like ${suffix} and send_slot_expires_at > now()
           order by 2 desc limit 1`,
    );
    const left = deadline - Date.now();
    if (rows.length === 0 || left <= 0) return;
    // Woken when the runner frees the slot; the slot's expiry bounds the wait anyway.
    const untilExpiry = Math.min(Number(rows[0]!.remaining_ms), left);
    await slotWakeups.waitForRelease(rows[0]!.id, untilExpiry);
  }
}

async function wrongState(db: Db, campaignId: string, verb: string, rule: string): Promise<Error> {
  const [current] = await db.select({ status: campaigns.status }).from(campaigns).where(eq(campaigns.id, campaignId));
  if (!current) return new CampaignNotFoundError(campaignId);
  return new CampaignStateError(current.status, `The campaign is ${current.status} and cannot be ${verb}: ${rule}`);
}
