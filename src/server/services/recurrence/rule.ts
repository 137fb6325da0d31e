/**
 * A recurring campaign's rule (issue 15): `{cron, timeZone, until?}`. The cron expression is read in
 * the IANA zone by croner (its next-occurrence and daylight-saving arithmetic, not ours): `0 9 * * SUN`
 * in Europe/Berlin is 08:00 UTC in winter and 07:00 UTC in summer. Pure and clock-free: callers pass
 * the instant to count from.
 *
 * The one cron reader for people's expressions is croner; node-cron only ever gets the one-second,
 * UTC expressions the scheduler builds itself (scheduling/cronExpression.ts).
 */
import { Cron } from "croner";
import { z } from "zod";
import type { CampaignRecurrence } from "~/server/db/schema";
import { badRequest } from "../errors";

export type { CampaignRecurrence };

/** Occurrences closer together than this are refused: each one is a whole campaign run. */
export const MIN_OCCURRENCE_GAP_MS = 60_000;

/** A croner pattern for the rule, or the reason it is not one (null zone check: see `zoneProblem`). */
function cronFor(rule: Pick<CampaignRecurrence, "cron" | "timeZone">): Cron {
  return new Cron(rule.cron, { timezone: rule.timeZone, paused: true, mode: "5-part" });
}

function zoneProblem(timeZone: string): string | null {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone }).format(0);
    return null;
  } catch {
    return `Unknown time zone "${timeZone}": use an IANA name such as Europe/Berlin or Asia/Jakarta`;
  }
}

function cronProblem(cron: string): string | null {
  try {
    const pattern = new Cron(cron, { paused: true, mode: "5-part" });
    const first = pattern.nextRun(new Date(0));
    if (!first) return "This cron expression never matches a date";
    const second = pattern.nextRun(first);
    if (second && second.getTime() - first.getTime() < MIN_OCCURRENCE_GAP_MS) {
      return "Runs must be at least a minute apart: use five fields (minute hour day month weekday), e.g. 0 9 * * MON";
    }
    return null;
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^CronPattern: /, "") : String(error);
    return `Not a cron expression (minute hour day month weekday, e.g. 0 9 * * MON): ${detail}`;
  }
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** What the API takes: each problem is a 400 naming `recurrence.cron`, `recurrence.timeZone` or `recurrence.until`. */
export const recurrenceSchema = z
  .strictObject({
    cron: z.string().trim().min(1, "Give a cron expression, e.g. 0 9 * * MON").max(200),
    timeZone: z.string().trim().min(1, "Give an IANA time zone, e.g. Asia/Jakarta").max(64),
    until: z
      .string()
      .meta({ format: "date-time", examples: ["2027-06-30T23:59:59+07:00"] })
      .refine((value) => ISO_WITH_OFFSET.test(value) && !Number.isNaN(new Date(value).getTime()), {
        message: "Use ISO-8601 with a time zone offset, e.g. 2027-06-30T23:59:59+07:00",
      })
      .nullish(),
  })
  .superRefine((rule, ctx) => {
    const cron = cronProblem(rule.cron);
    if (cron) ctx.addIssue({ code: "custom", path: ["cron"], message: cron });
    const zone = zoneProblem(rule.timeZone);
    if (zone) ctx.addIssue({ code: "custom", path: ["timeZone"], message: zone });
  })
  .transform((rule): CampaignRecurrence => ({ cron: rule.cron, timeZone: rule.timeZone, until: rule.until ? new Date(rule.until).toISOString() : null }))
  .meta({
    description: "Repeat the campaign: each occurrence of `cron` (five fields) in `timeZone` is a run with its own recipients, until `until` (optional).",
    examples: [{ cron: "0 9 * * MON", timeZone: "Asia/Jakarta" }],
  });

/**
 * The next `count` occurrences strictly after `after`, none past `until`. Instants (UTC Dates): a
 * local 09:00 stays 09:00 across a daylight-saving change; a local time skipped by the change is
 * moved as croner moves it (forward, like the clock).
 */
export function nextOccurrences(rule: CampaignRecurrence, after: Date, count: number): Date[] {
  const pattern = cronFor(rule);
  const until = rule.until ? new Date(rule.until).getTime() : Number.POSITIVE_INFINITY;
  const found: Date[] = [];
  let from = after;
  while (found.length < count) {
    const next = pattern.nextRun(from);
    if (!next || next.getTime() > until) break;
    found.push(next);
    from = next;
  }
  return found;
}

export function nextOccurrence(rule: CampaignRecurrence, after: Date): Date | null {
  return nextOccurrences(rule, after, 1)[0] ?? null;
}

/** The first run of a new or changed series, after `after`: a 400 naming `recurrence.until` when `until` leaves none. */
export function firstOccurrence(rule: CampaignRecurrence, after: Date): Date {
  const first = nextOccurrence(rule, after);
  if (!first) {
    const unbounded = nextOccurrence({ ...rule, until: null }, after);
    throw badRequest(
      unbounded
        ? `until (${rule.until}) is before the first occurrence (${unbounded.toISOString()}): the campaign would never run`
        : "This cron expression has no occurrence ahead",
      unbounded ? "recurrence.until" : "recurrence.cron",
    );
  }
  return first;
}
