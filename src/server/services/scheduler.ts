/**
 * SchedulerService: starts each campaign at its `scheduledAt` (the seed plan,
 * shared/seed/job-scheduling-plan.md, made durable as shared/DESIGN.md §3 describes).
 *
 * Two drivers arm the start:
 * - "node-cron": one node-cron task per campaign due within the horizon, in this process.
 * - "pg-boss": one delayed pg-boss job per (campaign, scheduledAt) in PostgreSQL; "web" processes
 *   only queue, "worker" processes (npm run worker) only execute, "all" does both.
 * Every path ends in `CampaignRunnerService.runCampaign(id)`, whose claim (one conditional UPDATE)
 * decides who runs. So timers, jobs, the sweep and other processes may all race: a second start
 * finds nothing to claim. The database is the truth; a periodic sweep (every process, every 30 s)
 * puts timers and jobs back in step with it and starts what was missed.
 */
import type { PGlite } from "@electric-sql/pglite";
import type { ScheduledTask } from "node-cron";
import type PgBoss from "pg-boss";
import type { Logger } from "pino";
import type { Db } from "~/server/db/client";
import { childLogger } from "~/server/logger";
import type { CampaignRunnerOptions } from "./campaignRunner";
import { CampaignRuns, type RunOutcome } from "./scheduling/campaignRuns";
import { scheduleOnce, scheduleSweep, sleepUntil } from "./scheduling/nodeCronDriver";
import { type CampaignJobData, type CampaignJobReason, campaignJobId, PgBossQueue } from "./scheduling/pgBossDriver";
import {
  findCampaignSchedule,
  findScheduledCampaigns,
  findStaleRunningCampaigns,
  planSweep,
  type ScheduledCampaign,
} from "./scheduling/sweep";
import type { WahaApiClient } from "./wahaClient";

export type SchedulerDriver = "node-cron" | "pg-boss";
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
}

export type SchedulerErrorCode = "NOT_IN_FUTURE" | "INVALID_DATE" | "MISCONFIGURED" | "NOT_INITIALIZED" | "STOPPED";

/** A refusal the caller can act on; `NOT_IN_FUTURE` and `INVALID_DATE` concern the `scheduledAt` field. */
export class SchedulerError extends Error {
  constructor(
    message: string,
    public readonly code: SchedulerErrorCode,
  ) {
    super(message);
    this.name = "SchedulerError";
  }
}

export interface SchedulerStatus {
  driver: SchedulerDriver;
  initialized: boolean;
  /** node-cron: timers armed in this process. pg-boss: campaigns within the horizon with a queued job, at the last sweep. */
  armedJobs: number;
  lastSweepAt: Date | null;
}

type RunReason = CampaignJobReason;

/** What this process knows about one armed node-cron task. */
interface ArmedTask {
  campaignId: string;
  scheduledAt: Date;
  armedAt: number;
  state: "armed" | "firing" | "done";
  task?: ScheduledTask;
}

const DEFAULT_SWEEP_CRON = "*/30 * * * * *";
const DEFAULT_HORIZON_MS = 24 * 60 * 60 * 1000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** A due campaign armed here is left to its own timer (node-cron) or job (pg-boss) this long. */
const MISSED_GRACE_MS: Record<SchedulerDriver, number> = { "node-cron": 2_000, "pg-boss": 5_000 };
/** A due campaign that was not claimed but is still `Scheduled` at its time is tried again after these waits. */
const DUE_RETRIES_MS = [100, 200, 400, 800, 1_600];

export class SchedulerService {
  /** campaignId -> its node-cron task (as the plan names it). Empty with pg-boss. */
  readonly scheduledJobs = new Map<string, ScheduledTask>();

