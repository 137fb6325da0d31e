/**
 * The policy of every number a runner service sends from, read again every POLICY_REFRESH_MS in one
 * statement for all of them, so an owner's change reaches every running campaign within that time.
 * One read per run every 10 s was, with the lease renewals, most of the statements beyond the send
 * step in the fleet bench (issue 15: 2,000 campaigns, ~0.7 statements per message each); now it is
 * one per process per period, whatever the number of campaigns.
 */
import { inArray } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { whatsappSessions } from "~/server/db/schema";
import type { NumberState } from "./sendRules";

/** How often the numbers' policies are read again. */
export const POLICY_REFRESH_MS = 10_000;

interface HeldNumber {
  state: NumberState | null;
  runs: number;
}

export class NumberStates {
  private readonly held = new Map<string, HeldNumber>();
  private loadedAtMs = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly refreshMs = POLICY_REFRESH_MS,
  ) {}

  /** A run starts sending from the number: its state now, read at once. Call `release` when the run ends. */
  async hold(sessionId: string): Promise<NumberState | null> {
    const state = await loadNumberState(this.db, sessionId);
    const held = this.held.get(sessionId);
    if (held) {
      held.runs++;
      held.state = state;
    } else {
      this.held.set(sessionId, { state, runs: 1 });
    }
    return state;
  }

  release(sessionId: string): void {
    const held = this.held.get(sessionId);
    if (held && --held.runs <= 0) this.held.delete(sessionId);
  }

  /**
   * The held number's state, at most `refreshMs` old: when the last read is older, every held number
   * is read again, in one statement shared by every run that asks meanwhile. Null once the number is gone.
   */
  async current(sessionId: string): Promise<NumberState | null> {
    if (!this.loading && Date.now() - this.loadedAtMs >= this.refreshMs) {
      this.loading = this.reloadAll().finally(() => {
        this.loading = null;
      });
    }
    // A read under way is awaited by every run, so none goes on with the state it replaces.
    if (this.loading) await this.loading;
    return this.held.get(sessionId)?.state ?? null;
  }

  private async reloadAll(): Promise<void> {
    this.loadedAtMs = Date.now();
    const ids = [...this.held.keys()];
    if (ids.length === 0) return;
    const states = await loadNumberStates(this.db, ids);
    for (const id of ids) {
      const held = this.held.get(id);
      if (held) held.state = states.get(id) ?? null;
    }
  }
}

/** The numbers' names and policies, by id (a number that no longer exists is absent). */
export async function loadNumberStates(db: Db, sessionIds: string[]): Promise<Map<string, NumberState>> {
  const rows = await db
    .select({
      id: whatsappSessions.id,
      name: whatsappSessions.name,
      timeZone: whatsappSessions.timeZone,
      dailyLimit: whatsappSessions.dailyLimit,
      hourlyLimit: whatsappSessions.hourlyLimit,
      warmup: whatsappSessions.warmup,
      typing: whatsappSessions.typing,
      checkExists: whatsappSessions.checkExists,
      maxConsecutiveFailures: whatsappSessions.maxConsecutiveFailures,
      firstSentAt: whatsappSessions.firstSentAt,
    })
    .from(whatsappSessions)
    .where(inArray(whatsappSessions.id, sessionIds));
  return new Map(rows.map(({ id, name, firstSentAt, ...policy }) => [id, { name, policy, firstSentAt }]));
}

/** One number's name and policy; null when it no longer exists. */
export async function loadNumberState(db: Db, sessionId: string): Promise<NumberState | null> {
  return (await loadNumberStates(db, [sessionId])).get(sessionId) ?? null;
}
