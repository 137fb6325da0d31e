/**
 * Baseline for start precision: bare node-cron one-shot timers, no database and no runner, armed the
 * way the scheduler arms them (the whole UTC second, then the sub-second rest waited out). Their
 * lateness is the floor any node-cron scheduler on this machine can reach. Imports node-cron only.
 */
import cron from "node-cron";
import { sleep } from "./lib/childRuntime";

export interface BareTimersArgs {
  n: number;
  leadMs: number;
  windowMs: number;
}

export async function bareTimersChild(args: BareTimersArgs): Promise<{ lateMs: number[] }> {
  const firstDueMs = Date.now() + args.leadMs;
  const lateMs: number[] = [];
  for (let i = 0; i < args.n; i++) {
    const dueMs = firstDueMs + (i * args.windowMs) / args.n;
    const second = new Date(Math.floor(dueMs / 1000) * 1000);
    const expression = [second.getUTCSeconds(), second.getUTCMinutes(), second.getUTCHours(), second.getUTCDate(), second.getUTCMonth() + 1, "*"].join(" ");
    cron.schedule(
      expression,
      async () => {
        for (let wait = dueMs - Date.now(); wait > 0; wait = dueMs - Date.now()) await sleep(wait);
        lateMs.push(Date.now() - dueMs);
      },
      { timezone: "UTC", maxExecutions: 1 },
    );
  }
  const deadline = firstDueMs + args.windowMs + 5_000;
  while (lateMs.length < args.n && Date.now() < deadline) await sleep(100);
  return { lateMs };
}
