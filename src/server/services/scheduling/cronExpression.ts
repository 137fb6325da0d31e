/**
 * node-cron takes a cron expression, not a Date (`pattern must be a string`). A campaign fires once,
 * so its expression names one second of one day in UTC: `s m h D M *`. Such an expression matches
 * again a year later; the caller guards the year and destroys the task after it fires.
 */

/** The whole UTC second a one-shot task is armed for: `scheduledAt` rounded down, but never a second already begun. */
export function armingSecond(scheduledAt: Date, now: Date = new Date()): Date {
  const scheduledSecond = Math.floor(scheduledAt.getTime() / 1000) * 1000;
  const currentSecond = Math.floor(now.getTime() / 1000) * 1000;
  // node-cron arms the first match strictly after the current second; a time inside the current
  // second can only be reached at the next one.
  return new Date(Math.max(scheduledSecond, currentSecond + 1000));
}

/** Six-field expression (`second minute hour day-of-month month day-of-week`) matching `at`'s UTC second. */
export function cronExpressionFor(at: Date): string {
  return [at.getUTCSeconds(), at.getUTCMinutes(), at.getUTCHours(), at.getUTCDate(), at.getUTCMonth() + 1, "*"].join(" ");
}

/** True when a firing reported for `firedSlot` is the armed one, not the same date in a later year. */
export function isArmedSlot(firedSlot: Date, armedAt: Date): boolean {
  return firedSlot.getUTCFullYear() === armedAt.getUTCFullYear();
}
