/**
 * A Running campaign held back by a limit, a window, a batch pause or a busy number says so in its
 * row (`waiting_reason`, `waiting_until`, `waiting_detail`), and clears it when it sends again. The
 * run writes only when what it waits for changes, so waiting costs no statement per message.
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { campaigns } from "~/server/db/schema";
import type { Waiting } from "./sendRules";

export const NOT_WAITING = { waitingReason: null, waitingUntil: null, waitingDetail: null } as const;

/** Records (or, with null, clears) why the campaign waits; only while it is Running under `holder`. */
export async function recordWaiting(db: Db, campaignId: string, holder: string, waiting: Waiting | null): Promise<void> {
  await db
    .update(campaigns)
    .set(waiting ? { waitingReason: waiting.reason, waitingUntil: waiting.until, waitingDetail: waiting.detail } : NOT_WAITING)
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, "Running"), eq(campaigns.leaseHolder, holder)));
}

