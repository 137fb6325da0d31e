/**
 * SchedulerService: starts each campaign at its `scheduledAt` (the seed plan,
 * shared/seed/job-scheduling-plan.md, made durable as shared/DESIGN.md §3 describes).
 *
 * A `StartDriver` (scheduling/startDriver.ts) arms the start, and the scheduler never asks which:
 * - "node-cron": one node-cron task per campaign due within the horizon, in this process;
 * - "pg-boss": one delayed pg-boss job per (campaign, scheduledAt) in PostgreSQL; "web" processes
 *   only queue, "worker" processes (npm run worker) only execute, "all" does both.
 * Every path ends in `CampaignRunnerService.runCampaign(id)`, whose claim (one conditional UPDATE)
 * decides who runs. So timers, jobs, the sweep and other processes may all race: a second start
 * finds nothing to claim. The database is the truth; a periodic sweep (every process, every 30 s)
 * puts timers and jobs back in step with it and starts what was missed.
 */
import type { PGlite } from "@electric-sql/pglite";
import type { ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Db } from "~/server/db/client";
import { childLogger } from "~/server/logger";
import type { CampaignRunnerOptions } from "./runner/campaignRunner";
import { CampaignRuns, type RunOutcome } from "./scheduling/campaignRuns";
import { NodeCronStartDriver, scheduleSweep } from "./scheduling/nodeCronDriver";
import { PgBossStartDriver } from "./scheduling/pgBossDriver";
import { RecipientPreparer } from "./scheduling/prepareRecipients";
import { SchedulerError } from "./scheduling/schedulerError";
import type { DriverRuns, SchedulerDriver, StartDriver } from "./scheduling/startDriver";
import { findCampaignSchedule, findScheduledCampaigns, findStaleRunningCampaigns, HOUSEKEEPING_INTERVAL_MS, planSweep, purgeExpiredRows } from "./scheduling/sweep";
import type { WahaApiClient } from "./waha/client";
import { type ArmableRun, onRunDue, planFirstRun, repairSeries } from "./recurrence/campaignSeries";

export { SchedulerError, type SchedulerErrorCode } from "./scheduling/schedulerError";
export type { SchedulerDriver } from "./scheduling/startDriver";
export type SchedulerRole = "all" | "web" | "worker";

export interface SchedulerOptions {
  /** Default "node-cron". */
  driver?: SchedulerDriver;
  /** pg-boss: "web" only queues, "worker" only executes, "all" (default) both. node-cron: ignored. */
  role?: SchedulerRole;
  /** pg-boss: the PostgreSQL URL it connects with (its own small pool). */
  databaseUrl?: string | null;
  /** pg-boss without PostgreSQL: runs on this embedded database through an executeSql adapter. */
  pglite?: PGlite | null;
  runnerOptions?: CampaignRunnerOptions;
  /** How often the sweep runs (six-field cron, UTC). Default every 30 s. */
  sweepCron?: string;
  /** node-cron: only campaigns due within this are given a timer; the sweep arms the rest as they come near. Default 24 h. */
  horizonMs?: number;
  /** stop(): how long to wait for runs in progress before leaving them to their lease. Default 10 s. */
  stopTimeoutMs?: number;
  /** pg-boss worker tuning: polling interval (min 0.5 s, default 0.5) and jobs per fetch (default 100). */
  pgBoss?: { pollingIntervalSeconds?: number; batchSize?: number };
  logger?: Logger;
  /**
   * The scheduler's clock for recurring campaigns (issue 15): when a series' run is due, and from when
   * its next occurrence is counted; also the sweep's "now" for what is due. Default: the real clock.
   * Tests move it to cross a daylight-saving change without waiting (the claim still reads the
   * database's clock, so a run's time must also have passed there).
   */
  clock?: () => Date;
}

export interface SchedulerStatus {
  driver: SchedulerDriver;
  initialized: boolean;
  /** node-cron: timers armed in this process. pg-boss: campaigns within the horizon with a queued job, at the last sweep. */
  armedJobs: number;
  lastSweepAt: Date | null;
}

const DEFAULT_SWEEP_CRON = "*/30 * * * * *";
const DEFAULT_HORIZON_MS = 24 * 60 * 60 * 1000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** A due campaign that was not claimed but is still `Scheduled` at its time is tried again after these waits. */
const DUE_RETRIES_MS = [100, 200, 400, 800, 1_600];

export class SchedulerService {
  /** campaignId -> its node-cron task (as the plan names it). Always empty with pg-boss. */
  readonly scheduledJobs: Map<string, ScheduledTask>;

