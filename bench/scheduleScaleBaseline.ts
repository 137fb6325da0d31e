/**
 * Baseline for the scale of the schedule: the seed plan's literal design, one node-cron task per
 * campaign and no horizon: `cron.schedule(expression, fn, { timezone: "UTC" })` for every campaign.
 * No database: this is the timers' own cost. Imports node-cron only, so the RSS is the timers'.
 */
import cron, { type ScheduledTask } from "node-cron";
import { settledRss } from "./lib/childRuntime";

export interface BaselineArgs {
  n: number;
  firstDueMs: number;
  spanMs: number;
}

export interface BaselineOutcome {
  createMs: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  rssAfterGcBytes: number;
}

export async function baselineChild(args: BaselineArgs): Promise<BaselineOutcome> {
  const rssBeforeBytes = settledRss();
  const tasks: ScheduledTask[] = [];
  const started = performance.now();
  for (let i = 0; i < args.n; i++) {
    const at = new Date(args.firstDueMs + (i * args.spanMs) / args.n);
    const expression = [at.getUTCSeconds(), at.getUTCMinutes(), at.getUTCHours(), at.getUTCDate(), at.getUTCMonth() + 1, "*"].join(" ");
    tasks.push(cron.schedule(expression, () => undefined, { timezone: "UTC" }));
  }
  const createMs = performance.now() - started;
  const rssAfterBytes = process.memoryUsage().rss;
  const rssAfterGcBytes = settledRss();
  return { createMs, rssBeforeBytes, rssAfterBytes, rssAfterGcBytes };
}
