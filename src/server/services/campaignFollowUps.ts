/**
 * New campaigns made from an existing one (issue 14): "retry failed" and "duplicate".
 *
 * Retry failed: a campaign linked by `retry_of`, holding only the original's `failed` recipients (a
 * send WAHA refused, or a message WhatsApp reported with ack −1 after sending), never one `sent`,
 * `unknown` (it may have arrived), `skipped` or `cancelled`. Its recipients are materialised here, in
 * the same transaction as the campaign (with `recipients_materialized_at` set, so the runner never
 * reads the list again): each gets the text it was rendered with the first time, not a re-rendering,
 * so a retry sends what the contact would have received. A contact opted out or deleted since is
 * left out (and the send step checks opt-outs again). One retry per campaign, so a double click
 * cannot send twice; retry the retry's own failures after it.
 *
 * Duplicate: a copy of the campaign's settings (list, message, number, pacing, window) as a Draft to
 * review and schedule, or Scheduled at once when `scheduledAt` is given. The list is read again when
 * it runs: a duplicate reaches the list's members as they are then.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type Campaign, campaignRecipients, campaigns, contacts } from "../db/schema";
import { FINAL_STATUSES } from "./campaignStatuses";
import { conflict, notFound, unprocessable } from "./errors";

/** What this needs of the scheduler (SchedulerService implements it). */
export interface FollowUpScheduling {
  scheduleCampaignJob(campaign: { id: string; scheduledAt: Date }): Promise<void>;
  startCampaignNow(campaignId: string): Promise<void>;
}

/** The scheduler refuses an instant already past: a time given must be at least this far ahead. */
const MIN_LEAD_MS = 1000;
/** Rows per INSERT, as runner/recipients.ts. */
const INSERT_BATCH = 1000;
const NAME_MAX = 120;

/** The settings a copy keeps (not its state, times, counts or lease). */
function copiedSettings(source: Campaign) {
  return {
    workspaceId: source.workspaceId,
    listId: source.listId,
    audience: source.audience,
    templateId: source.templateId,
    messageText: source.messageText,
    mediaId: source.mediaId,
    sessionId: source.sessionId,
    numberAssignment: source.numberAssignment,
    reassignOnDrop: source.reassignOnDrop,
    delayMinMs: source.delayMinMs,
    delayMaxMs: source.delayMaxMs,
    sendWindow: source.sendWindow,
    batchSize: source.batchSize,
    batchPauseMs: source.batchPauseMs,
  };
}

/** A copy sends from the same numbers (issue 15: campaign_sessions, when the source has several). */
async function copyNumbers(db: Pick<Db, "execute">, fromId: string, toId: string): Promise<void> {
  await db.execute(sql`insert into campaign_sessions (campaign_id, session_id, position)
    select ${toId}::uuid, session_id, position from campaign_sessions where campaign_id = ${fromId}::uuid`);
}

const suffixed = (name: string, suffix: string) => `${name.slice(0, NAME_MAX - suffix.length)}${suffix}`;

function assertAhead(scheduledAt: Date | undefined): void {
  if (scheduledAt && scheduledAt.getTime() < Date.now() + MIN_LEAD_MS) {
    throw unprocessable("The scheduled time has passed: choose a time in the future, or leave scheduledAt out to start now", "scheduledAt");
  }
}

/**
 * Creates and schedules the retry of `campaignId`'s failed recipients; returns its id. Without
 * `scheduledAt` it starts now.
 */
export async function retryFailedRecipients(
  db: Db,
  scheduling: FollowUpScheduling,
  workspaceId: string,
  campaignId: string,
  scheduledAt?: Date,
): Promise<string> {
  assertAhead(scheduledAt);
  const retry = await db.transaction(async (tx) => {
    // The original's row lock: two retries of one campaign at once are one after the other.
    const [source] = await tx
      .select()
      .from(campaigns)
      .where(and(eq(campaigns.id, campaignId), eq(campaigns.workspaceId, workspaceId)))
      .for("update");
    if (!source) throw notFound("Campaign");
    if (!FINAL_STATUSES.includes(source.status)) {
      throw conflict(`The campaign is ${source.status}: retry its failed recipients once it has ended (or cancel it first)`);
    }
    const [earlier] = await tx.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.retryOf, campaignId)).limit(1);
    if (earlier) throw conflict(`This campaign's failed recipients were already retried by campaign ${earlier.id}: retry that campaign's failures instead`);
    const failed = await tx
      .select({
        contactId: campaignRecipients.contactId,
        phone: campaignRecipients.phone,
        chatId: campaignRecipients.chatId,
        renderedText: campaignRecipients.renderedText,
        timeZone: campaignRecipients.timeZone,
      })
      .from(campaignRecipients)
      .innerJoin(contacts, eq(contacts.id, campaignRecipients.contactId))
      .where(and(eq(campaignRecipients.campaignId, campaignId), eq(campaignRecipients.status, "failed"), eq(contacts.optedOut, false)))
      .orderBy(asc(campaignRecipients.position));
    if (failed.length === 0) throw conflict("No recipient of this campaign failed (or those who did have opted out since): there is nothing to retry");
    const [created] = await tx
      .insert(campaigns)
      .values({
        ...copiedSettings(source),
        name: suffixed(source.name, " (retry)"),
        retryOf: source.id,
        status: "Scheduled",
        scheduledAt: scheduledAt ?? sql`now()`,
        recipientsMaterializedAt: sql`now()`,
      })
      .returning();
    await copyNumbers(tx, source.id, created!.id);
    const rows = failed.map((row, position) => ({ ...row, campaignId: created!.id, position }));
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      await tx.insert(campaignRecipients).values(rows.slice(start, start + INSERT_BATCH));
    }
    return created!;
  });
  await schedule(db, scheduling, retry, scheduledAt);
  return retry.id;
}

/**
 * Copies `campaignId` as a Draft; returns the copy's id. With `scheduledAt`, the draft is scheduled
 * through `scheduleDraft` (CampaignService.schedule: every check a new campaign gets, e.g. a template
 * deleted since); a copy that cannot be scheduled is not kept, and the caller gets the reason.
 */
export async function duplicateCampaign(
  db: Db,
  scheduleDraft: (campaignId: string, scheduledAt: Date) => Promise<unknown>,
  workspaceId: string,
  campaignId: string,
  scheduledAt?: Date,
): Promise<string> {
  assertAhead(scheduledAt);
  const [source] = await db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.workspaceId, workspaceId)));
  if (!source) throw notFound("Campaign");
  const [copy] = await db
    .insert(campaigns)
    .values({ ...copiedSettings(source), name: suffixed(source.name, " (copy)"), status: "Draft", scheduledAt: null })
    .returning({ id: campaigns.id });
  await copyNumbers(db, source.id, copy!.id);
  if (scheduledAt) {
    try {
      await scheduleDraft(copy!.id, scheduledAt);
    } catch (error) {
      await db.delete(campaigns).where(eq(campaigns.id, copy!.id));
      throw error;
    }
  }
  return copy!.id;
}

/** Arms the retry, or starts it now; one that cannot be scheduled is not kept (as create). */
async function schedule(db: Db, scheduling: FollowUpScheduling, campaign: Campaign, scheduledAt: Date | undefined): Promise<void> {
  try {
    if (scheduledAt) await scheduling.scheduleCampaignJob({ id: campaign.id, scheduledAt });
    else await scheduling.startCampaignNow(campaign.id);
  } catch (error) {
    await db.delete(campaigns).where(eq(campaigns.id, campaign.id));
    throw error;
  }
}
