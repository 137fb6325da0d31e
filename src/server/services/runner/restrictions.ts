/**
 * Stopping before a ban (issue 13): when WhatsApp restricts a number (WAHA reports capping or a
 * reachout timelock, or a send fails with a restriction error) or its sends keep failing while it
 * is WORKING, every campaign running on that number pauses with a reason the owner can read. The
 * number keeps `restricted_until` and `restriction_reason`, so wc_send_step takes no slot for it
 * before then, whichever process asks; campaigns paused until a known time resume by themselves
 * then (AutoResumeService calls `resumeEndedRestrictions`).
 */
import { and, desc, eq, lte, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { campaignRecipients, campaigns, whatsappSessions } from "~/server/db/schema";
import { recordCampaignEvent } from "../campaignEvents";
import type { WahaCapping, WahaReachoutTimelock } from "../waha/client";
import { NOT_PAUSED } from "./claim";
import { PAUSE_REASONS, systemPause } from "./pauses";

export interface Restriction {
  reason: typeof PAUSE_REASONS.numberRestricted | typeof PAUSE_REASONS.tooManyFailures;
  /** When sending may start again; null: a person decides (resume). */
  until: Date | null;
  /** In words, for the page and the campaign's history. */
  detail: string;
}

/**
 * Marks the number restricted (until `until`, when given) and pauses each campaign Running on it:
 * their runners see the lease gone and stop after the send in flight. Returns the paused ids.
 */
export async function pauseNumber(db: Db, sessionId: string, restriction: Restriction): Promise<string[]> {
  await db
    .update(whatsappSessions)
    .set({
      restrictedUntil: restriction.until,
      restrictionReason: restriction.detail,
      // A person's resume after too many failures starts a new count.
      consecutiveFailures: 0,
    })
    .where(eq(whatsappSessions.id, sessionId));
  const rows = await db
    .update(campaigns)
    .set(systemPause(restriction.reason, restriction.detail, restriction.until))
    // A campaign over several numbers goes on with its others: its run drops this number's lane (issue 15).
    .where(
      and(
        eq(campaigns.sessionId, sessionId),
        eq(campaigns.status, "Running"),
        sql`not exists (select 1 from campaign_sessions s where s.campaign_id = ${campaigns.id})`,
      ),
    )
    .returning({ id: campaigns.id });
  for (const row of rows) await recordCampaignEvent(db, { campaignId: row.id, kind: "paused", reason: restriction.reason, detail: restriction.detail });
  return rows.map((row) => row.id);
}

/** Campaigns paused for a restriction whose end has come: Running without a lease (the caller starts them). */
export async function resumeEndedRestrictions(db: Db): Promise<string[]> {
  const rows = await db
    .update(campaigns)
    .set({ ...NOT_PAUSED, status: "Running", leaseHolder: null, leaseExpiresAt: null, lastError: null, updatedAt: sql`now()` })
    .where(and(eq(campaigns.status, "Paused"), eq(campaigns.pauseReason, PAUSE_REASONS.numberRestricted), lte(campaigns.autoResumeAt, sql`now()`)))
    .returning({ id: campaigns.id });
  for (const row of rows) {
    await recordCampaignEvent(db, { campaignId: row.id, kind: "resumed", reason: "auto", detail: "the number's restriction ended" });
  }
  return rows.map((row) => row.id);
}

/**
 * What WAHA says of the number means for sending now: a reachout timelock (the session's `me`) or
 * the new-chat cap reached (`capping`) is a restriction; null when the number may send.
 */
export function restrictionFromWaha(
  input: { capping: WahaCapping | null; timelock: WahaReachoutTimelock | null | undefined },
  now: Date,
): Restriction | null {
  const lock = input.timelock;
  if (lock?.active && (lock.until === null || lock.until > now)) {
    return {
      reason: PAUSE_REASONS.numberRestricted,
      until: lock.until,
      detail: `WhatsApp put a reachout timelock on the number${lock.until ? ` until ${lock.until.toISOString()}` : ""}: it may not start new chats for now`,
    };
  }
  const capping = input.capping;
  if (capping?.status === "CAPPED") {
    const until = capping.cycleEnd && capping.cycleEnd > now ? capping.cycleEnd : null;
    const used = capping.totalQuota !== null ? ` (${capping.usedQuota} of ${capping.totalQuota} used)` : "";
    return {
      reason: PAUSE_REASONS.numberRestricted,
      until,
      detail: `WhatsApp capped the new chats this number may start${used}${until ? `; the cap resets at ${until.toISOString()}` : ""}`,
    };
  }
  return null;
}

/**
 * WAHA's `message.ack` of −1 (ERROR) for a campaign's message: when the number's policy sets
 * `max_consecutive_failures` = N and the campaign's last N sent messages all came back −1 while the
 * number is WORKING, its campaigns pause (`too_many_failures`). Only asked when a −1 arrives; the
 * campaign's last N sent rows come from its (campaign, status, position) index, whatever its size.
 */
export async function pauseOnFailedAcks(db: Db, campaignId: string, sessionId: string | null = null): Promise<boolean> {
  // The number that sent the acked message (issue 15: a campaign may have several), else the campaign's.
  const [number] = await db
    .select({ id: whatsappSessions.id, name: whatsappSessions.name, max: whatsappSessions.maxConsecutiveFailures, status: whatsappSessions.status })
    .from(campaigns)
    .innerJoin(whatsappSessions, eq(whatsappSessions.id, sql`coalesce(${sessionId}::uuid, ${campaigns.sessionId})`))
    .where(eq(campaigns.id, campaignId));
  if (!number || number.max === null || number.max <= 0 || number.status !== "WORKING") return false;
  // The messages that went out: still `sent`, or `failed` by their ack −1 (issue 14 moves those to
  // `failed`). Two index-ordered reads, merged: the campaign's last N of them, newest first.
  const lastOf = (status: "sent" | "failed") =>
    db
      .select({ ack: campaignRecipients.ack, position: campaignRecipients.position })
      .from(campaignRecipients)
      .where(and(eq(campaignRecipients.campaignId, campaignId), eq(campaignRecipients.status, status), status === "failed" ? eq(campaignRecipients.ack, -1) : undefined))
      .orderBy(desc(campaignRecipients.position))
      .limit(number.max!);
  const last = [...(await lastOf("sent")), ...(await lastOf("failed"))].sort((a, b) => b.position - a.position).slice(0, number.max);
  if (last.length < number.max || !last.every((row) => row.ack === -1)) return false;
  await pauseNumber(db, number.id, {
    reason: PAUSE_REASONS.tooManyFailures,
    until: null,
    detail: `The last ${number.max} messages on ${number.name} came back from WhatsApp with an error (ack −1) while it was connected; check the number before resuming`,
  });
  return true;
}
