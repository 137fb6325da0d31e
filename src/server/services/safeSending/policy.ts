/**
 * A WhatsApp number's sending policy (issue 13): how many messages it may send per local day and per
 * hour, whether a new number warms up, and the courtesy steps before each send. Pure rules; the
 * database columns are whatsapp_sessions.time_zone, daily_limit, hourly_limit, warmup, typing,
 * check_exists, max_consecutive_failures.
 */
import { z } from "zod";
import { localDaysBetween, timeZoneSchema } from "./calendar";

export interface NumberPolicy {
  /** IANA zone whose calendar days and hours the limits count. */
  timeZone: string;
  /** Messages per local calendar day; null = no limit. */
  dailyLimit: number | null;
  /** Messages per local clock hour; null = no limit. */
  hourlyLimit: number | null;
  /** A new number starts lower and climbs to `dailyLimit` (see warmupSchedule). */
  warmup: boolean;
  /** sendSeen, startTyping for a time that grows with the text, stopTyping, then the send. */
  typing: boolean;
  /** Ask WAHA whether a number is on WhatsApp before its first message; skip it if not. */
  checkExists: boolean;
  /** Pause the number's campaigns after this many failed sends in a row; null = never. */
  maxConsecutiveFailures: number | null;
}

/**
 * What a number created by a person starts with (the owner sees these and may change them). Sources,
 * as gathered in issue 13:
 * - dailyLimit 200: numbers that once sent 1,000 a day are now banned at 40–50 (evolution-api#1870) and
 *   300 messages at 2 s gaps got numbers banned three times in a week (waha#246). 200 a day is well
 *   below what banned established numbers, and a new number never reaches it before the warm-up
 *   (20 → 40 → 80 → 150) has run for 12 days.
 * - hourlyLimit 80: what people who run numbers keep to; it also matches WAHA's advice of random
 *   30–60 s gaps (a 45 s mean is 80 an hour), so a short delay range cannot burst.
 * - warmup on: tools cap new numbers at 20–50 a day and ramp over 1–2 weeks; a new number was banned
 *   after 18 messages at 30 s gaps.
 * - typing on, checkExists on: WAHA's "how to avoid blocking" guide (typing before sending); messages
 *   to numbers not on WhatsApp are wasted and look like a spammer's list.
 * - maxConsecutiveFailures 5: the default; five failures in a row on a WORKING session is
 *   how a restriction shows before WhatsApp says so (WAHA's guide: 5–10 spam reports ban a number).
 * - timeZone UTC: the service replaces it with the owner's zone when the page sends one.
 */
export const SAFE_DEFAULT_POLICY: Readonly<NumberPolicy> = Object.freeze({
  timeZone: "UTC",
  dailyLimit: 200,
  hourlyLimit: 80,
  warmup: true,
  typing: true,
  checkExists: true,
  maxConsecutiveFailures: 5,
});

/** The column defaults: no limits, no courtesy steps (numbers inserted directly, tests, the bench). */
export const NEUTRAL_POLICY: Readonly<NumberPolicy> = Object.freeze({
  timeZone: "UTC",
  dailyLimit: null,
  hourlyLimit: null,
  warmup: false,
  typing: false,
  checkExists: false,
  maxConsecutiveFailures: null,
});

/** The warm-up's daily caps before the number's own limit, each for WARMUP_STEP_DAYS days. */
export const WARMUP_STEPS: readonly number[] = [20, 40, 80, 150];
/** 4 steps × 3 days: the number reaches its own limit on its 13th day, inside the 1–2 weeks tools use. */
export const WARMUP_STEP_DAYS = 3;

/**
 * The daily caps a warming-up number goes through, one entry per WARMUP_STEP_DAYS days, ending with
 * `dailyLimit` (steps at or above it are dropped). With no daily limit the last entry is null: after
 * the warm-up the number has no cap.
 */
export function warmupSchedule(dailyLimit: number | null): (number | null)[] {
  const steps: (number | null)[] = WARMUP_STEPS.filter((step) => dailyLimit === null || step < dailyLimit);
  steps.push(dailyLimit);
  return steps;
}

/**
 * Today's cap for a number: `dailyLimit`, or, warming up, the step for how many local calendar days
 * have passed since its first send (no send yet = day 0, the first step).
 */
export function effectiveDailyLimit(
  policy: Pick<NumberPolicy, "dailyLimit" | "warmup" | "timeZone">,
  firstSentAt: Date | null,
  now: Date,
): number | null {
  if (!policy.warmup) return policy.dailyLimit;
  const schedule = warmupSchedule(policy.dailyLimit);
  const daysSending = firstSentAt ? Math.max(0, localDaysBetween(firstSentAt, now, policy.timeZone)) : 0;
  const step = Math.min(Math.floor(daysSending / WARMUP_STEP_DAYS), schedule.length - 1);
  return schedule[step] ?? null;
}

const limitSchema = (what: string) =>
  z
    .number({ message: `${what} must be a whole number of messages, or null for no limit.` })
    .int(`${what} must be a whole number of messages, or null for no limit.`)
    .min(1, `${what} must be at least 1 (use null for no limit).`)
    .max(100_000, `${what} must be at most 100000.`)
    .nullable();

/** Every field of a policy, validated; PATCH takes any subset (`numberPolicyPatchSchema`). */
export const numberPolicySchema = z
  .object({
    timeZone: timeZoneSchema,
    dailyLimit: limitSchema("dailyLimit"),
    hourlyLimit: limitSchema("hourlyLimit"),
    warmup: z.boolean(),
    typing: z.boolean(),
    checkExists: z.boolean(),
    maxConsecutiveFailures: z
      .number()
      .int("maxConsecutiveFailures must be a whole number.")
      .min(1, "maxConsecutiveFailures must be at least 1 (use null to never pause on failures).")
      .max(1000, "maxConsecutiveFailures must be at most 1000.")
      .nullable(),
  })
  .strict();

export const numberPolicyPatchSchema = numberPolicySchema.partial();
