/**
 * Wake-ups when a WhatsApp number's send slot is freed: `wc_send_step` NOTIFYs `wc_slot_released`
 * with the session id, and a runner waiting for a busy number, or a cancel waiting out a send in
 * flight, wakes at once instead of polling. PGlite delivers NOTIFY in-process; on PostgreSQL one
 * connection per process LISTENs. Without a listener (`pollingWakeups`, or a lost LISTEN connection)
 * a wait is cut to a short poll here, so callers never need to know which they have.
 */
import pg from "pg";
import type { Logger } from "pino";
import type { Database } from "./client";

export const SLOT_RELEASED_CHANNEL = "wc_slot_released";

export interface SlotWakeups {
  /** Resolves when this session's slot is freed, or after `maxMs` (without a listener: after a short poll). */
  waitForRelease(sessionId: string, maxMs: number): Promise<void>;
  close(): Promise<void>;
}

/** How long a wait lasts at most when releases cannot be heard: the caller then looks again. */
const POLL_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** For callers built without a listener (unit tests, one-off scripts): a short poll. */
export const pollingWakeups: SlotWakeups = {
  waitForRelease: (_sessionId, maxMs) => sleep(Math.min(maxMs, POLL_MS)),
  close: async () => undefined,
};

class ListeningWakeups implements SlotWakeups {
  /** False once the LISTEN connection is lost: waits fall back to polling. */
  listening = true;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly stopListening: () => Promise<void>) {}

  released(sessionId: string): void {
    const waiting = this.waiters.get(sessionId);
    if (!waiting) return;
    this.waiters.delete(sessionId);
    for (const wake of waiting) wake();
  }

  waitForRelease(sessionId: string, maxMs: number): Promise<void> {
    if (!this.listening) return pollingWakeups.waitForRelease(sessionId, maxMs);
    return new Promise((resolve) => {
      let waiting = this.waiters.get(sessionId);
      if (!waiting) {
        waiting = new Set();
        this.waiters.set(sessionId, waiting);
      }
      const set = waiting;
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, maxMs));
      set.add(wake);
    });
  }

  async close(): Promise<void> {
    this.listening = false;
    for (const sessionId of [...this.waiters.keys()]) this.released(sessionId);
    await this.stopListening();
  }
}

export async function listenForSlotReleases(database: Database, logger: Logger): Promise<SlotWakeups> {
  if (database.pglite) {
    const pglite = database.pglite;
    let wakeups: ListeningWakeups | null = null;
    const unlisten = await pglite.listen(SLOT_RELEASED_CHANNEL, (payload) => wakeups?.released(payload));
    wakeups = new ListeningWakeups(async () => {
      if (!pglite.closed) await unlisten();
    });
    return wakeups;
  }
  const client = new pg.Client({ connectionString: database.url!, application_name: "waha-campaigns-wakeups" });
  const wakeups = new ListeningWakeups(() => client.end().catch(() => undefined));
  client.on("notification", (message) => {
    if (message.channel === SLOT_RELEASED_CHANNEL && message.payload) wakeups.released(message.payload);
  });
  // A lost connection only costs speed: waiters fall back to short polls (see `listening`).
  client.on("error", (error) => {
    wakeups.listening = false;
    logger.warn({ err: error.message }, "lost the LISTEN connection for slot wake-ups; runners poll instead");
  });
  await client.connect();
  await client.query(`listen ${SLOT_RELEASED_CHANNEL}`);
  return wakeups;
}