  private readonly driver: StartDriver;
  private readonly logger: Logger;
  private readonly sweepCron: string;
  private readonly horizonMs: number;
  private readonly stopTimeoutMs: number;
  private readonly runs: CampaignRuns;
  private sweepTask: ScheduledTask | null = null;
  private currentSweep: Promise<void> | null = null;
  private initializing: Promise<void> | null = null;
  private initialized = false;
  private stopping: Promise<void> | null = null;
  private lastSweepAt: Date | null = null;
  private lastHousekeepingAt = 0;
  private readonly clock: () => Date;
  /** Recipients of campaigns due within minutes, made ahead (issue 15, big campaigns). */
  private readonly recipientsAhead: RecipientPreparer;

  constructor(
    private readonly db: Db,
    private readonly wahaApiClient: WahaApiClient,
    options: SchedulerOptions = {},
  ) {
    this.logger = options.logger ?? childLogger("scheduler");
    this.runs = new CampaignRuns(db, wahaApiClient, options.runnerOptions, this.logger);
    this.recipientsAhead = new RecipientPreparer(db, this.logger);
    this.sweepCron = options.sweepCron ?? DEFAULT_SWEEP_CRON;
    this.horizonMs = options.horizonMs ?? DEFAULT_HORIZON_MS;
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.clock = options.clock ?? (() => new Date());
    const runs: DriverRuns = {
      runDue: (campaignId, scheduledAt) => this.runWhenDue(campaignId, scheduledAt),
      run: async (campaignId, reason, runOptions = {}) => {
        // A missed start (the sweep's, or a timer's missed execution) passes the series' check too.
        if (reason === "missed" && !(await this.seriesAllowsStart(campaignId).catch((error: unknown) => this.seriesGateFailed(campaignId, error)))) return null;
        return this.runs.start(campaignId, reason, runOptions);
      },
    };
    this.driver = createStartDriver(options, runs, { horizonMs: this.horizonMs, logger: this.logger });
    this.scheduledJobs = this.driver.armedTasks;
  }

  /**
   * Once per process, after migrations and before traffic: arms the `Scheduled` campaigns due within
   * the horizon, starts the missed ones (with a warning), takes over `Running` campaigns whose
   * process died, and starts the sweep. A second call does nothing.
   */
  async initialize(): Promise<void> {
    if (this.stopping) throw new SchedulerError("This scheduler was stopped; create a new one", "STOPPED");
    if (this.initializing) {
      this.logger.warn("scheduler.initialize() called again; it runs once per process, ignoring this call");
      return this.initializing;
    }
    this.initializing = this.start().catch((error: unknown) => {
      this.initializing = null;
      throw error;
    });
    return this.initializing;
  }

  /**
   * Arms the campaign to start once at `scheduledAt` (UTC instant). Re-scheduling replaces the
   * campaign's earlier job. A time not in the future is refused.
   */
  async scheduleCampaignJob(campaign: { id: string; scheduledAt: Date }): Promise<void> {
    this.assertNotStopped();
    const scheduledAt = campaign.scheduledAt;
    if (!(scheduledAt instanceof Date) || Number.isNaN(scheduledAt.getTime())) {
      throw new SchedulerError(`Campaign ${campaign.id}: scheduledAt is not a valid date`, "INVALID_DATE");
    }
    const now = Date.now();
    if (scheduledAt.getTime() <= now) {
      throw new SchedulerError(
        `Campaign ${campaign.id}: scheduledAt ${scheduledAt.toISOString()} is not in the future (now ${new Date(now).toISOString()}); choose a later time`,
        "NOT_IN_FUTURE",
      );
    }
    await this.driver.arm({ id: campaign.id, scheduledAt });
    this.recipientsAhead.prepareSoon({ id: campaign.id, scheduledAt }, now);
  }

  /** Removes the campaign's timer or queued job (the claim refuses a campaign no longer `Scheduled` anyway). */
  async cancelCampaignJob(campaignId: string): Promise<void> {
    if (await this.driver.cancel(campaignId)) this.logger.info({ campaignId }, "campaign job cancelled");
    else this.logger.warn({ campaignId }, "no scheduled job to cancel for this campaign");
  }

  /**
   * A recurring campaign (status `Recurring`) was created or its rule or settings changed: its run not
   * started yet is replaced by one at its next occurrence (by this scheduler's clock), and armed.
   */
  async planSeries(seriesId: string): Promise<void> {
    this.assertNotStopped();
    const { replaced, next } = await planFirstRun(this.db, seriesId, this.clock());
    for (const runId of replaced) await this.driver.cancel(runId);
    if (next) await this.armRun(next);
  }

