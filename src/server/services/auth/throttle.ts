/**
 * Log-in and sign-up throttle, kept in the database (`auth_throttles`) so that every process sees the
 * same counts. Each key (`ip:<address>`, `email:<address>`, `signup:<address>`) counts failures;
 * from `threshold` failures on, the key is blocked for `baseBlockMs`, doubling with each further
 * failure up to `maxBlockMs`. A key quiet for `windowMs` (no failure since, no block) starts over.
 * While a key is blocked nothing is checked at all: the answer is 429 with Retry-After, even for the
 * right password, so guessing gains nothing by going fast.
 */
import { and, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { authThrottles } from "../../db/schema";
import { AppError } from "../errors";

export interface ThrottleRule {
  /** Failures (within the window) before the key is blocked. */
  threshold: number;
  baseBlockMs: number;
  maxBlockMs: number;
  windowMs: number;
}

export interface ThrottlePolicy {
  /** Wrong passwords for one account, from anywhere. */
  email: ThrottleRule;
  /** Wrong passwords from one address, for any account (higher: offices share an address). */
  ip: ThrottleRule;
  /** Sign-ups from one address, made or refused. */
  signup: ThrottleRule;
}

const HOUR_MS = 3_600_000;

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  email: { threshold: 5, baseBlockMs: 30_000, maxBlockMs: HOUR_MS, windowMs: HOUR_MS },
  ip: { threshold: 20, baseBlockMs: 30_000, maxBlockMs: HOUR_MS, windowMs: HOUR_MS },
  signup: { threshold: 10, baseBlockMs: 10 * 60_000, maxBlockMs: 24 * HOUR_MS, windowMs: HOUR_MS },
};

export type ThrottleKind = keyof ThrottlePolicy;
export interface ThrottleKey {
  kind: ThrottleKind;
  key: string;
}

export const throttleKeys = {
  email: (email: string): ThrottleKey => ({ kind: "email", key: `email:${email.toLowerCase()}` }),
  ip: (address: string): ThrottleKey => ({ kind: "ip", key: `ip:${address}` }),
  signup: (address: string): ThrottleKey => ({ kind: "signup", key: `signup:${address}` }),
};

export class AuthThrottle {
  constructor(
    private readonly db: Db,
    readonly policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY,
  ) {}

  /** Throws 429 (with the longest wait) when any of the keys is blocked. One statement. */
  async assertNotBlocked(keys: ThrottleKey[], what: string): Promise<void> {
    if (keys.length === 0) return;
    const blocked = await this.db
      .select({ waitSeconds: sql<number>`ceil(extract(epoch from (${authThrottles.blockedUntil} - now())))::int` })
      .from(authThrottles)
      .where(and(inArray(authThrottles.key, keys.map((k) => k.key)), sql`${authThrottles.blockedUntil} > now()`));
    if (blocked.length === 0) return;
    const waitSeconds = Math.max(1, ...blocked.map((row) => Number(row.waitSeconds)));
    throw new AppError("TOO_MANY_REQUESTS", `Too many ${what}: try again in ${describeWait(waitSeconds)}`, undefined, {
      retryAfterSeconds: waitSeconds,
    });
  }

  /** Counts one failure on each key and blocks those past their threshold. */
  async recordFailure(keys: ThrottleKey[]): Promise<void> {
    for (const { kind, key } of keys) {
      const rule = this.policy[kind];
      const window = sql`now() - ${rule.windowMs} * interval '1 millisecond'`;
      // Quiet for a whole window (first failure and any block both older): start counting again.
      const stale = sql`(${authThrottles.firstFailureAt} < ${window} and (${authThrottles.blockedUntil} is null or ${authThrottles.blockedUntil} < ${window}))`;
      const [row] = await this.db
        .insert(authThrottles)
        .values({ key, failures: 1 })
        .onConflictDoUpdate({
          target: authThrottles.key,
          set: {
            failures: sql`case when ${stale} then 1 else ${authThrottles.failures} + 1 end`,
            firstFailureAt: sql`case when ${stale} then now() else ${authThrottles.firstFailureAt} end`,
          },
        })
        .returning({ failures: authThrottles.failures });
      const failures = row!.failures;
      if (failures < rule.threshold) continue;
      const blockMs = Math.min(rule.maxBlockMs, rule.baseBlockMs * 2 ** Math.min(30, failures - rule.threshold));
      await this.db
        .update(authThrottles)
        .set({ blockedUntil: sql`now() + ${blockMs} * interval '1 millisecond'` })
        .where(sql`${authThrottles.key} = ${key}`);
    }
  }

  /** A right password clears the account's count (never the address's: one's own account must not reset it). */
  async clear(keys: ThrottleKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.delete(authThrottles).where(inArray(authThrottles.key, keys.map((k) => k.key)));
  }

  /** The sweep's part: rows quiet for longer than every window. Returns how many went. */
  async purge(): Promise<number> {
    const longestWindowMs = Math.max(...Object.values(this.policy).map((rule) => rule.windowMs));
    const window = sql`now() - ${longestWindowMs} * interval '1 millisecond'`;
    const removed = await this.db
      .delete(authThrottles)
      .where(and(lt(authThrottles.firstFailureAt, window), or(isNull(authThrottles.blockedUntil), lt(authThrottles.blockedUntil, window))))
      .returning({ key: authThrottles.key });
    return removed.length;
  }
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.ceil(seconds / 3600)} h`;
}
