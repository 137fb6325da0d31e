/**
 * The campaign row's life while a runner holds it: claim and the run's own state
 * changes. Every statement is conditional on the lease, so a runner that lost its campaign (pause,
 * cancel, delete, or another process took over an expired lease) changes nothing.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { type Campaign, type CampaignStatus, campaigns } from "~/server/db/schema";
import { recordCampaignEvent } from "../campaignEvents";
import { resumesByItself, systemPause } from "./pauses";
import { holderIsGone } from "./presence";
import { NOT_WAITING } from "./waiting";

/** The pause columns of a campaign that is not paused. */
export const NOT_PAUSED = { pauseReason: null, pausedAt: null, autoResumeAt: null, autoResumeEveryMs: null, autoResumeStoppedAt: null } as const;

export async function readCampaignStatus(db: Db, campaignId: string): Promise<CampaignStatus | null> {
  const [row] = await db.select({ status: campaigns.status }).from(campaigns).where(eq(campaigns.id, campaignId));
  return row?.status ?? null;
}

/**
 * One conditional UPDATE: `Scheduled` whose time has come, `Running` whose lease expired or whose
 * holder's process is gone (runner/presence.ts), or `Paused` when resuming, becomes `Running` under
 * our lease. Null when not claimable.
 */
export async function claimCampaign(
  db: Db,
  input: { campaignId: string; holder: string; leaseMs: number; resume: boolean },
): Promise<Campaign | null> {
  const claimable = sql`(
    (${campaigns.status} = 'Scheduled' and ${campaigns.scheduledAt} <= now() and (${campaigns.latestStart} is null or ${campaigns.latestStart} >= now()))
    or (${campaigns.status} = 'Running' and (${campaigns.leaseExpiresAt} is null or ${campaigns.leaseExpiresAt} <= now() or ${holderIsGone(sql`${campaigns.leaseHolder}`)}))
    or (${input.resume ? sql`true` : sql`false`} and ${campaigns.status} = 'Paused')
  )`;
  const [row] = await db
    .update(campaigns)
    .set({
      status: "Running",
      leaseHolder: input.holder,
      leaseExpiresAt: sql`now() + ${input.leaseMs}::int * interval '1 millisecond'`,
      startedAt: sql`coalesce(${campaigns.startedAt}, now())`,
      ...NOT_PAUSED,
      ...NOT_WAITING,
      updatedAt: sql`now()`,
    })
    .where(and(eq(campaigns.id, input.campaignId), claimable))
    .returning();
  return row ?? null;
}

const heldBy = (campaignId: string, holder: string) =>
  and(eq(campaigns.id, campaignId), eq(campaigns.status, "Running"), eq(campaigns.leaseHolder, holder));

/** `Completed`, only when no recipient is pending or sending (checked in the same statement). */
export async function completeCampaign(db: Db, campaignId: string, holder: string): Promise<boolean> {
  const rows = await db
    .update(campaigns)
    .set({ status: "Completed", completedAt: sql`now()`, leaseHolder: null, leaseExpiresAt: null, ...NOT_WAITING, updatedAt: sql`now()` })
    .where(
      and(
        heldBy(campaignId, holder),
        sql`not exists (select 1 from campaign_recipients r where r.campaign_id = ${campaignId} and r.status in ('pending', 'sending'))`,
      ),
    )
    .returning({ id: campaigns.id });
  return rows.length > 0;
}

/**
 * The run pauses the campaign (WAHA or the number cannot take messages). A cause the app can watch
 * clear gets its first check AUTO_RESUME_FIRST_CHECK_MS later (runner/autoResume.ts).
 */
export async function pauseRun(db: Db, campaignId: string, holder: string, reason: string, lastError: string | null): Promise<boolean> {
  const rows = await db
    .update(campaigns)
    .set(systemPause(reason, lastError, resumesByItself(reason) ? "soon" : null))
    .where(heldBy(campaignId, holder))
    .returning({ id: campaigns.id });
  if (rows.length === 0) return false;
  await recordCampaignEvent(db, { campaignId, kind: "paused", reason, detail: lastError });
  return true;
}

export async function failRun(db: Db, campaignId: string, holder: string, lastError: string): Promise<boolean> {
  const rows = await db
    .update(campaigns)
    .set({ status: "Failed", lastError, completedAt: sql`now()`, leaseHolder: null, leaseExpiresAt: null, ...NOT_WAITING, updatedAt: sql`now()` })
    .where(heldBy(campaignId, holder))
    .returning({ id: campaigns.id });
  return rows.length > 0;
}

/**
 * `latestStart` (issue 13): a due campaign that could not start by then becomes `Missed`, with the
 * reason, instead of running late (never sent). One conditional UPDATE; false when it is not such a
 * campaign (without `latestStart`, a late campaign still runs, as before).
 */
export async function markMissed(db: Db, campaignId: string): Promise<boolean> {
  const rows = await db
    .update(campaigns)
    .set({
      status: "Missed",
      missedReason: sql`'It could not start by its latest start (' || to_char(${campaigns.latestStart} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '); it was due at ' || to_char(${campaigns.scheduledAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '.'`,
      completedAt: sql`now()`,
      ...NOT_WAITING,
      updatedAt: sql`now()`,
    })
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, "Scheduled"), sql`${campaigns.scheduledAt} <= now()`, sql`${campaigns.latestStart} < now()`))
    .returning({ id: campaigns.id });
  return rows.length > 0;
}
