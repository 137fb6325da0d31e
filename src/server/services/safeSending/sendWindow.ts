/**
 * Send windows: the hours of the day (and the weekdays) a campaign may send, in a time zone
 * (the campaign's, or each recipient's with `recipientLocal`). Pure: the runner and the ETA ask.
 *
 * A window belongs to the day it opens: "22:00"–"06:00" with days [5] is open Friday 22:00 to
 * Saturday 06:00. Every opening and closing is a wall-clock time turned into an instant for that day,
 * so a window keeps its local hours on the days clocks change (a start that does not exist, 02:30 on
 * Berlin's spring day, opens at 03:30).
 */
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";
import type { SendWindow } from "~/server/db/schema";
import { localDateTime, timeZoneSchema, zonedTimeToInstant, type Interval } from "./calendar";
import { SINGLE_ZONE_COUNTRIES } from "./countryTimeZones";

export type { SendWindow };

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** "09:30" → 570. */
export function minuteOfDay(hhmm: string): number {
  const match = HH_MM.exec(hhmm);
  if (!match) throw new Error(`"${hhmm}" is not a time of day in the form HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}

export const sendWindowSchema = z
  .object({
    start: z.string().regex(HH_MM, { message: 'Use a 24-hour time "HH:MM", e.g. "09:00".' }),
    end: z.string().regex(HH_MM, { message: 'Use a 24-hour time "HH:MM", e.g. "20:00".' }),
    timeZone: timeZoneSchema,
    days: z
      .array(z.number().int().min(1, "Days are ISO weekdays: 1 = Monday ... 7 = Sunday.").max(7, "Days are ISO weekdays: 1 = Monday ... 7 = Sunday."))
      .min(1, "Give at least one day, or leave days out to send every day.")
      .refine((days) => new Set(days).size === days.length, "Each day may appear once.")
      .optional(),
    recipientLocal: z.boolean().optional(),
  })
  .strict()
  .refine((window) => window.start !== window.end, {
    message: "The window's start and end must differ (an end before the start crosses midnight).",
    path: ["end"],
  });

/** The window's open intervals that start on local days from `daysBefore` before `now` to `daysAfter` after. */
function openIntervalsAround(window: SendWindow, now: Date, zone: string, daysBefore: number, daysAfter: number): Interval[] {
  const startMinute = minuteOfDay(window.start);
  const endMinute = minuteOfDay(window.end);
  const crossesMidnight = endMinute <= startMinute;
  const today = localDateTime(now, zone);
  const intervals: Interval[] = [];
  for (let offset = -daysBefore; offset <= daysAfter; offset++) {
    // Date.UTC normalises the overflowing day; the weekday follows from the same calendar date.
    const calendarDay = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const weekday = calendarDay.getUTCDay() === 0 ? 7 : calendarDay.getUTCDay();
    if (window.days && !window.days.includes(weekday)) continue;
    const date = { year: calendarDay.getUTCFullYear(), month: calendarDay.getUTCMonth() + 1, day: calendarDay.getUTCDate() };
    const start = zonedTimeToInstant(date, startMinute, zone);
    const end = zonedTimeToInstant({ ...date, day: date.day + (crossesMidnight ? 1 : 0) }, endMinute, zone);
    if (end > start) intervals.push({ start, end });
  }
  return intervals;
}

/** The open interval holding `now`, or null when the window is closed at `now`. */
export function currentWindowInterval(window: SendWindow, now: Date, zone = window.timeZone): Interval | null {
  for (const interval of openIntervalsAround(window, now, zone, 1, 0)) {
    if (interval.start <= now && now < interval.end) return interval;
  }
  return null;
}

export function windowIsOpen(window: SendWindow, now: Date, zone = window.timeZone): boolean {
  return currentWindowInterval(window, now, zone) !== null;
}

/** `now` when the window is open; otherwise the instant it next opens (within the next 8 days). */
export function nextWindowOpening(window: SendWindow, now: Date, zone = window.timeZone): Date {
  if (windowIsOpen(window, now, zone)) return now;
  for (const interval of openIntervalsAround(window, now, zone, 0, 8)) {
    if (interval.start > now) return interval.start;
  }
  // Unreachable with a valid window (at least one day a week); fail loudly rather than loop.
  throw new Error("This send window never opens: check its days.");
}

/**
 * The zone a recipient's window is read in: their country's, from the phone number, when that country
 * keeps one local time (SINGLE_ZONE_COUNTRIES); otherwise (several zones, unknown country, not a valid
 * number) `fallbackZone`, the campaign's zone.
 */
export function recipientTimeZone(phoneE164: string, fallbackZone: string): string {
  const country = parsePhoneNumberFromString(phoneE164)?.country;
  return (country && SINGLE_ZONE_COUNTRIES[country]) || fallbackZone;
}
