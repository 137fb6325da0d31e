/**
 * Why a Running (or Scheduled) campaign is held back, and the words the page shows for it. The runner
 * stores `reason`, `until` and `detail` in campaigns.waiting_reason / waiting_until / waiting_detail;
 * a campaign reads back with `waiting: {reason, until}`.
 */
import { localDateTime, localDaysBetween } from "./calendar";

export const WAITING_REASONS = ["daily_limit", "hourly_limit", "send_window", "batch_pause", "number_busy"] as const;
export type WaitingReason = (typeof WAITING_REASONS)[number];

export interface Waiting {
  reason: WaitingReason;
  /** When sending may go on; null when it depends on something else (another campaign's send). */
  until: Date | null;
  /**
   * What the words need, by reason: daily_limit / hourly_limit: the limit ("40");
   * send_window: the hours ("09:00–20:00"); batch_pause: the batch size ("50");
   * number_busy: the other campaign's name.
   */
  detail: string | null;
}

export interface WaitingContext {
  now: Date;
  /** The zone the reader thinks in (the page passes the browser's). */
  timeZone: string;
  /** The WhatsApp number's name, as the owner knows it ("Sales"). */
  numberName?: string | null;
}

const timeOfDay = (instant: Date, timeZone: string) =>
  new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(instant);

/** "in 40 seconds", "today at 14:05", "tomorrow at 09:00", "on Friday at 09:00", "on 12 Dec at 09:00". */
export function describeWhen(until: Date, now: Date, timeZone: string): string {
  const secondsAway = Math.ceil((until.getTime() - now.getTime()) / 1000);
  if (secondsAway <= 0) return "now";
  if (secondsAway < 90) return `in ${secondsAway} second${secondsAway === 1 ? "" : "s"}`;
  const days = localDaysBetween(now, until, timeZone);
  const at = `at ${timeOfDay(until, timeZone)}`;
  if (days === 0) return `today ${at}`;
  if (days === 1) return `tomorrow ${at}`;
  if (days < 7) {
    return `on ${new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "long" }).format(until)} ${at}`;
  }
  const local = localDateTime(until, timeZone);
  const month = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", month: "short" }).format(
    new Date(Date.UTC(local.year, local.month - 1, 15)),
  );
  return `on ${local.day} ${month} ${local.year} ${at}`;
}

/** "Waiting: Sales reached today's limit of 40; resumes tomorrow at 09:00". */
export function describeWaiting(waiting: Waiting, context: WaitingContext): string {
  const number = context.numberName ? context.numberName : "The number";
  const resumes = waiting.until ? `; resumes ${describeWhen(waiting.until, context.now, context.timeZone)}` : "";
  switch (waiting.reason) {
    case "daily_limit":
      return `Waiting: ${number} reached today's limit${waiting.detail ? ` of ${waiting.detail}` : ""}${resumes}`;
    case "hourly_limit":
      return `Waiting: ${number} reached its limit${waiting.detail ? ` of ${waiting.detail}` : ""} an hour${resumes}`;
    case "send_window":
      return `Waiting: outside the send window${waiting.detail ? ` (${waiting.detail})` : ""}${resumes}`;
    case "batch_pause":
      return `Waiting: pause after a batch${waiting.detail ? ` of ${waiting.detail} messages` : ""}${resumes}`;
    case "number_busy":
      return `Waiting: ${number} is sending ${waiting.detail ? `campaign "${waiting.detail}"` : "another campaign"}; this one takes turns with it${resumes}`;
    default:
      return `Waiting (${String(waiting.reason)})${resumes}`;
  }
}
