import cron, { type Logger as NodeCronLogger, type ScheduledTask, type TaskContext } from "node-cron";
import type { Logger } from "pino";
import { armingSecond, cronExpressionFor, isArmedSlot } from "./cronExpression";
import type { DriverRuns, RunReason, StartDriver } from "./startDriver";
import type { ScheduledCampaign } from "./sweep";

/**
 * The node-cron driver: node-cron 4 as a one-shot timer per campaign, in this process. A task is
 * armed for one UTC second and destroyed after it fires; node-cron fires 0-40 ms after its second,
 * and the sub-second rest of `scheduledAt` is waited out here (the runner's claim refuses a campaign
 * before its time). Only campaigns due within the horizon get a timer; the sweep arms the rest as
 * they come near, so 100,000 future campaigns do not mean 100,000 timers.
 */

/**
 * How late a firing may be and still run (node-cron's `missedExecutionTolerance`, default 1 s).
 * A one-shot slot has no next slot to collide with, so a firing delayed by a blocked event loop or
 * a suspended machine still runs; beyond this, node-cron reports `execution:missed` and the
 * scheduler starts the campaign itself (the sweep would also find it).
 */
export const MISSED_EXECUTION_TOLERANCE_MS = 30_000;

/** node-cron's own messages go to pino instead of the console. */
export function nodeCronLogger(logger: Logger): NodeCronLogger {
  const log = logger.child({ component: "node-cron" });
  return {
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
    error: (message, err) => (message instanceof Error ? log.error({ err: message }, message.message) : log.error({ err }, message)),
    debug: (message, err) => (message instanceof Error ? log.debug({ err: message }, message.message) : log.debug({ err }, message)),
  };
}

export interface OneShotHandlers {
  /** The slot came: awaited by node-cron (the task counts as running until it settles). */
  onFire(context: TaskContext): Promise<void>;
  /** node-cron skipped the slot (event loop blocked past the tolerance). */
  onMissed(slot: Date): void;
  /** The same date in a later year came round: the task outlived its campaign. */
  onStale(slot: Date): void;
}

export interface OneShot {
  task: ScheduledTask;
  /** The whole second the task is armed for. */
  fireAt: Date;
  expression: string;
}

export function scheduleOnce(name: string, scheduledAt: Date, handlers: OneShotHandlers, logger: Logger, now = new Date()): OneShot {
  const fireAt = armingSecond(scheduledAt, now);
  const expression = cronExpressionFor(fireAt);
  const task = cron.schedule(
    expression,
    async (context: TaskContext) => {
      if (!isArmedSlot(context.date, fireAt)) {
        handlers.onStale(context.date);
        return;
      }
      await handlers.onFire(context);
    },
    {
      name,
      timezone: "UTC",
      maxExecutions: 1,
      noOverlap: true,
      missedExecutionTolerance: MISSED_EXECUTION_TOLERANCE_MS,
      // Handled below: the scheduler logs its own warning with the campaign id.
      suppressMissedWarning: true,
      logger: nodeCronLogger(logger),
    },
  );
  task.on("execution:missed", (context) => handlers.onMissed(context.date));
  return { task, fireAt, expression };
}

/** The periodic sweep: one task, never two of its runs at once. */
export function scheduleSweep(expression: string, sweep: () => Promise<void>, logger: Logger): ScheduledTask {
  return cron.schedule(expression, sweep, {
    name: "campaign-scheduler-sweep",
    timezone: "UTC",
    noOverlap: true,
    logger: nodeCronLogger(logger),
  });
}

