/** Formatting helpers shared by the pages. Pure functions: safe anywhere, no server code. */

/** The browser's IANA time zone, e.g. "Europe/Berlin". */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export function formatDateTime(value: Date | string | null | undefined, withSeconds = false): string {
  if (!value) return "—";
  const date = value instanceof Date ? value : new Date(value);
  return (withSeconds ? dateTimeSeconds : dateTime).format(date);
}

export function formatTime(value: Date | string): string {
  return timeOnly.format(value instanceof Date ? value : new Date(value));
}

/** "in 3 min", "2 h ago": for the reader, not for machines. */
export function formatRelative(value: Date | string, now = Date.now()): string {
  const ms = (value instanceof Date ? value.getTime() : new Date(value).getTime()) - now;
  const future = ms >= 0;
  const text = formatDuration(Math.abs(ms) / 1000);
  return future ? `in ${text}` : `${text} ago`;
}

/** 42 s, 3 min, 1 h 5 min, 2 d 3 h. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 ? ` ${hours % 24} h` : ""}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

/** The value an `<input type="datetime-local" step="1">` shows for this instant, in the browser's zone. */
export function toLocalInputValue(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/**
 * A datetime-local value ("2026-12-01T09:30" or with seconds), read in the browser's time zone, as
 * ISO-8601 with that zone's offset at that instant ("2026-12-01T09:30:00+01:00"). Null when invalid.
 */
export function localInputToIsoWithOffset(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  if (Number.isNaN(date.getTime())) return null;
  return toIsoWithOffset(date);
}

/** This instant as ISO-8601 with the browser zone's offset, e.g. 2026-12-01T09:30:00-05:00. */
export function toIsoWithOffset(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  const sign = offsetMinutes >= 0 ? "+" : "-";
  return `${toLocalInputValue(date)}${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
}

/** "UTC−05:00" for a date in the browser's zone. */
export function offsetLabel(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  const sign = offsetMinutes >= 0 ? "+" : "−";
  return `UTC${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
}

/** Every count on every page, in the user's locale: 50,000 (en-US), 50.000 (de-DE). */
const counts = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function formatNumber(n: number): string {
  return counts.format(n);
}

/** "1 contact", "2 contacts", "50,000 contacts": the one way pages count things. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}
