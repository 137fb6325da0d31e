import { and, asc, eq, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { campaigns } from "~/server/db/schema";
import { holderIsGone } from "../runner/presence";
import { purgeExpiredAuthRows } from "../auth/purge";
import { pruneWebhookEvents } from "../wahaWebhooks";
import { pruneWebhookOutbox } from "../outgoingWebhooks/retention";

/**
 * What the scheduler reads from the database, and the pure decision the periodic sweep (and
 * `initialize()`) makes from it. The database is the truth; timers and queued jobs are only a way
 * to be on time, so the sweep puts them back in step with it.
 */

export interface ScheduledCampaign {
  id: string;
  scheduledAt: Date;
}

/** `Scheduled` campaigns due by `dueBy` (past ones included), soonest first. */
export async function findScheduledCampaigns(db: Db, dueBy: Date): Promise<ScheduledCampaign[]> {
  const rows = await db
    .select({ id: campaigns.id, scheduledAt: campaigns.scheduledAt })
    .from(campaigns)
    .where(and(eq(campaigns.status, "Scheduled"), lte(campaigns.scheduledAt, dueBy)))
    .orderBy(asc(campaigns.scheduledAt));
  // `lte` leaves out a null time (only a Draft has none); this tells TypeScript so.
  return rows.flatMap(({ id, scheduledAt }) => (scheduledAt ? [{ id, scheduledAt }] : []));
}

/** `Running` campaigns whose lease expired, or whose process is gone (runner/presence.ts): the runner's claim takes them over. */
export async function findStaleRunningCampaigns(db: Db, now: Date): Promise<string[]> {
  const rows = await db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.status, "Running"), or(isNull(campaigns.leaseExpiresAt), lt(campaigns.leaseExpiresAt, now), holderIsGone(sql`${campaigns.leaseHolder}`))));
  return rows.map((row) => row.id);
}

/** The campaign's current schedule, or null when it no longer exists. */
export async function findCampaignSchedule(
  db: Db,
  campaignId: string,
): Promise<{ status: string; scheduledAt: Date | null } | null> {
  const rows = await db
    .select({ status: campaigns.status, scheduledAt: campaigns.scheduledAt })
    .from(campaigns)
    .where(eq(campaigns.id, campaignId))
    .limit(1);
  return rows[0] ?? null;
}

export interface SweepInput {
  /** From `findScheduledCampaigns(db, now + horizon)`. */
  scheduled: ScheduledCampaign[];
  now: Date;
  /** Whether a timer or job is armed for this campaign at its current `scheduledAt`. */
  isArmed(campaign: ScheduledCampaign): boolean;
  /**
   * A due campaign armed here is left to its own timer or job for this long after its time (it is
   * firing right now); later, or when nothing is armed for it, it counts as missed.
   */
  missedGraceMs: number;
}

export interface SweepPlan {
  /** Future campaigns with nothing armed for their time. */
  arm: ScheduledCampaign[];
  /** Due campaigns nobody started: run them now, with a warning. */
  missed: ScheduledCampaign[];
}

export function planSweep(input: SweepInput): SweepPlan {
  const plan: SweepPlan = { arm: [], missed: [] };
  const now = input.now.getTime();
  for (const campaign of input.scheduled) {
    const dueAt = campaign.scheduledAt.getTime();
    const armed = input.isArmed(campaign);
    if (dueAt > now) {
      if (!armed) plan.arm.push(campaign);
    } else if (!armed || now - dueAt > input.missedGraceMs) {
      plan.missed.push(campaign);
    }
  }
  return plan;
}

/** Housekeeping runs with the sweep, but at most this often per process (its rows expire in hours, not seconds). */
export const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

/**
 * Rows whose time is over: ended or idle log-in sessions, old throttle rows, expired invites, old webhook
 * event ids, outgoing webhook deliveries finished more than 30 days ago.
 */
export async function purgeExpiredRows(db: Db) {
  return { ...(await purgeExpiredAuthRows(db)), webhookEvents: await pruneWebhookEvents(db), webhookDeliveries: await pruneWebhookOutbox(db) };
}
