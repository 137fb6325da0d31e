/**
 * Everything the bench creates (child processes, PostgreSQL databases, temp folders) registers how to
 * undo it here, so a failure, an exception or Ctrl-C still leaves the machine as it was.
 */

type CleanupFn = () => Promise<void> | void;

interface Entry {
  name: string;
  fn: CleanupFn;
}

const entries: Entry[] = [];
let running: Promise<void> | null = null;
let interrupted = false;

/** Throws once the bench was interrupted: nothing new may be started while (or after) cleaning up. */
export function assertNotInterrupted(what: string): void {
  if (interrupted) throw new Error(`bench interrupted: not starting ${what}`);
}

/** Registers an undo step; returns a function that runs it now (and forgets it). */
export function onCleanup(name: string, fn: CleanupFn): () => Promise<void> {
  const entry: Entry = { name, fn };
  entries.push(entry);
  return async () => {
    const index = entries.indexOf(entry);
    if (index === -1) return;
    entries.splice(index, 1);
    await entry.fn();
  };
}

/** Runs every registered step, newest first; a failing step is reported and the rest still run. */
export function runCleanups(): Promise<void> {
  if (!running) {
    running = (async () => {
      while (entries.length > 0) {
        const entry = entries.pop()!;
        try {
          await entry.fn();
        } catch (error) {
          process.stderr.write(`bench: cleanup "${entry.name}" failed: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
    })().finally(() => {
      running = null;
    });
  }
  return running;
}

/** Ctrl-C / SIGTERM: clean up, then exit with the conventional code. `note` is printed last (e.g. where the logs are). */
export function installSignalHandlers(note = ""): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\nbench: ${signal}, cleaning up...\n`);
      // The interrupted measurement's own connections and children fail as their resources go away:
      // report those, never let them stop the cleanup half-way.
      const report = (error: unknown) =>
        process.stderr.write(`bench: during cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
      process.on("uncaughtException", report);
      process.on("unhandledRejection", report);
      void runCleanups().finally(() => {
        if (note) process.stderr.write(`${note}\n`);
        process.exit(signal === "SIGINT" ? 130 : 143);
      });
    });
  }
}