/** Resolves once the wall clock has reached `at` (immediately when it has passed). */
export async function sleepUntil(at: Date): Promise<void> {
  // Timers run on a monotonic clock and may wake a millisecond before Date.now() gets there.
  for (let ms = at.getTime() - Date.now(); ms > 0; ms = at.getTime() - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** What this process knows about one armed task. */
interface ArmedTask {
  campaignId: string;
  scheduledAt: Date;
  armedAt: number;
  state: "armed" | "firing" | "done";
  task?: ScheduledTask;
}

export class NodeCronStartDriver implements StartDriver {
  readonly name = "node-cron" as const;
  readonly armedTasks = new Map<string, ScheduledTask>();
  readonly missedGraceMs = 2_000;
  private readonly armed = new WeakMap<ScheduledTask, ArmedTask>();
  private stopped = false;

  constructor(
    private readonly runs: DriverRuns,
    private readonly options: { horizonMs: number; logger: Logger },
  ) {}

  async start(): Promise<void> {}

  async arm(campaign: ScheduledCampaign): Promise<void> {
    const { id, scheduledAt } = campaign;
    const log = this.options.logger.child({ campaignId: id });
    if (this.armedTasks.has(id)) await this.cancel(id);
    const now = Date.now();
    if (scheduledAt.getTime() - now > this.options.horizonMs) {
      log.info({ scheduledAt: scheduledAt.toISOString() }, "campaign is beyond the timer horizon; the sweep arms it when it comes near");
      return;
    }
    const entry: ArmedTask = { campaignId: id, scheduledAt, armedAt: now, state: "armed" };
    const { task, expression } = scheduleOnce(
      `campaign:${id}`,
      scheduledAt,
      {
        onFire: () => this.fire(entry),
        onMissed: (slot) => this.missed(entry, slot),
        onStale: () => this.disarm(entry),
      },
      this.options.logger,
    );
    entry.task = task;
    this.armed.set(task, entry);
    this.armedTasks.set(id, task);
    log.info({ scheduledAt: scheduledAt.toISOString(), cron: expression }, "campaign job scheduled");
  }

  async armMany(campaigns: ScheduledCampaign[]): Promise<void> {
    for (const campaign of campaigns) {
      // Due between the sweep's query and now: it is on time, start it.
      if (campaign.scheduledAt.getTime() <= Date.now()) void this.runs.runDue(campaign.id, campaign.scheduledAt);
      else await this.arm(campaign);
    }
  }

  async cancel(campaignId: string): Promise<boolean> {
    const task = this.armedTasks.get(campaignId);
    if (!task) return false;
    await task.stop();
    this.armedTasks.delete(campaignId);
    const entry = this.armed.get(task);
    if (entry) entry.state = "done";
    await task.destroy();
    return true;
  }

  async armedCheck(): Promise<(campaign: ScheduledCampaign) => boolean> {
    return (campaign) => {
      const task = this.armedTasks.get(campaign.id);
      const entry = task && this.armed.get(task);
      return !!entry && entry.state !== "done" && entry.scheduledAt.getTime() === campaign.scheduledAt.getTime();
    };
  }

  /** Timers whose campaign is no longer `Scheduled` at that time (changed by another process). */
  disarmStale(scheduled: ScheduledCampaign[], queriedAt: number): number {
    const current = new Map(scheduled.map((campaign) => [campaign.id, campaign.scheduledAt.getTime()]));
    let disarmed = 0;
    for (const task of [...this.armedTasks.values()]) {
      const entry = this.armed.get(task);
      // Armed after the query began: the query could not see it yet.
      if (!entry || entry.state !== "armed" || entry.armedAt >= queriedAt) continue;
      if (current.get(entry.campaignId) === entry.scheduledAt.getTime()) continue;
      this.options.logger.info({ campaignId: entry.campaignId }, "campaign no longer scheduled for this time; timer removed");
      this.disarm(entry);
      disarmed++;
    }
    return disarmed;
  }

  async startNow(campaignId: string, reason: RunReason, options: { resume?: boolean } = {}): Promise<void> {
    if (reason === "missed") {
      // The sweep found it due and unstarted: its timer (late) must not fire as well.
      const task = this.armedTasks.get(campaignId);
      const entry = task && this.armed.get(task);
      if (entry?.state === "armed") this.disarm(entry);
    }
    void this.runs.run(campaignId, reason, options);
  }

  armedCount(): number {
    return this.armedTasks.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const task of [...this.armedTasks.values()]) {
      const entry = this.armed.get(task);
      if (entry) this.disarm(entry);
      else await Promise.resolve(task.destroy()).catch(() => undefined);
    }
    this.armedTasks.clear();
  }

  /** The plan's timer callback: wait out the sub-second rest, run, and leave the map in `finally`. */
  private async fire(entry: ArmedTask): Promise<void> {
    if (entry.state !== "armed") return;
    entry.state = "firing";
    const log = this.options.logger.child({ campaignId: entry.campaignId });
    log.info({ scheduledAt: entry.scheduledAt.toISOString() }, "scheduled campaign job started");
    try {
      await sleepUntil(entry.scheduledAt);
      if (entry.state !== "firing" || this.stopped) {
        log.info("campaign job cancelled before its time");
        return;
      }
      const outcome = await this.runs.runDue(entry.campaignId, entry.scheduledAt);
      log.info({ claimed: outcome?.claimed ?? false, status: outcome?.status ?? null }, "scheduled campaign job finished");
    } catch (error) {
      log.error({ err: error }, "scheduled campaign job failed");
    } finally {
      this.disarm(entry);
    }
  }

  private missed(entry: ArmedTask, slot: Date): void {
    if (entry.state !== "armed") return;
    this.options.logger.warn(
      { campaignId: entry.campaignId, scheduledAt: entry.scheduledAt.toISOString(), slot: slot.toISOString() },
      "campaign timer missed its time (event loop blocked?); starting the campaign now",
    );
    this.disarm(entry);
    void this.runs.run(entry.campaignId, "missed");
  }

  /** Forgets and destroys a task (it fired, was missed, was replaced, or came round in a later year). */
  private disarm(entry: ArmedTask): void {
    entry.state = "done";
    const task = entry.task;
    if (!task) return;
    if (this.armedTasks.get(entry.campaignId) === task) this.armedTasks.delete(entry.campaignId);
    void Promise.resolve(task.destroy()).catch(() => undefined);
  }
}
