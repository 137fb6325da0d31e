/**
 * The optional opt-out confirmation (issue 14): sent once, right after the reply that opted the
 * contact out, on the number it wrote to. It skips the campaign's pacing (no delay, no send slot) but
 * not the number's limits: it is counted in the number's local day and hour like a campaign message,
 * in the same conditional UPDATE the send step uses, and is not sent while the number is restricted
 * or at a limit. What happened is recorded on the inbound message (`confirmation`: sent, held,
 * failed) and logged; a confirmation that could not go is never retried (the contact already
 * stopped hearing from us, which is what matters).
 */
import { eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import { inboundMessages } from "~/server/db/schema";
import { childLogger } from "~/server/logger";
import { loadNumberState } from "../runner/numberStates";
import { localDayBounds, localHourBounds } from "../safeSending/calendar";
import { effectiveDailyLimit } from "../safeSending/policy";
import type { WahaApiClient } from "../waha/client";
import type { OptedOutByReply } from "../replies/inboundMessages";

const log = childLogger("opt-out-confirmation");

export type ConfirmationOutcome = "sent" | "held" | "failed" | "no_number";

export async function sendOptOutConfirmation(
  db: Db,
  waha: Pick<WahaApiClient, "sendText">,
  optOut: OptedOutByReply,
  now: Date = new Date(),
): Promise<ConfirmationOutcome> {
  const number = await loadNumberState(db, optOut.sessionId);
  if (!number) return "no_number";
  const zone = number.policy.timeZone;
  const dayStart = localDayBounds(now, zone).start.toISOString();
  const hourStart = localHourBounds(now, zone).start.toISOString();
  const dailyLimit = effectiveDailyLimit(number.policy, number.firstSentAt ?? now, now);
  const hourlyLimit = number.policy.hourlyLimit;
  // Counted before it goes, under the row's lock, so campaigns and confirmations together stay within the limits.
  const counted = await queryRows<{ id: string }>(
    db,
    sql`update whatsapp_sessions s
           set sent_day_count = case when s.sent_day_start = ${dayStart}::timestamptz then s.sent_day_count + 1 else 1 end,
               sent_day_start = ${dayStart}::timestamptz,
               sent_hour_count = case when s.sent_hour_start = ${hourStart}::timestamptz then s.sent_hour_count + 1 else 1 end,
               sent_hour_start = ${hourStart}::timestamptz
         where s.id = ${optOut.sessionId}::uuid
           and (s.restricted_until is null or s.restricted_until <= now())
           and (${dailyLimit}::int is null or s.sent_day_start is distinct from ${dayStart}::timestamptz or s.sent_day_count < ${dailyLimit}::int)
           and (${hourlyLimit}::int is null or s.sent_hour_start is distinct from ${hourStart}::timestamptz or s.sent_hour_count < ${hourlyLimit}::int)
        returning s.id`,
  );
  if (counted.length === 0) {
    await record(db, optOut, "held");
    log.info({ sessionId: optOut.sessionId, contactId: optOut.contactId, inboundMessageId: optOut.inboundMessageId }, "opt-out confirmation not sent: the number is at its daily or hourly limit, or restricted");
    return "held";
  }
  try {
    await waha.sendText({ session: optOut.wahaSessionName, chatId: optOut.chatId, text: optOut.confirmation });
    await record(db, optOut, "sent");
    log.info({ sessionId: optOut.sessionId, contactId: optOut.contactId, inboundMessageId: optOut.inboundMessageId }, "opt-out confirmation sent");
    return "sent";
  } catch (error) {
    // Whether it went out is unknown: the count is kept (over-counting is the safe side of a limit).
    log.warn({ err: error, sessionId: optOut.sessionId, contactId: optOut.contactId }, "opt-out confirmation could not be sent");
    await record(db, optOut, "failed");
    return "failed";
  }
}

async function record(db: Db, optOut: OptedOutByReply, outcome: Exclude<ConfirmationOutcome, "no_number">): Promise<void> {
  await db.update(inboundMessages).set({ confirmation: outcome }).where(eq(inboundMessages.id, optOut.inboundMessageId));
}
