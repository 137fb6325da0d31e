/**
 * How a campaign's start is armed: the one interface the scheduler talks to, implemented by the
 * node-cron driver (a timer per campaign in this process) and the pg-boss driver (a delayed job in
 * PostgreSQL, run by whichever worker takes it). The scheduler never asks which one it has.
 */
import type { ScheduledTask } from "node-cron";
import type { ScheduledCampaign } from "./sweep";

export type SchedulerDriver = "node-cron" | "pg-boss";
export type RunReason = "scheduled" | "missed" | "recover" | "now" | "resume";

/** What a driver hands its starts to: the scheduler's runs in this process. */
export interface DriverRuns {
  /** A campaign whose time has come (asked again a few times while the database says it is not yet due). */
  runDue(campaignId: string, scheduledAt: Date): Promise<{ claimed: boolean; status: string | null } | null>;
  /** Any other start; `resume` also takes a Paused campaign. */
  run(campaignId: string, reason: RunReason, options?: { resume?: boolean }): Promise<unknown>;
}

export interface StartDriver {
  readonly name: SchedulerDriver;
  /** node-cron: the armed task of each campaign (the seed plan's `scheduledJobs`); pg-boss: always empty. */
  readonly armedTasks: Map<string, ScheduledTask>;
  /** A due campaign armed by this driver is left to its own timer or job this long before the sweep starts it. */
  readonly missedGraceMs: number;
  /** Starts the queue and, where this process runs campaigns, taking starts (node-cron: nothing to do). */
  start(): Promise<void>;
  /** Arms one start at `scheduledAt` (in the future), replacing the campaign's earlier one. */
  arm(campaign: ScheduledCampaign): Promise<void>;
  /** The sweep's campaigns with nothing armed; one that became due meanwhile is started now. */
  armMany(campaigns: ScheduledCampaign[]): Promise<void>;
  /** Removes the campaign's armed start; false when there was none. */
  cancel(campaignId: string): Promise<boolean>;
  /** Which of these campaigns have a start armed for their current time. */
  armedCheck(scheduled: ScheduledCampaign[]): Promise<(campaign: ScheduledCampaign) => boolean>;
  /** Drops armed starts the database no longer agrees with (armed before `queriedAt`); how many. */
  disarmStale(scheduled: ScheduledCampaign[], queriedAt: number): number;
  /** Runs the campaign now: in this process, or queued for a worker. */
  startNow(campaignId: string, reason: RunReason, options?: { resume?: boolean }): Promise<void>;
  /** How many starts are armed (node-cron: timers here; pg-boss: queued future jobs seen at the last sweep). */
  armedCount(): number;
  /** Stops arming and taking starts; armed timers are destroyed, queued jobs stay for other processes. */
  stop(): Promise<void>;
}