  private readonly driver: SchedulerDriver;
  private readonly role: SchedulerRole;
  private readonly logger: Logger;
  private readonly sweepCron: string;
  private readonly horizonMs: number;
  private readonly stopTimeoutMs: number;
  private readonly armed = new WeakMap<ScheduledTask, ArmedTask>();
  private readonly runs: CampaignRuns;
  private readonly queue: PgBossQueue | null;
  private sweepTask: ScheduledTask | null = null;
  private currentSweep: Promise<void> | null = null;
  private initializing: Promise<void> | null = null;
  private initialized = false;
  private stopping: Promise<void> | null = null;
  private lastSweepAt: Date | null = null;
  private queuedJobs = 0;

  constructor(
    private readonly db: Db,
    private readonly wahaApiClient: WahaApiClient,
    options: SchedulerOptions = {},
  ) {
    this.driver = options.driver ?? "node-cron";
    this.role = options.role ?? "all";
    this.logger = options.logger ?? childLogger("scheduler");
    this.runs = new CampaignRuns(db, wahaApiClient, options.runnerOptions, this.logger);
    this.sweepCron = options.sweepCron ?? DEFAULT_SWEEP_CRON;
    this.horizonMs = options.horizonMs ?? DEFAULT_HORIZON_MS;
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    if (this.driver === "pg-boss") {
      if (!options.databaseUrl && !options.pglite) {
        throw new SchedulerError(
          "The pg-boss scheduler needs PostgreSQL: set DATABASE_URL (or use SCHEDULER_DRIVER=node-cron)",
          "MISCONFIGURED",
        );
      }
      this.queue = new PgBossQueue({
        databaseUrl: options.databaseUrl,
        pglite: options.databaseUrl ? null : options.pglite,
        logger: this.logger.child({ component: "pg-boss" }),
        pollingIntervalSeconds: options.pgBoss?.pollingIntervalSeconds,
        batchSize: options.pgBoss?.batchSize,
      });
    } else {
      this.queue = null;
    }
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
    const log = this.logger.child({ campaignId: campaign.id });

    if (this.queue) {
      await this.requireInitialized("scheduleCampaignJob");
      const queued = await this.queue.enqueueAt(campaign.id, scheduledAt);
      log.info({ scheduledAt: scheduledAt.toISOString(), alreadyQueued: !queued }, "campaign job queued");
      return;
    }

    if (this.scheduledJobs.has(campaign.id)) await this.cancelCampaignJob(campaign.id);
    if (scheduledAt.getTime() - now > this.horizonMs) {
      log.info({ scheduledAt: scheduledAt.toISOString() }, "campaign is beyond the timer horizon; the sweep arms it when it comes near");
      return;
    }
    const entry: ArmedTask = { campaignId: campaign.id, scheduledAt, armedAt: now, state: "armed" };
    const { task, expression } = scheduleOnce(
      `campaign:${campaign.id}`,
      scheduledAt,
      {
        onFire: () => this.runScheduledCampaign(entry),
        onMissed: (slot) => this.onTimerMissed(entry, slot),
        onStale: () => this.disarm(entry),
      },
      this.logger,
    );
    entry.task = task;
    this.armed.set(task, entry);
    this.scheduledJobs.set(campaign.id, task);
    log.info({ scheduledAt: scheduledAt.toISOString(), cron: expression }, "campaign job scheduled");
  }

  /** Removes the campaign's timer or queued job (the claim refuses a campaign no longer `Scheduled` anyway). */
  async cancelCampaignJob(campaignId: string): Promise<void> {
    if (this.queue) {
      await this.requireInitialized("cancelCampaignJob");
      const removed = await this.queue.removePending(campaignId);
      if (removed > 0) this.logger.info({ campaignId, removed }, "campaign job cancelled");
      else this.logger.warn({ campaignId }, "no queued job to cancel for this campaign");
      return;
    }
    const task = this.scheduledJobs.get(campaignId);
    if (!task) {
      this.logger.warn({ campaignId }, "no scheduled job to cancel for this campaign");
      return;
    }
    await task.stop();
    this.scheduledJobs.delete(campaignId);
    const entry = this.armed.get(task);
    if (entry) entry.state = "done";
    await task.destroy();
    this.logger.info({ campaignId }, "campaign job cancelled");
  }

