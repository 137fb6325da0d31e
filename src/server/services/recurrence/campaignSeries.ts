/**
 * Recurring campaigns (issue 15) as series and runs. The series is the campaign the user made (status
 * `Recurring`, with `recurrence`); it is never armed nor run. Each occurrence is a run: a real campaign
 * row (`series_id` → the series, `occurrence_at`) copying the series' message, audience, numbers, pace
 * and rules, so materialisation (the audience as it is then), sending, counts, pause, cancel and
 * recovery are the one-off engine's, unchanged.
 *
 * A series holds exactly one `Scheduled` run, its next occurrence, so 100k series cost 100k armed
 * rows like 100k one-off campaigns. When that run comes due (`onRunDue`, called by the scheduler
 * before it starts a run), in one transaction: the run is skipped (`Missed`, "the previous run was
 * still running") if an earlier run of the series is still `Running` or `Paused`, and the following
 * run is created. Creating it is idempotent (unique (series_id, occurrence_at)); a series left without
 * its next run (a crash between the two) gets it from `repairSeries`, which the scheduler calls at
 * start and with its housekeeping.
 */
import { and, desc, eq, inArray, lt, ne, sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import { type Campaign, campaigns } from "~/server/db/schema";
import { type CampaignCounts, campaignProgress } from "../campaignProgress";
import { nextOccurrence, nextOccurrences } from "./rule";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
type DbOrTx = Db | Tx;

/** Why a run that came due was not started: shown as its `missedReason`. */
export const PREVIOUS_RUN_STILL_RUNNING = "the previous run was still running";

/**
 * A run is due by the scheduler's clock up to this much before its time: the job or timer that fires it
 * runs on another clock (pg-boss: the database's), and the claim still checks the database's.
 */
const DUE_TOLERANCE_MS = 5_000;

export interface ArmableRun {
  id: string;
  scheduledAt: Date;
}

export type RunDueDecision =
  /** Start it (a campaign that is not a series run always is). */
  | { action: "start"; next: ArmableRun | null }
  /** Recorded as `Missed`: an earlier run of its series is still going. */
  | { action: "skipped"; next: ArmableRun | null }
  /** Not yet due by the scheduler's clock, or no longer `Scheduled`: nothing to do now. */
  | { action: "none"; next: ArmableRun | null };

/** The series' settings as a run at `occurrenceAt`: everything but its identity, its rule and its run state. */
function runValues(series: Campaign, occurrenceAt: Date) {
  const {
    id,
    status: _status,
    createdAt: _createdAt,
    updatedAt: _updatedAt,
    scheduledAt: _scheduledAt,
    recurrence: _recurrence,
    seriesId: _seriesId,
    occurrenceAt: _occurrenceAt,
    latestStart: _latestStart,
    pauseReason: _pauseReason,
    pausedAt: _pausedAt,
    autoResumeAt: _autoResumeAt,
    autoResumeEveryMs: _autoResumeEveryMs,
    autoResumeStoppedAt: _autoResumeStoppedAt,
    lastError: _lastError,
    missedReason: _missedReason,
    waitingReason: _waitingReason,
    waitingUntil: _waitingUntil,
    waitingDetail: _waitingDetail,
    startedAt: _startedAt,
    completedAt: _completedAt,
    recipientsMaterializedAt: _materializedAt,
    recipientsPreparedFor: _preparedFor,
    leaseHolder: _leaseHolder,
    leaseExpiresAt: _leaseExpiresAt,
    ...settings
  } = series;
  // A series has no latest start (campaigns.ts refuses one): a run that cannot start waits like any campaign.
  return { ...settings, status: "Scheduled" as const, seriesId: id, occurrenceAt, scheduledAt: occurrenceAt, latestStart: null };
}

/** The run of `series` at `occurrenceAt`, with the series' numbers; null when it already exists. */
export async function createRun(db: DbOrTx, series: Campaign, occurrenceAt: Date): Promise<ArmableRun | null> {
  const [run] = await db
    .insert(campaigns)
    .values(runValues(series, occurrenceAt))
    .onConflictDoNothing({ target: [campaigns.seriesId, campaigns.occurrenceAt] })
    .returning({ id: campaigns.id, scheduledAt: campaigns.scheduledAt });
  if (!run) return null;
  await db.execute(sql`insert into campaign_sessions (campaign_id, session_id, position)
    select ${run.id}, session_id, position from campaign_sessions where campaign_id = ${series.id}`);
  return { id: run.id, scheduledAt: run.scheduledAt! };
}

/**
 * The series' next run after `after`, or, when `until` leaves none, the series ends (`Completed`).
 * Null when nothing new is to be armed: the series already has a `Scheduled` run (other than
 * `dueRunId`, the one coming due now), or it ended. Only for a series still `Recurring`, whose row
 * the caller holds locked: so a series never holds two `Scheduled` runs.
 */
async function advance(db: DbOrTx, series: Campaign, after: Date, dueRunId: string | null = null): Promise<ArmableRun | null> {
  const [armed] = await db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.seriesId, series.id), eq(campaigns.status, "Scheduled"), dueRunId ? ne(campaigns.id, dueRunId) : undefined))
    .limit(1);
  if (armed) return null;
  const occurrenceAt = series.recurrence ? nextOccurrence(series.recurrence, after) : null;
  if (!occurrenceAt) {
    await db
      .update(campaigns)
      .set({ status: "Completed", completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(campaigns.id, series.id), eq(campaigns.status, "Recurring")));
    return null;
  }
  // The series' `scheduledAt` reads as its next run (the list and the page show it).
  await db
    .update(campaigns)
    .set({ scheduledAt: occurrenceAt, updatedAt: sql`now()` })
    .where(and(eq(campaigns.id, series.id), eq(campaigns.status, "Recurring")));
  return createRun(db, series, occurrenceAt);
}

