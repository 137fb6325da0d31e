import { createHash } from "node:crypto";
import type { PGlite } from "@electric-sql/pglite";
import type { ScheduledTask } from "node-cron";
import PgBoss from "pg-boss";
import type { Logger } from "pino";
import { pgliteExecutor } from "./pgBossPglite";
import { SchedulerError } from "./schedulerError";
import type { DriverRuns, RunReason, StartDriver } from "./startDriver";
import type { ScheduledCampaign } from "./sweep";

/**
 * The pg-boss side of the scheduler: one queue of "start this campaign" jobs, delayed with
 * `startAfter`. A job only triggers `runCampaign`; the campaign's own lease in the database keeps
 * a long run safe, so a job completes as soon as its run has been handed over (see scheduler.ts).
 */

export const CAMPAIGN_QUEUE = "campaign-start";
/** pg-boss's default schema; the sweep reads its job table to see what is queued. */
export const PGBOSS_SCHEMA = "pgboss";

export type CampaignJobReason = RunReason;

export interface CampaignJobData {
  campaignId: string;
  /** The instant the job was armed for (ISO-8601); null for "run now" jobs. */
  scheduledAt: string | null;
  reason: CampaignJobReason;
  resume?: boolean;
}

export interface QueuedJob {
  id: string;
  campaignId: string;
  state: "created" | "retry" | "active" | "completed" | "cancelled" | "failed";
}

/** PostgreSQL's deadlock_detected. */
const DEADLOCK_DETECTED = "40P01";

const NAMESPACE = Buffer.from("9c1f5d0e6b3a4e7f8a2d1c0b5e4f3a29", "hex");

/**
 * A UUID (v5 layout: SHA-1 of a namespace and a name) for a campaign's job at one instant. pg-boss
 * ignores a second send with an id it already holds, so arming the same (campaign, scheduledAt)
 * twice, from any process, leaves one job.
 */