  /** Runs the campaign now, in the background: a due one, or a `Paused` one with `{ resume: true }`. */
  async startCampaignNow(campaignId: string, options: { resume?: boolean } = {}): Promise<void> {
    this.assertNotStopped();
    const reason: RunReason = options.resume ? "resume" : "now";
    if (this.executesHere()) {
      void this.runs.start(campaignId, reason, options.resume ? { resume: true } : {});
      return;
    }
    await this.requireInitialized("startCampaignNow");
    await this.queue!.enqueueNow({ campaignId, scheduledAt: null, reason, ...(options.resume ? { resume: true } : {}) });
    this.logger.info({ campaignId, reason }, "campaign run queued");
  }

  status(): SchedulerStatus {
    return {
      driver: this.driver,
      initialized: this.initialized,
      armedJobs: this.queue ? this.queuedJobs : this.scheduledJobs.size,
      lastSweepAt: this.lastSweepAt,
    };
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
      if (this.executesHere()) {
        this.logger.info({ campaignId }, "running missed campaign");
        await this.runs.start(campaignId, "missed");
      } else {
        this.logger.info({ campaignId }, "queueing missed campaign for a worker");
        await this.enqueueRecovery(campaignId, "missed");
      }
    } catch (error) {
      // The sweep tries again in a moment.
      this.logger.error({ campaignId, err: error }, "missed campaign could not be started");
    }
  }

  // ------------------------------------------------------------------ node-cron timer callbacks

  /** The plan's callback: start, run, log, and leave the map in `finally`. */
  private async runScheduledCampaign(entry: ArmedTask): Promise<void> {
    if (entry.state !== "armed") return;
    entry.state = "firing";
    const log = this.logger.child({ campaignId: entry.campaignId });
    log.info({ scheduledAt: entry.scheduledAt.toISOString() }, "scheduled campaign job started");
    try {
      // node-cron fires on the whole second; a sub-second scheduledAt is waited out here.
      await sleepUntil(entry.scheduledAt);
      if (entry.state !== "firing" || this.stopping) {
        log.info("campaign job cancelled before its time");
        return;
      }
      const outcome = await this.runWhenDue(entry.campaignId, entry.scheduledAt);
      log.info({ claimed: outcome?.claimed ?? false, status: outcome?.status ?? null }, "scheduled campaign job finished");
    } catch (error) {
      log.error({ err: error }, "scheduled campaign job failed");
    } finally {
      this.disarm(entry);
    }
  }

  private onTimerMissed(entry: ArmedTask, slot: Date): void {
    if (entry.state !== "armed") return;
    this.logger.warn(
      { campaignId: entry.campaignId, scheduledAt: entry.scheduledAt.toISOString(), slot: slot.toISOString() },
      "campaign timer missed its time (event loop blocked?); starting the campaign now",
    );
    this.disarm(entry);
    void this.runMissedCampaign(entry.campaignId);
  }

  /** Forgets and destroys a task (it fired, was missed, or came round in a later year). */
  private disarm(entry: ArmedTask): void {
    entry.state = "done";
    const task = entry.task;
    if (!task) return;
    if (this.scheduledJobs.get(entry.campaignId) === task) this.scheduledJobs.delete(entry.campaignId);
    void Promise.resolve(task.destroy()).catch(() => undefined);
  }

  /**
   * Runs a campaign whose time has come. When the claim did not happen although the campaign is still
   * `Scheduled` at this very time, ask again a few times before leaving it to the sweep: the database's
   * clock may lag behind ours (node-cron), or the attempt failed before claiming (a dropped connection).
   */
  private async runWhenDue(campaignId: string, scheduledAt: Date): Promise<RunOutcome | null> {
    let outcome = await this.runs.start(campaignId, "scheduled");
    for (const waitMs of DUE_RETRIES_MS) {
      if (outcome?.claimed || (outcome && outcome.status !== "Scheduled") || this.stopping) break;
      const current = await findCampaignSchedule(this.db, campaignId).catch(() => null);
      if (current?.status !== "Scheduled" || current.scheduledAt.getTime() !== scheduledAt.getTime()) break;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      outcome = await this.runs.start(campaignId, "scheduled");
    }
    return outcome;
  }

  // ------------------------------------------------------------------ runs

  private executesHere(): boolean {
    return this.driver === "node-cron" || this.role !== "web";
  }

  /** pg-boss: hands each job's campaign to a run and completes the job (the run's lease protects it from there). */
  private async handleJobs(jobs: PgBoss.Job<CampaignJobData>[]): Promise<void> {
    // Failing the batch puts the jobs back for another worker (pg-boss retries them).
    if (this.stopping) throw new SchedulerError("Scheduler stopping: job left for another worker", "STOPPED");
    for (const job of jobs) {
      const { campaignId, reason, resume, scheduledAt } = job.data;
      this.logger.info({ campaignId, jobId: job.id, reason }, "campaign job picked up");
      if (reason === "scheduled" && scheduledAt) void this.runWhenDue(campaignId, new Date(scheduledAt));
      else void this.runs.start(campaignId, reason, resume ? { resume: true } : {});
    }
  }

  /** A web process cannot run a campaign: it queues it for a worker (at most once a minute per campaign). */
  private async enqueueRecovery(campaignId: string, reason: "missed" | "recover"): Promise<void> {
    const minute = Math.floor(Date.now() / 60_000);
    await this.queue!.enqueueNow({ campaignId, scheduledAt: null, reason }, campaignJobId(campaignId, null, `${reason}:${minute}`));
  }

  // ------------------------------------------------------------------ start, sweep, stop

  private async start(): Promise<void> {
    const startedAt = Date.now();
    if (this.queue) {
      await this.queue.start();
      if (this.executesHere()) await this.queue.work((jobs) => this.handleJobs(jobs));
    }
    const summary = await this.reconcile("initialize");
    this.sweepTask = scheduleSweep(this.sweepCron, () => this.sweep(), this.logger);
    this.initialized = true;
    this.logger.info(
      { driver: this.driver, role: this.queue ? this.role : "all", ...summary, durationMs: Date.now() - startedAt },
      "scheduler initialized",
    );
  }

  private async sweep(): Promise<void> {
    if (this.stopping || this.currentSweep) return;
    this.currentSweep = this.reconcile("sweep")
      .then((summary) => {
        if (summary.armed + summary.missed + summary.recovered + summary.disarmed > 0) this.logger.info(summary, "sweep");
        else this.logger.debug(summary, "sweep");
      })
      .catch((error: unknown) => this.logger.error({ err: error }, "sweep failed"))
      .finally(() => {
        this.currentSweep = null;
      });
    return this.currentSweep;
  }

  /** Puts timers / queued jobs in step with the database, starts missed campaigns, takes over dead runs. */
  private async reconcile(kind: "initialize" | "sweep") {
    const queriedAt = Date.now();
    const now = new Date(queriedAt);
    const scheduled = await findScheduledCampaigns(this.db, new Date(queriedAt + this.horizonMs));
    const isArmed = await this.armedCheck(scheduled);
    const plan = planSweep({
      scheduled,
      now,
      isArmed,
      missedGraceMs: kind === "initialize" ? 0 : MISSED_GRACE_MS[this.driver],
    });

    if (this.queue) {
      await this.queue.enqueueMany(plan.arm);
      this.queuedJobs = scheduled.filter((campaign) => campaign.scheduledAt > now).length;
    } else {
      for (const campaign of plan.arm) {
        try {
          await this.scheduleCampaignJob(campaign);
        } catch (error) {
          // Due between the query and now: it is on time, start it.
          if (error instanceof SchedulerError && error.code === "NOT_IN_FUTURE") void this.runs.start(campaign.id, "scheduled");
          else throw error;
        }
      }
    }

    for (const campaign of plan.missed) {
      this.logger.warn(
        { campaignId: campaign.id, scheduledAt: campaign.scheduledAt.toISOString(), lateMs: queriedAt - campaign.scheduledAt.getTime() },
        "campaign missed its scheduled time; starting it now",
      );
      const task = this.scheduledJobs.get(campaign.id);
      const entry = task && this.armed.get(task);
      if (entry?.state === "armed") this.disarm(entry);
      void this.runMissedCampaign(campaign.id);
    }

    const disarmed = kind === "sweep" ? this.disarmUnscheduled(scheduled, queriedAt) : 0;

    let recovered = 0;
    for (const campaignId of await findStaleRunningCampaigns(this.db, now)) {
      if (this.runs.isRunning(campaignId)) continue;
      recovered++;
      this.logger.warn({ campaignId }, "running campaign's lease expired (its process stopped); taking it over");
      if (this.executesHere()) void this.runs.start(campaignId, "recover");
      else await this.enqueueRecovery(campaignId, "recover");
    }

    this.lastSweepAt = now;
    return { armed: plan.arm.length, missed: plan.missed.length, recovered, disarmed };
  }

  /** Whether each campaign has a timer here (node-cron) or a job in the queue (pg-boss) for its current time. */
  private async armedCheck(scheduled: ScheduledCampaign[]): Promise<(campaign: ScheduledCampaign) => boolean> {
    if (!this.queue) {
      return (campaign) => {
        const task = this.scheduledJobs.get(campaign.id);
        const entry = task && this.armed.get(task);
        return !!entry && entry.state !== "done" && entry.scheduledAt.getTime() === campaign.scheduledAt.getTime();
      };
    }
    const jobs = await this.queue.jobsFor(scheduled.map((campaign) => campaign.id));
    const ids = new Set(jobs.map((job) => job.id));
    const pending = new Set(jobs.filter((job) => ["created", "retry", "active"].includes(job.state)).map((job) => job.campaignId));
    return (campaign) => ids.has(campaignJobId(campaign.id, campaign.scheduledAt)) || pending.has(campaign.id);
  }

  /** node-cron: drops timers whose campaign is no longer `Scheduled` at that time (changed by another process). */
  private disarmUnscheduled(scheduled: ScheduledCampaign[], queriedAt: number): number {
    if (this.queue) return 0;
    const current = new Map(scheduled.map((campaign) => [campaign.id, campaign.scheduledAt.getTime()]));
    let disarmed = 0;
    for (const task of [...this.scheduledJobs.values()]) {
      const entry = this.armed.get(task);
      // Armed after the query began: the query could not see it yet.
      if (!entry || entry.state !== "armed" || entry.armedAt >= queriedAt) continue;
      if (current.get(entry.campaignId) === entry.scheduledAt.getTime()) continue;
      this.logger.info({ campaignId: entry.campaignId }, "campaign no longer scheduled for this time; timer removed");
      this.disarm(entry);
      disarmed++;
    }
    return disarmed;
  }

  private async shutdown(): Promise<void> {
    await this.initializing?.catch(() => undefined);
    this.runs.stopStarting();
    await Promise.resolve(this.sweepTask?.destroy()).catch(() => undefined);
    this.sweepTask = null;
    await this.currentSweep;
    for (const task of [...this.scheduledJobs.values()]) {
      const entry = this.armed.get(task);
      if (entry) this.disarm(entry);
      else await Promise.resolve(task.destroy()).catch(() => undefined);
    }
    this.scheduledJobs.clear();
    await this.queue?.stop();
    await this.runs.close(this.stopTimeoutMs);
    this.initialized = false;
    this.logger.info("scheduler stopped");
  }

  private assertNotStopped(): void {
    if (this.stopping) throw new SchedulerError("The scheduler is stopped", "STOPPED");
  }

  /** pg-boss: the queue exists once initialize() has started it (a call during initialize() waits for it). */
  private async requireInitialized(operation: string): Promise<void> {
    if (this.initialized) return;
    if (this.initializing) {
      await this.initializing;
      return;
    }
    throw new SchedulerError(`scheduler.${operation}() needs initialize() first (the pg-boss queue is not started)`, "NOT_INITIALIZED");
  }
}
