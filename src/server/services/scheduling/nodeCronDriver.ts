import cron, { type Logger as NodeCronLogger, type ScheduledTask, type TaskContext } from "node-cron";
import type { Logger } from "pino";
import { armingSecond, cronExpressionFor, isArmedSlot } from "./cronExpression";

/**
 * node-cron 4 as a one-shot timer: a task armed for one UTC second, destroyed after it fires.
 * node-cron fires 0-40 ms after its second; the sub-second rest of `scheduledAt` is waited out by
 * the caller (the runner's claim refuses a campaign before its time).
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