export function campaignJobId(campaignId: string, scheduledAt: Date | null, salt = ""): string {
  const name = [campaignId, scheduledAt ? scheduledAt.toISOString() : "now", salt].join("|");
  const bytes = createHash("sha1").update(NAMESPACE).update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface PgBossQueueOptions {
  databaseUrl?: string | null;
  pglite?: PGlite | null;
  logger: Logger;
  /** How often a worker looks for due jobs (pg-boss minimum: 0.5 s). */
  pollingIntervalSeconds?: number;
  /** Jobs taken per look; a burst of due campaigns is spread over the workers in batches of this. */
  batchSize?: number;
  /** Pool size for pg-boss's own connections (PostgreSQL only). */
  maxConnections?: number;
}

export class PgBossQueue {
  private readonly boss: PgBoss;
  private readonly logger: Logger;
  private readonly pollingIntervalSeconds: number;
  private readonly batchSize: number;
  private started = false;

  constructor(options: PgBossQueueOptions) {
    this.logger = options.logger;
    this.pollingIntervalSeconds = options.pollingIntervalSeconds ?? 0.5;
    // One worker must keep up with a burst of due campaigns: 100 per poll (bench: 1 worker, 1,000 in 10 s).
    this.batchSize = options.batchSize ?? 100;
    const common = {
      schema: PGBOSS_SCHEMA,
      // pg-boss's cron schedules are not used: campaigns are delayed jobs.
      schedule: false,
      supervise: true,
      migrate: true,
    } satisfies PgBoss.ConstructorOptions;
    if (options.databaseUrl) {
      this.boss = new PgBoss({
        ...common,
        connectionString: options.databaseUrl,
        max: options.maxConnections ?? 4,
        application_name: "waha-campaigns-scheduler",
      });
    } else if (options.pglite) {
      this.boss = new PgBoss({ ...common, db: pgliteExecutor(options.pglite) });
    } else {
      throw new Error("pg-boss needs a database: a PostgreSQL URL or a PGlite instance");
    }
    // An EventEmitter without an "error" listener throws; pg-boss reports polling and maintenance errors here.
    this.boss.on("error", (error) => this.logger.error({ err: error }, "pg-boss error"));
  }

  async start(): Promise<void> {
    await this.boss.start();
    await this.ensureQueue();
    this.started = true;
  }

  /**
   * Creates the queue unless it exists. pg-boss 10's create_queue() deadlocks when several processes
   * create the same queue at once on a fresh database (seen with three workers starting together:
   * one attaches the partition, with its foreign key to pgboss.queue, while another waits on the
   * first's queue row). PostgreSQL aborts one; the queue exists once the other commits, so try again.
   */
  private async ensureQueue(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.boss.getQueue(CAMPAIGN_QUEUE)) return;
        await this.boss.createQueue(CAMPAIGN_QUEUE, {
          name: CAMPAIGN_QUEUE,
          policy: "standard",
          retryLimit: 2,
          retryDelay: 5,
          expireInSeconds: 15 * 60,
        });
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt >= 5) throw error;
        this.logger.debug({ attempt }, "pg-boss queue creation raced another process; retrying");
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
      }
    }
  }

  /** Starts fetching jobs; `handle` gets each batch and must not throw for a single job. */
  async work(handle: (jobs: PgBoss.Job<CampaignJobData>[]) => Promise<void>): Promise<void> {
    await this.boss.work<CampaignJobData>(
      CAMPAIGN_QUEUE,
      { pollingIntervalSeconds: this.pollingIntervalSeconds, batchSize: this.batchSize },
      handle,
    );
  }

  /** Queues the campaign's job for `scheduledAt`; returns false when that very job was already queued. */
  async enqueueAt(campaignId: string, scheduledAt: Date): Promise<boolean> {
    const id = campaignJobId(campaignId, scheduledAt);
    // A job left for an earlier time would run too early (the claim would refuse it) and then linger.
    await this.removePending(campaignId, id);
    const data: CampaignJobData = { campaignId, scheduledAt: scheduledAt.toISOString(), reason: "scheduled" };
    const sent = await this.boss.send(CAMPAIGN_QUEUE, data, { id, startAfter: scheduledAt });
    return sent !== null;
  }

  /** Queues many future jobs in one statement; ids already queued are skipped by pg-boss. */
  async enqueueMany(campaigns: Array<{ id: string; scheduledAt: Date }>): Promise<void> {
    if (campaigns.length === 0) return;
    await this.boss.insert(
      campaigns.map((campaign) => ({
        id: campaignJobId(campaign.id, campaign.scheduledAt),
        name: CAMPAIGN_QUEUE,
        data: { campaignId: campaign.id, scheduledAt: campaign.scheduledAt.toISOString(), reason: "scheduled" } satisfies CampaignJobData,
        startAfter: campaign.scheduledAt.toISOString(),
      })),
    );
  }

  /** A job to run as soon as a worker is free; `id` makes a repeat of the same request harmless. */
  async enqueueNow(data: CampaignJobData, id?: string): Promise<boolean> {
    const sent = await this.boss.send(CAMPAIGN_QUEUE, data, id ? { id } : {});
    return sent !== null;
  }

  /** Deletes the campaign's jobs that no worker has taken yet (except `keepId`); returns how many. */
  async removePending(campaignId: string, keepId: string | null = null): Promise<number> {
    const { rows } = await this.boss.getDb().executeSql(
      `DELETE FROM ${PGBOSS_SCHEMA}.job
        WHERE name = $1 AND state < 'active' AND data->>'campaignId' = $2
          AND ($3::uuid IS NULL OR id <> $3::uuid)
        RETURNING id`,
      [CAMPAIGN_QUEUE, campaignId, keepId],
    );
    return rows.length;
  }

  /** Every job still in the job table (not yet archived) for these campaigns. */
  async jobsFor(campaignIds: string[]): Promise<QueuedJob[]> {
    if (campaignIds.length === 0) return [];
    const { rows } = await this.boss.getDb().executeSql(
      `SELECT id, state, data->>'campaignId' AS "campaignId"
         FROM ${PGBOSS_SCHEMA}.job
        WHERE name = $1 AND data->>'campaignId' = ANY($2::text[])`,
      [CAMPAIGN_QUEUE, campaignIds],
    );
    return rows as QueuedJob[];
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    // Handlers return as soon as a run is handed over, so there is no long work to wait for.
    await this.boss.stop({ graceful: true, wait: true, timeout: 5_000 });
  }
}

export interface PgBossStartDriverOptions extends Omit<PgBossQueueOptions, "logger"> {
  /** "web" only queues, "worker" only runs, "all" both. */
  role: "all" | "web" | "worker";
  logger: Logger;
}

/**
 * The pg-boss driver: a delayed job per (campaign, scheduledAt) in PostgreSQL, whose id makes arming
 * twice harmless; processes that run campaigns poll for due jobs and hand each to a run, which the
 * campaign's lease then protects (the job completes at once).
 */
