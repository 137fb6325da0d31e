/**
 * `latestStart`: a campaign that could not start by then is marked Missed instead of running late
 * (a "good morning" at 3 p.m. does more harm than none). Unset keeps the seed plan's behaviour: a
 * missed campaign runs at the next start-up.
 */

/** True when a campaign that has not started yet may no longer start at `now` (`latestStart` itself still may). */
export function latestStartPassed(latestStart: Date | null, now: Date): boolean {
  return latestStart !== null && now.getTime() > latestStart.getTime();
}

/** The reason a Missed campaign shows. */
export function missedReason(latestStart: Date, now: Date): string {
  return `It could not start by its latest start (${latestStart.toISOString()}); checked at ${now.toISOString()}, so it was not sent late.`;
}
