/**
 * Recovery: recipients found `sending` when a run (re)starts or finishes were interrupted (a crash,
 * or a runner that lost the campaign mid-send). Each is settled by asking WAHA (runner/lookup.ts):
 * found -> `sent`; not found under a message id WAHA fixed -> `pending` (sent again later);
 * WAHA unreachable -> left `sending`, the campaign pauses and asks again on resume; WAHA cannot
 * know -> `unknown`. Never resent blindly.
 *
 * A campaign over several numbers settles each number's rows under that number's slot (issue 15).
 * The number's send slot is taken first: every sender holds it for as long as its call can last, so
 * once we hold it, no send for these rows can still be in flight or arrive at WAHA late.
 */
import type { Logger } from "pino";
import type { Db } from "~/server/db/client";
import { maskPhone } from "~/server/logger";
import type { WahaApiClient } from "../waha/client";
import { type RetryPolicy, backoffMs } from "./delivery";
import { PAUSE_REASONS, type PauseReason, pauseReasonFor } from "./pauses";
import { lookupMessage } from "./lookup";
import type { SlotWakeups } from "~/server/db/notifications";
import { type RecipientOutcome, type SlotKey, extendSlot, listSendingRecipients, sendStep } from "./sendSlot";

export type RecoveryResult =
  | { kind: "settled" }
  /** The campaign is no longer this run's. */
  | { kind: "lost" }
  /** WAHA cannot answer for the session now: pause; the rows stay `sending` until the next run. */
  | { kind: "pause"; reason: PauseReason; error: string };

export interface RecoveryContext {
  db: Db;
  client: WahaApiClient;
  session: string;
  key: SlotKey;
  retry: RetryPolicy;
  log: Logger;
  leaseLost: () => boolean;
  sleep: (ms: number) => Promise<void>;
  /** Longest single wait before re-checking the campaign. */
  maxWaitMs: number;
  /** Wakes the wait for a busy number when its slot is freed. */
  slotWakeups: SlotWakeups;
}

export async function settleInterruptedSends(ctx: RecoveryContext): Promise<RecoveryResult> {
  const { db, key } = ctx;
  if ((await listSendingRecipients(db, key.campaignId, key.sessionId)).length === 0) return { kind: "settled" };
  for (;;) {
    if (ctx.leaseLost()) return { kind: "lost" };
    const take = await sendStep(db, key, { take: "slot" });
    if (!take.leaseOk) return { kind: "lost" };
    if (take.slotTaken) break;
    // A send in flight, a dead runner's slot not yet expired, or the number's delay: wait.
    const waitMs = Math.min(Math.max(take.waitMs, 1), ctx.maxWaitMs);
    if (take.slotBusy) await ctx.slotWakeups.waitForRelease(key.sessionId, waitMs);
    else await ctx.sleep(waitMs);
  }
  try {
    // Read again under the slot: a live sender may have settled its row meanwhile.
    for (const row of await listSendingRecipients(db, key.campaignId, key.sessionId)) {
      await extendSlot(db, key);
      let found = await lookupMessage(ctx.client, ctx.session, row);
      for (let retry = 1; found.kind === "unknown" && found.retryable && retry < ctx.retry.attempts; retry++) {
        await ctx.sleep(backoffMs(ctx.retry, retry));
        found = await lookupMessage(ctx.client, ctx.session, row);
      }
      if (found.kind === "session_unavailable") {
        return { kind: "pause", reason: pauseReasonFor(found.error) ?? PAUSE_REASONS.sessionNotWorking, error: found.error.message };
      }
      if (found.kind === "unknown" && found.retryable) {
        // WAHA is unreachable: it may yet tell. The row stays `sending`; the resume asks again.
        return { kind: "pause", reason: PAUSE_REASONS.wahaUnavailable, error: found.reason };
      }
      const outcome: RecipientOutcome =
        found.kind === "sent"
          ? { status: "sent", wahaMessageId: found.wahaMessageId, ack: found.ack }
          : found.kind === "absent"
            ? { status: "pending", error: "interrupted before WAHA accepted it; sent again" }
            : { status: "unknown", error: found.reason };
      await sendStep(db, key, { settle: { recipient: row, outcome }, take: "none" });
      ctx.log.warn({ recipientId: row.id, phone: maskPhone(row.phone), decision: outcome.status }, "settled a send that was interrupted");
    }
    return { kind: "settled" };
  } finally {
    await sendStep(db, key, { release: { nextDelayMs: null }, take: "none" });
  }
}