export class PgBossStartDriver implements StartDriver {
  readonly name = "pg-boss" as const;
  /** pg-boss keeps its jobs in the database: no timer in this process. */
  readonly armedTasks = new Map<string, ScheduledTask>();
  readonly missedGraceMs = 5_000;
  private readonly queue: PgBossQueue;
  private readonly logger: Logger;
  private readonly runsHere: boolean;
  private starting: Promise<void> | null = null;
  private started = false;
  private stopped = false;
  private queuedFutureJobs = 0;

  constructor(
    private readonly runs: DriverRuns,
    options: PgBossStartDriverOptions,
  ) {
    this.logger = options.logger;
    this.runsHere = options.role !== "web";
    this.queue = new PgBossQueue({ ...options, logger: options.logger.child({ component: "pg-boss" }) });
  }

  start(): Promise<void> {
    this.starting = (async () => {
      await this.queue.start();
      if (this.runsHere) await this.queue.work((jobs) => this.handleJobs(jobs));
      this.started = true;
    })();
    return this.starting;
  }

  async arm(campaign: ScheduledCampaign): Promise<void> {
    await this.requireStarted("scheduleCampaignJob");
    const queued = await this.queue.enqueueAt(campaign.id, campaign.scheduledAt);
    this.logger.info({ campaignId: campaign.id, scheduledAt: campaign.scheduledAt.toISOString(), alreadyQueued: !queued }, "campaign job queued");
  }

  async armMany(campaigns: ScheduledCampaign[]): Promise<void> {
    // A job whose time has passed is simply due at once.
    await this.queue.enqueueMany(campaigns);
  }

  async cancel(campaignId: string): Promise<boolean> {
    await this.requireStarted("cancelCampaignJob");
    return (await this.queue.removePending(campaignId)) > 0;
  }

  async armedCheck(scheduled: ScheduledCampaign[]): Promise<(campaign: ScheduledCampaign) => boolean> {
    const jobs = await this.queue.jobsFor(scheduled.map((campaign) => campaign.id));
    const now = Date.now();
    this.queuedFutureJobs = scheduled.filter((campaign) => campaign.scheduledAt.getTime() > now).length;
    const ids = new Set(jobs.map((job) => job.id));
    const pending = new Set(jobs.filter((job) => ["created", "retry", "active"].includes(job.state)).map((job) => job.campaignId));
    return (campaign) => ids.has(campaignJobId(campaign.id, campaign.scheduledAt)) || pending.has(campaign.id);
  }

  /** Jobs are the database's: another process's change is seen by the job's own claim. */
  disarmStale(): number {
    return 0;
  }

  async startNow(campaignId: string, reason: RunReason, options: { resume?: boolean } = {}): Promise<void> {
    if (this.runsHere) {
      void this.runs.run(campaignId, reason, options);
      return;
    }
    await this.requireStarted("startCampaignNow");
    if (reason === "missed" || reason === "recover") {
      // The sweep of every web process finds the same campaign: at most one job a minute for it.
      const minute = Math.floor(Date.now() / 60_000);
      await this.queue.enqueueNow({ campaignId, scheduledAt: null, reason }, campaignJobId(campaignId, null, `${reason}:${minute}`));
    } else {
      await this.queue.enqueueNow({ campaignId, scheduledAt: null, reason, ...(options.resume ? { resume: true } : {}) });
    }
    this.logger.info({ campaignId, reason }, "campaign run queued for a worker");
  }

  armedCount(): number {
    return this.queuedFutureJobs;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    await this.queue.stop();
  }

  /** Hands each job's campaign to a run; the job completes at once (the run's lease protects it from there). */
  private async handleJobs(jobs: PgBoss.Job<CampaignJobData>[]): Promise<void> {
    // Failing the batch puts the jobs back for another worker (pg-boss retries them).
    if (this.stopped) throw new SchedulerError("Scheduler stopping: job left for another worker", "STOPPED");
    for (const job of jobs) {
      const { campaignId, reason, resume, scheduledAt } = job.data;
      this.logger.info({ campaignId, jobId: job.id, reason }, "campaign job picked up");
      if (reason === "scheduled" && scheduledAt) void this.runs.runDue(campaignId, new Date(scheduledAt));
      else void this.runs.run(campaignId, reason, resume ? { resume: true } : {});
    }
  }

  /** The queue exists once initialize() has started it (a call during initialize() waits for it). */
  private async requireStarted(operation: string): Promise<void> {
    if (this.started) return;
    if (this.starting) {
      await this.starting;
      return;
    }
    throw new SchedulerError(`scheduler.${operation}() needs initialize() first (the pg-boss queue is not started)`, "NOT_INITIALIZED");
  }
}
