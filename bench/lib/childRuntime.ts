/** The child side of bench/lib/children.ts: events to the parent, and the parent's "stop" request. */

export function emit(name: string, value: unknown = null): void {
  process.send?.({ type: "event", name, value });
}

let requestStop: () => void = () => undefined;
/** Resolves when the parent asks this task to finish. */
export const stopRequested = new Promise<void>((resolve) => {
  requestStop = resolve;
});
process.on("message", (message: { type?: string }) => {
  if (message?.type === "stop") requestStop();
});

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true; false on timeout. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** RSS after a full GC (children run with --expose-gc), so garbage does not count as memory in use. */
export function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}