  /** Runs the campaign now, in the background: a due one, or a `Paused` one with `{ resume: true }`. */
  async startCampaignNow(campaignId: string, options: { resume?: boolean } = {}): Promise<void> {
    this.assertNotStopped();
    await this.driver.startNow(campaignId, options.resume ? "resume" : "now", options.resume ? { resume: true } : {});
  }

  status(): SchedulerStatus {
    return { driver: this.driver.name, initialized: this.initialized, armedJobs: this.driver.armedCount(), lastSweepAt: this.lastSweepAt };
  }

  /**
   * Destroys every timer, stops the sweep and pg-boss, then waits (up to `stopTimeoutMs`) for runs in
   * progress. A run still going after that is left to its lease: it expires and a sweep elsewhere
   * takes the campaign over, continuing with the next pending recipient.
   */
  async stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.shutdown();
    return this.stopping;
  }

  /** The plan's `runMissedCampaign`: a campaign whose time passed while no timer or job started it. */
  private async runMissedCampaign(campaignId: string): Promise<void> {
    try {
      this.logger.info({ campaignId }, "starting missed campaign");
      await this.driver.startNow(campaignId, "missed");
    } catch (error) {
      // The sweep tries again in a moment.
      this.logger.error({ campaignId, err: error }, "missed campaign could not be started");
    }
  }

  /**
   * Runs a campaign whose time has come. When the claim did not happen although the campaign is still
   * `Scheduled` at this very time, ask again a few times before leaving it to the sweep: the database's
   * clock may lag behind ours (node-cron), or the attempt failed before claiming (a dropped connection).
   */
  private async runWhenDue(campaignId: string, scheduledAt: Date): Promise<RunOutcome | null> {
    if (!(await this.seriesAllowsStart(campaignId).catch((error: unknown) => this.seriesGateFailed(campaignId, error)))) return null;
    let outcome = await this.runs.start(campaignId, "scheduled");
    for (const waitMs of DUE_RETRIES_MS) {
      if (outcome?.claimed || (outcome && outcome.status !== "Scheduled") || this.stopping) break;
      const current = await findCampaignSchedule(this.db, campaignId).catch(() => null);
      if (current?.status !== "Scheduled" || current.scheduledAt?.getTime() !== scheduledAt.getTime()) break;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      outcome = await this.runs.start(campaignId, "scheduled");
    }
    return outcome;
  }

  /**
   * Before a due campaign starts: when it is a recurring campaign's run, the series decides
   * (recurrence/campaignSeries.ts `onRunDue`, one transaction): skip it when the previous run is still
   * going, and create the following run, which is armed here. False: do not start it.
   */
  private async seriesAllowsStart(campaignId: string): Promise<boolean> {
    const decision = await onRunDue(this.db, campaignId, this.clock());
    if (decision.next) await this.armRun(decision.next);
    if (decision.action === "skipped") {
      this.logger.warn({ campaignId }, "recurring campaign's run skipped: the previous run was still running");
    }
    return decision.action === "start";
  }

  private seriesGateFailed(campaignId: string, error: unknown): false {
    // Not started now rather than perhaps beside a run still going; the sweep tries again.
    this.logger.error({ campaignId, err: error }, "could not check the campaign's series before starting it");
    return false;
  }

  /** A series' run, armed like any campaign (its time is never in the past with the real clock). */
  private async armRun(run: ArmableRun): Promise<void> {
    await this.driver.arm({ id: run.id, scheduledAt: run.scheduledAt });
  }

  /** Series left without their next run (a stop between a run's start and the next one's creation) get it. */
  private async repairSeries(): Promise<number> {
    const created = await repairSeries(this.db, this.clock());
    for (const run of created) await this.armRun(run);
    if (created.length > 0) this.logger.warn({ runs: created.length }, "recurring campaigns without their next run: created and armed");
    return created.length;
  }

  // ------------------------------------------------------------------ start, sweep, stop

  private async start(): Promise<void> {
    const startedAt = Date.now();
    await this.driver.start();
    await this.repairSeries();
    const summary = await this.reconcile("initialize");
    this.sweepTask = scheduleSweep(this.sweepCron, () => this.sweep(), this.logger);
    this.initialized = true;
    this.logger.info({ driver: this.driver.name, ...summary, durationMs: Date.now() - startedAt }, "scheduler initialized");
  }

  private async sweep(): Promise<void> {
    if (this.stopping || this.currentSweep) return;
    this.currentSweep = this.reconcile("sweep")
      .then((summary) => {
        if (summary.armed + summary.missed + summary.recovered + summary.disarmed > 0) this.logger.info(summary, "sweep");
        else this.logger.debug(summary, "sweep");
      })
      .then(() => this.housekeeping())
      .then(() => this.prepareDueRecipients())
      .catch((error: unknown) => this.logger.error({ err: error }, "sweep failed"))
      .finally(() => {
        this.currentSweep = null;
      });
    return this.currentSweep;
  }

  /** Campaigns due within minutes get their recipients now, so they send at their time (scheduling/prepareRecipients.ts). */
  private async prepareDueRecipients(): Promise<void> {
    await this.recipientsAhead.prepareDue().catch((error: unknown) => this.logger.warn({ err: error }, "recipients not prepared ahead"));
  }

  /** Expired rows go, at most every HOUSEKEEPING_INTERVAL_MS (the first sweep after start does it). */
  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastHousekeepingAt < HOUSEKEEPING_INTERVAL_MS) return;
    this.lastHousekeepingAt = Date.now();
    const removed = await purgeExpiredRows(this.db);
    this.logger.debug(removed, "housekeeping: expired rows removed");
    await this.repairSeries();
  }

  /** Puts timers / queued jobs in step with the database, starts missed campaigns, takes over dead runs. */
  private async reconcile(kind: "initialize" | "sweep") {
    const queriedAt = Date.now();
    const now = new Date(queriedAt);
    // What is due follows the scheduler's clock (the real one, unless a test moves it).
    const planNow = this.clock();
    const scheduled = await findScheduledCampaigns(this.db, new Date(planNow.getTime() + this.horizonMs));
    const plan = planSweep({
      scheduled,
      now: planNow,
      isArmed: await this.driver.armedCheck(scheduled),
      missedGraceMs: kind === "initialize" ? 0 : this.driver.missedGraceMs,
    });
    await this.driver.armMany(plan.arm);

    for (const campaign of plan.missed) {
      this.logger.warn(
        { campaignId: campaign.id, scheduledAt: campaign.scheduledAt.toISOString(), lateMs: queriedAt - campaign.scheduledAt.getTime() },
        "campaign missed its scheduled time; starting it now",
      );
      void this.runMissedCampaign(campaign.id);
    }

    const disarmed = kind === "sweep" ? this.driver.disarmStale(scheduled, queriedAt) : 0;

    let recovered = 0;
    for (const campaignId of await findStaleRunningCampaigns(this.db, now)) {
      if (this.runs.isRunning(campaignId)) continue;
      recovered++;
      this.logger.warn({ campaignId }, "running campaign's lease expired (its process stopped); taking it over");
      await this.driver.startNow(campaignId, "recover");
    }

    this.lastSweepAt = now;
    return { armed: plan.arm.length, missed: plan.missed.length, recovered, disarmed };
  }

  private async shutdown(): Promise<void> {
    await this.initializing?.catch(() => undefined);
    this.runs.stopStarting();
    await Promise.resolve(this.sweepTask?.destroy()).catch(() => undefined);
    this.sweepTask = null;
    await this.currentSweep;
    await this.driver.stop();
    await this.runs.close(this.stopTimeoutMs);
    this.initialized = false;
    this.logger.info("scheduler stopped");
  }

  private assertNotStopped(): void {
    if (this.stopping) throw new SchedulerError("The scheduler is stopped", "STOPPED");
  }
}

/** The driver the options ask for; the one place that knows there are two. */
function createStartDriver(options: SchedulerOptions, runs: DriverRuns, common: { horizonMs: number; logger: Logger }): StartDriver {
  if ((options.driver ?? "node-cron") === "node-cron") return new NodeCronStartDriver(runs, common);
  if (!options.databaseUrl && !options.pglite) {
    throw new SchedulerError("The pg-boss scheduler needs PostgreSQL: set DATABASE_URL (or use SCHEDULER_DRIVER=node-cron)", "MISCONFIGURED");
  }
  return new PgBossStartDriver(runs, {
    role: options.role ?? "all",
    databaseUrl: options.databaseUrl,
    pglite: options.databaseUrl ? null : options.pglite,
    logger: common.logger,
    pollingIntervalSeconds: options.pgBoss?.pollingIntervalSeconds,
    batchSize: options.pgBoss?.batchSize,
  });
}
