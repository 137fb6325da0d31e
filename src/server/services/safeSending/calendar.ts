/**
 * Calendar arithmetic in an IANA time zone, with nothing but Intl (no library: Node's ICU already knows
 * every zone's rules, and these few functions are all the rules need). Limits count calendar days and
 * hours in the number's zone; send windows open at a wall-clock time. Both must hold on the days a zone
 * moves its clocks (a 23- or 25-hour day) and in zones whose offset is not whole hours (+5:30, +5:45).
 */
import { z } from "zod";

export interface LocalDateTime {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday: 1 = Monday ... 7 = Sunday. */
  weekday: number;
}

export interface Interval {
  start: Date;
  end: Date;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

// Building a DateTimeFormat costs far more than using one; the ETA calls these in loops.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when `timeZone` is an IANA zone this runtime knows ("Europe/Berlin", "UTC"). */
export function isValidTimeZone(timeZone: string): boolean {
  if (!timeZone) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, { message: 'Use an IANA time zone such as "Europe/Berlin" or "UTC".' });

/** The wall clock in `timeZone` at `instant`, asked of ICU (a few µs). */
function wallClockFromIcu(instant: Date, timeZone: string): LocalDateTime {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ""] ?? 1,
  };
}

function offsetFromIcu(instantMs: number, timeZone: string): number {
  const local = wallClockFromIcu(new Date(instantMs), timeZone);
  const wallAsUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return wallAsUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * Offsets by quarter hour: zones change offset at most once in months, always on a quarter hour, so
 * an offset that is the same at both ends of a quarter hour holds all through it. The ETA and the
 * window checks then read the wall clock with Date arithmetic instead of ICU (measured: a
 * 10,000-message estimate under every rule, 104 ms before).
 */
const QUARTER_HOUR_MS = 15 * MINUTE_MS;
const offsetsByQuarterHour = new Map<string, number | null>();

/** The wall clock in `timeZone` at `instant`. */
export function localDateTime(instant: Date, timeZone: string): LocalDateTime {
  const instantMs = instant.getTime();
  const quarter = Math.floor(instantMs / QUARTER_HOUR_MS);
  const key = `${timeZone}|${quarter}`;
  let offset = offsetsByQuarterHour.get(key);
  if (offset === undefined) {
    const atStart = offsetFromIcu(quarter * QUARTER_HOUR_MS, timeZone);
    const atEnd = offsetFromIcu((quarter + 1) * QUARTER_HOUR_MS - 1, timeZone);
    offset = atStart === atEnd ? atStart : null;
    if (offsetsByQuarterHour.size >= 50_000) offsetsByQuarterHour.clear();
    offsetsByQuarterHour.set(key, offset);
  }
  if (offset === null) return wallClockFromIcu(instant, timeZone);
  const wall = new Date(instantMs + offset);
  const weekday = wall.getUTCDay();
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    weekday: weekday === 0 ? 7 : weekday,
  };
}

/** The zone's offset from UTC at `instant`, in ms (Berlin in summer: +7,200,000). */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const local = localDateTime(instant, timeZone);
  const wallAsUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const wholeSeconds = Math.floor(instant.getTime() / 1000) * 1000;
  return wallAsUtc - wholeSeconds;
}

/**
 * The instant at which the wall clock in `timeZone` reads the given date and time. A time that occurs
 * twice (clocks moved back) is its first occurrence; a time that does not exist (clocks moved forward)
 * is moved forward by the gap, as a person would (02:30 on Berlin's spring day is 03:30 CEST).
 * Month and day may overflow (day 32 is the next month's 1st), which makes "the next day" easy.
 */
export function zonedTimeToInstant(
  date: { year: number; month: number; day: number },
  minuteOfDay: number,
  timeZone: string,
): Date {
  // Windows and day bounds ask for the same few wall times again and again (the ETA, every read).
  const key = `${timeZone}|${date.year}|${date.month}|${date.day}|${minuteOfDay}`;
  const known = resolvedWallTimes.get(key);
  if (known !== undefined) return new Date(known);
  if (resolvedWallTimes.size >= 10_000) resolvedWallTimes.clear();
  const instant = resolveWallTime(date, minuteOfDay, timeZone);
  resolvedWallTimes.set(key, instant);
  return new Date(instant);
}

const resolvedWallTimes = new Map<string, number>();

function resolveWallTime(date: { year: number; month: number; day: number }, minuteOfDay: number, timeZone: string): number {
  const wallAsUtc = Date.UTC(date.year, date.month - 1, date.day, 0, minuteOfDay);
  // Offsets that may apply near this wall time: a day before, at, and a day after (one transition at most).
  const offsetBefore = zoneOffsetMs(new Date(wallAsUtc - DAY_MS), timeZone);
  const candidates = [offsetBefore, zoneOffsetMs(new Date(wallAsUtc), timeZone), zoneOffsetMs(new Date(wallAsUtc + DAY_MS), timeZone)];
  let earliest: number | null = null;
  for (const offset of candidates) {
    const instant = wallAsUtc - offset;
    if (zoneOffsetMs(new Date(instant), timeZone) === offset && (earliest === null || instant < earliest)) {
      earliest = instant;
    }
  }
  // In a gap no candidate reads back: keep the offset from before the change, which lands past the gap.
  return earliest ?? wallAsUtc - offsetBefore;
}

/** The local calendar day holding `now`: from its first instant to the next day's first instant. */
export function localDayBounds(now: Date, timeZone: string): Interval {
  const local = localDateTime(now, timeZone);
  return {
    start: zonedTimeToInstant(local, 0, timeZone),
    end: zonedTimeToInstant({ ...local, day: local.day + 1 }, 0, timeZone),
  };
}

/**
 * The local clock hour holding `now`. Offsets are whole minutes in every zone in use, so the local
 * hour starts `minute:second` before `now`; Kolkata's hours start at :30 UTC. When clocks go back,
 * the repeated hour counts twice, once per real hour (an hourly limit is about real time).
 */
export function localHourBounds(now: Date, timeZone: string): Interval {
  const local = localDateTime(now, timeZone);
  const start = now.getTime() - local.minute * MINUTE_MS - local.second * 1000 - (now.getTime() % 1000 + 1000) % 1000;
  return { start: new Date(start), end: new Date(start + HOUR_MS) };
}

/** Whole local calendar days from `from`'s day to `to`'s day (same day = 0), in `timeZone`. */
export function localDaysBetween(from: Date, to: Date, timeZone: string): number {
  const a = localDateTime(from, timeZone);
  const b = localDateTime(to, timeZone);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY_MS);
}
