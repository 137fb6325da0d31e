/**
 * Entry of every measurement child process (forked by bench/lib/children.ts):
 * `node --import tsx bench/child.ts <task> <json args>` (also by hand, e.g. with --cpu-prof: the
 * result is then printed). Each task module is imported only here and
 * only when asked for, so a child holds nothing but what its task needs (its RSS is the task's).
 */
type Task = (args: never) => Promise<unknown>;

const tasks: Record<string, () => Promise<Task>> = {
  "precision-node-cron": async () => (await import("./startPrecision")).precisionNodeCronChild,
  "precision-bare": async () => (await import("./startPrecisionBaseline")).bareTimersChild,
  "scale-seed": async () => (await import("./scheduleScale")).scaleSeedChild,
  "scale-ours": async () => (await import("./scheduleScale")).scaleChild,
  "scale-baseline": async () => (await import("./scheduleScaleBaseline")).baselineChild,
  "sending-raw": async () => (await import("./sendingOverhead")).rawHttpChild,
  "sending-run": async () => (await import("./sendingOverhead")).sendingChild,
  "api-server": async () => (await import("./apiLatency")).apiServerChild,
  "restart-runner": async () => (await import("./restartTakeover")).restartRunnerChild,
  "optout-check": async () => (await import("./optOutCheckCost")).optOutCheckChild,
  "outbox": async () => (await import("./outboxThroughput")).outboxChild,
};

async function main(): Promise<void> {
  const [name, rawArgs] = process.argv.slice(2);
  const load = name ? tasks[name] : undefined;
  if (!load) throw new Error(`unknown task "${name}"; known: ${Object.keys(tasks).join(", ")}`);
  const task = await load();
  const value = await task(JSON.parse(rawArgs ?? "null") as never);
  // Run by hand (e.g. under `node --cpu-prof`): no IPC channel, print the result instead.
  if (!process.send) return void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  await new Promise<void>((resolve) => process.send!({ type: "result", value }, () => resolve()));
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    process.stderr.write(`${stack ?? message}\n`);
    if (process.send) process.send({ type: "error", message, stack }, () => process.exit(1));
    else process.exit(1);
  });
