/**
 * The one decision the runner and the ETA share: may this campaign's next message go at `now`, and if
 * not, why and until when. Pure: the runner passes counts it read from the database (across campaigns
 * and processes), the ETA passes the counts of its simulated clock.
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

/** When the batch pause after the campaign's last send ends, or null when no pause is due. */
export function batchPauseEnd(state: Pick<SendingState, "batchSize" | "batchPauseMs" | "campaignSent" | "campaignLastSentAt">): Date | null {
  const { batchSize, batchPauseMs, campaignSent, campaignLastSentAt } = state;
  if (!batchSize || !batchPauseMs || !campaignLastSentAt || campaignSent === 0 || campaignSent % batchSize !== 0) {
    return null;
  }
  return new Date(campaignLastSentAt.getTime() + batchPauseMs);
}

/** The first rule that holds the next message back at `now`, with its own end; null = send now. */
function firstHold(state: SendingState, now: Date): Waiting | null {
  const dailyLimit = effectiveDailyLimit(state.policy, state.firstSentAt, now);
  if (dailyLimit !== null && state.sentToday >= dailyLimit) {
    return { reason: "daily_limit", until: localDayBounds(now, state.policy.timeZone).end, detail: String(dailyLimit) };
  }
  const hourlyLimit = state.policy.hourlyLimit;
  if (hourlyLimit !== null && state.sentThisHour >= hourlyLimit) {
    return { reason: "hourly_limit", until: localHourBounds(now, state.policy.timeZone).end, detail: String(hourlyLimit) };
  }
  const pauseEnd = batchPauseEnd(state);
  if (pauseEnd && now < pauseEnd) {
    return { reason: "batch_pause", until: pauseEnd, detail: String(state.batchSize) };
  }
  const window = state.sendWindow;
  if (window && !currentWindowInterval(window, now, state.windowZone ?? window.timeZone)) {
    return {
      reason: "send_window",
      until: nextWindowOpening(window, now, state.windowZone ?? window.timeZone),
      detail: `${window.start}–${window.end}`,
    };
  }
  return null;
}

/**
 * Null when the next message may go at `now`. Otherwise the first reason that holds it back, and the
 * earliest instant at which every rule lets it go (a daily limit reached at 21:00 with a 09:00–20:00
 * window resumes tomorrow at 09:00, not at midnight).
 */
export function holdBack(state: SendingState, now: Date): Waiting | null {
  const first = firstHold(state, now);
  if (!first) return null;
  let at = now;
  let current: SendingState = state;
  let hold: Waiting | null = first;
  // Each step moves past one rule's end; counts of a day or hour that has passed start again at 0.
  for (let step = 0; hold?.until && step < 50; step++) {
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