/**
 * The series row, locked until the transaction ends: whatever makes its runs (a run coming due, the
 * repair, an edit) and a cancel take their turns, one at a time per series.
 */
async function lockSeries(tx: Tx, seriesId: string): Promise<Campaign | null> {
  const [series] = await tx.select().from(campaigns).where(eq(campaigns.id, seriesId)).for("update");
  return series ?? null;
}

/**
 * A campaign came due and the scheduler is about to start it. For a series run: skip it when an
 * earlier run is still going, and create the following run, in one transaction.
 */
export async function onRunDue(db: Db, campaignId: string, now: Date): Promise<RunDueDecision> {
  // A one-off campaign: one read, nothing locked.
  const [peek] = await db.select({ seriesId: campaigns.seriesId, occurrenceAt: campaigns.occurrenceAt }).from(campaigns).where(eq(campaigns.id, campaignId));
  if (!peek?.seriesId || !peek.occurrenceAt) return { action: "start", next: null };
  const { seriesId, occurrenceAt } = peek;
  if (occurrenceAt.getTime() > now.getTime() + DUE_TOLERANCE_MS) return { action: "none", next: null };
  return db.transaction(async (tx) => {
    // The series first, then the run: the order every writer of a series' runs takes.
    const series = await lockSeries(tx, seriesId);
    const [run] = await tx.select({ id: campaigns.id, status: campaigns.status }).from(campaigns).where(eq(campaigns.id, campaignId)).for("update");
    if (!run) return { action: "none", next: null };
    const next = series?.status === "Recurring" ? await advance(tx, series, new Date(Math.max(occurrenceAt.getTime(), now.getTime())), run.id) : null;
    if (run.status !== "Scheduled") return { action: "none", next };
    const [previous] = await tx
      .select({ id: campaigns.id })
      .from(campaigns)
      .where(and(eq(campaigns.seriesId, seriesId), lt(campaigns.occurrenceAt, occurrenceAt), inArray(campaigns.status, ["Running", "Paused"])))
      .limit(1);
    if (!previous) return { action: "start", next };
    await tx
      .update(campaigns)
      .set({ status: "Missed", missedReason: PREVIOUS_RUN_STILL_RUNNING, completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(campaigns.id, run.id), eq(campaigns.status, "Scheduled")));
    return { action: "skipped", next };
  });
}

