/**
 * The one decision the runner and the ETA share: may this campaign's next message go at `now`, and if
 * not, why and until when. Pure: the ETA passes the counts of its simulated clock to `holdBack`; the
 * runner (runner/sendRules.ts), whose limits the database enforces, builds its waiting from the same
 * rule functions below (`limitHold`, `batchPauseHold`, `closedWindowHold`), so the two cannot drift.
 */
import type { SendWindow } from "~/server/db/schema";
import { localDayBounds, localHourBounds } from "./calendar";
import { effectiveDailyLimit, type NumberPolicy } from "./policy";
import { currentWindowInterval, nextWindowOpening } from "./sendWindow";
import type { Waiting } from "./waiting";

export interface SendingState {
  policy: Pick<NumberPolicy, "timeZone" | "dailyLimit" | "hourlyLimit" | "warmup">;
  /** The number's first send ever (warm-up day 0). */
  firstSentAt: Date | null;
  /** Messages the number sent in the local day (policy.timeZone) holding `now`, all campaigns. */
  sentToday: number;
  /** Messages the number sent in the local hour holding `now`, all campaigns. */
  sentThisHour: number;
  sendWindow: SendWindow | null;
  /** The zone the window is read in for the next recipient (recipientLocal); default the window's. */
  windowZone?: string;
  batchSize: number | null;
  batchPauseMs: number | null;
  /** Messages this campaign sent so far: a batch ends at every multiple of batchSize. */
  campaignSent: number;
  /** This campaign's last send: the batch pause counts from it. */
  campaignLastSentAt: Date | null;
}

/** A rule holding the next message back: why, until when (never open-ended), and the words' detail. */
export interface Hold extends Waiting {
  until: Date;
  detail: string;
}

/** A daily or hourly limit reached: held until the number's next local day or hour (policy.timeZone). */
export function limitHold(reason: "daily_limit" | "hourly_limit", limit: number, now: Date, timeZone: string): Hold {
  const bounds = reason === "daily_limit" ? localDayBounds(now, timeZone) : localHourBounds(now, timeZone);
  return { reason, until: bounds.end, detail: String(limit) };
}

/** The window's hours, as the page shows them. */
export function windowWords(window: SendWindow): string {
  return `${window.start}–${window.end}`;
}

/** The send window, closed at `now` in `zone`: held until it next opens there. */
export function closedWindowHold(window: SendWindow, now: Date, zone: string = window.timeZone): Hold {
  return { reason: "send_window", until: nextWindowOpening(window, now, zone), detail: windowWords(window) };
}

/** When the batch pause after the campaign's last send ends, or null when no pause is due. */
export function batchPauseEnd(state: Pick<SendingState, "batchSize" | "batchPauseMs" | "campaignSent" | "campaignLastSentAt">): Date | null {
  const { batchSize, batchPauseMs, campaignSent, campaignLastSentAt } = state;
  if (!batchSize || !batchPauseMs || !campaignLastSentAt || campaignSent === 0 || campaignSent % batchSize !== 0) {
    return null;
  }
  return new Date(campaignLastSentAt.getTime() + batchPauseMs);
}

/** The batch pause, while it lasts at `now`; null when none is due or it is over. */
export function batchPauseHold(
  state: Pick<SendingState, "batchSize" | "batchPauseMs" | "campaignSent" | "campaignLastSentAt">,
  now: Date,
): Hold | null {
  const pauseEnd = batchPauseEnd(state);
  return pauseEnd && now < pauseEnd ? { reason: "batch_pause", until: pauseEnd, detail: String(state.batchSize) } : null;
}

/** The first rule that holds the next message back at `now`, with its own end; null = send now. */
function firstHold(state: SendingState, now: Date): Hold | null {
  const dailyLimit = effectiveDailyLimit(state.policy, state.firstSentAt, now);
  if (dailyLimit !== null && state.sentToday >= dailyLimit) {
    return limitHold("daily_limit", dailyLimit, now, state.policy.timeZone);
  }
  const hourlyLimit = state.policy.hourlyLimit;
  if (hourlyLimit !== null && state.sentThisHour >= hourlyLimit) {
    return limitHold("hourly_limit", hourlyLimit, now, state.policy.timeZone);
  }
  const batchPause = batchPauseHold(state, now);
  if (batchPause) return batchPause;
  const window = state.sendWindow;
  const zone = state.windowZone ?? window?.timeZone;
  if (window && !currentWindowInterval(window, now, zone)) return closedWindowHold(window, now, zone);
  return null;
}

/**
 * Null when the next message may go at `now`. Otherwise the first reason that holds it back, and the
 * earliest instant at which every rule lets it go (a daily limit reached at 21:00 with a 09:00–20:00
 * window resumes tomorrow at 09:00, not at midnight).
 */
export function holdBack(state: SendingState, now: Date): Hold | null {
  const first = firstHold(state, now);
  if (!first) return null;
  let at = now;
  let current: SendingState = state;
  let hold: Hold | null = first;
  // Each step moves past one rule's end; counts of a day or hour that has passed start again at 0.
  for (let step = 0; hold && step < 50; step++) {
    const next: Date = hold.until;
    const dayEnd = localDayBounds(at, state.policy.timeZone).end;
    const hourEnd = localHourBounds(at, state.policy.timeZone).end;
    current = {
      ...current,
      sentToday: next >= dayEnd ? 0 : current.sentToday,
      sentThisHour: next >= hourEnd ? 0 : current.sentThisHour,
    };
    at = next;
    hold = firstHold(current, at);
  }
  return { ...first, until: at };
}