/**
 * A new series (or one whose rule changed): its first run at the first occurrence after `after`.
 * Runs not started yet are replaced (an edit changes the next run too).
 */
export async function planFirstRun(db: Db, seriesId: string, after: Date): Promise<{ replaced: string[]; next: ArmableRun | null }> {
  return db.transaction(async (tx) => {
    const series = await lockSeries(tx, seriesId);
    if (series?.status !== "Recurring") return { replaced: [], next: null };
    const replaced = await tx
      .delete(campaigns)
      .where(and(eq(campaigns.seriesId, seriesId), eq(campaigns.status, "Scheduled")))
      .returning({ id: campaigns.id });
    return { replaced: replaced.map((row) => row.id), next: await advance(tx, series, after) };
  });
}

/**
 * Series still `Recurring` without a `Scheduled` run (the process stopped between a run's start and
 * the next one's creation, or a user cancelled only the next run): each gets its next run after the
 * later of its last occurrence and `now`. Answers the runs created, to arm.
 */
export async function repairSeries(db: Db, now: Date): Promise<ArmableRun[]> {
  // EXCEPT, not NOT EXISTS: without statistics (PGlite) the planner nests NOT EXISTS into a loop
  // over every series (quadratic: 1 s for 2,000 series measured); a set difference stays linear.
  const orphans = await queryRows<{ id: string }>(
    db,
    sql`select id from campaigns where status = 'Recurring'
        except
        select series_id from campaigns where status = 'Scheduled' and series_id is not null`,
  );
  const created: ArmableRun[] = [];
  for (const { id } of orphans) {
    const next = await db.transaction(async (tx) => {
      const series = await lockSeries(tx, id);
      if (series?.status !== "Recurring") return null;
      const [last] = await tx
        .select({ at: sql<Date | null>`max(${campaigns.occurrenceAt})`.mapWith((value: string | Date | null) => (value ? new Date(value) : null)) })
        .from(campaigns)
        .where(eq(campaigns.seriesId, id));
      const after = last?.at && last.at.getTime() > now.getTime() ? last.at : now;
      return advance(tx, series, after);
    });
    if (next) created.push(next);
  }
  return created;
}

/** The `Scheduled` runs of a series (one, normally): what cancelling the series cancels. */
export async function scheduledRuns(db: Db, seriesId: string): Promise<string[]> {
  const rows = await db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.seriesId, seriesId), eq(campaigns.status, "Scheduled")));
  return rows.map((row) => row.id);
}

export interface SeriesRun {
  id: string;
  occurrenceAt: string;
  status: Campaign["status"];
  missedReason: string | null;
  startedAt: string | null;
  completedAt: string | null;
  counts: CampaignCounts;
}

/** A series' runs (newest first, at most `limit`) with their counts, and its next occurrences in its zone. */
export async function seriesOverview(db: Db, series: Campaign, now: Date, limit = 50): Promise<{ runs: SeriesRun[]; nextOccurrences: string[] }> {
  const rows = await db.select().from(campaigns).where(eq(campaigns.seriesId, series.id)).orderBy(desc(campaigns.occurrenceAt)).limit(limit);
  const progress = await campaignProgress(db, rows);
  const runs = rows.map((row) => {
    return {
      id: row.id,
      occurrenceAt: (row.occurrenceAt ?? row.scheduledAt ?? row.createdAt).toISOString(),
      status: row.status,
      missedReason: row.missedReason,
      startedAt: row.startedAt?.toISOString() ?? null,
      completedAt: row.completedAt?.toISOString() ?? null,
      counts: progress.get(row.id)!.counts,
    };
  });
  // From the next run's time (or now), so the list starts with the run already armed.
  const scheduled = rows.filter((row) => row.status === "Scheduled").map((row) => row.occurrenceAt!.getTime());
  const from = scheduled.length > 0 ? new Date(Math.min(...scheduled) - 1) : now;
  const upcoming = series.status === "Recurring" && series.recurrence ? nextOccurrences(series.recurrence, from, 5) : [];
  return { runs, nextOccurrences: upcoming.map((at) => at.toISOString()) };
}

