/**
 * The ETA of a campaign under the safe-sending rules: a simulated clock that goes from send to send
 * with the mean delay and jumps over every wait (daily and hourly limits with their rollovers, the
 * warm-up's rising cap, the send window, batch pauses), using the same `holdBack` decision as the
 * runner. It moves in runs (every message until the next boundary at once), so a million recipients
 * cost a few thousand steps, not a million; past SIMULATED_HORIZON_MS of simulated time the rest is
 * extrapolated at the pace of the last PACE_SAMPLE_MS (by then the warm-up is over and every week
 * looks like the one before), so an estimate stays cheap enough for every read of a campaign.
 *
 * Approximations, stated: the mean of the delay range stands for every delay; the number's other
 * campaigns are not simulated (their sends already counted in `sentToday`/`sentThisHour` are); with
 * `recipientLocal` the window is read in the campaign's zone.
 */
import { localDayBounds, localHourBounds } from "./calendar";
import { holdBack, type SendingState } from "./holdBack";
import { effectiveDailyLimit } from "./policy";
import { currentWindowInterval } from "./sendWindow";

/** The run's state as `holdBack` reads it (the window in the campaign's zone), and what the pace needs. */
export interface RunToSimulate extends Omit<SendingState, "windowZone"> {
  /** Recipients still to send. */
  remaining: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** When the number may send next (the slot's next_send_at); default now. */
  nextSendAt?: Date | null;
}

export interface SimulatedRun {
  /** When the last message goes; `now` when nothing remains; null when the rules never let it finish. */
  finishAt: Date | null;
  /** Time spent waiting on limits, windows and pauses (ms), for "of which waiting: ..." texts. */
  waitingMs: number;
}

const MAX_STEPS = 1_000_000;
const DAY_MS = 86_400_000;
export const SIMULATED_HORIZON_MS = 120 * DAY_MS;
const PACE_SAMPLE_MS = 14 * DAY_MS;

export function simulateRun(run: RunToSimulate, now: Date): SimulatedRun {
  if (run.remaining <= 0) return { finishAt: now, waitingMs: 0 };
  const delay = Math.max(0, Math.round((run.delayMinMs + run.delayMaxMs) / 2));
  const zone = run.policy.timeZone;
  let t = run.nextSendAt && run.nextSendAt > now ? run.nextSendAt : now;
  let left = run.remaining;
  let waitingMs = 0;
  // A copy the simulation moves forward; the caller's object is left as it was.
  const { remaining: _remaining, delayMinMs: _min, delayMaxMs: _max, nextSendAt: _next, ...rules } = run;
  const state: SendingState = { ...rules };
  let paceSample: { at: number; left: number } | null = null;
  let day = localDayBounds(t, zone);
  let hour = localHourBounds(t, zone);

  for (let step = 0; step < MAX_STEPS; step++) {
    const simulatedMs = t.getTime() - now.getTime();
    if (simulatedMs >= SIMULATED_HORIZON_MS - PACE_SAMPLE_MS) paceSample ??= { at: t.getTime(), left };
    if (simulatedMs >= SIMULATED_HORIZON_MS && paceSample) {
      const sentPerMs = (paceSample.left - left) / (t.getTime() - paceSample.at);
      if (sentPerMs <= 0) return { finishAt: null, waitingMs };
      return { finishAt: new Date(t.getTime() + Math.round(left / sentPerMs)), waitingMs };
    }
    // Counts belong to the day and hour they were made in.
    if (t >= day.end) {
      day = localDayBounds(t, zone);
      state.sentToday = 0;
    }
    if (t >= hour.end) {
      hour = localHourBounds(t, zone);
      state.sentThisHour = 0;
    }
    const hold = holdBack(state, t);
    if (hold) {
      if (!hold.until) return { finishAt: null, waitingMs };
      waitingMs += hold.until.getTime() - t.getTime();
      t = hold.until;
      continue;
    }
    // Send a run: every message until the first boundary (a limit, a batch, the end of the day, the
    // hour or the window), all at `delay` apart.
    const dailyLimit = effectiveDailyLimit(run.policy, state.firstSentAt, t);
    let count = left;
    if (dailyLimit !== null) count = Math.min(count, dailyLimit - state.sentToday);
    if (run.policy.hourlyLimit !== null) count = Math.min(count, run.policy.hourlyLimit - state.sentThisHour);
    if (run.batchSize && run.batchPauseMs) count = Math.min(count, run.batchSize - (state.campaignSent % run.batchSize));
    const window = run.sendWindow ? currentWindowInterval(run.sendWindow, t) : null;
    const boundary = Math.min(day.end.getTime(), hour.end.getTime(), window ? window.end.getTime() : Infinity);
    if (delay > 0) count = Math.min(count, Math.floor((boundary - 1 - t.getTime()) / delay) + 1);
    count = Math.max(1, count);
    const last = new Date(t.getTime() + (count - 1) * delay);
    left -= count;
    state.firstSentAt ??= t;
    state.sentToday += count;
    state.sentThisHour += count;
    state.campaignSent += count;
    state.campaignLastSentAt = last;
    if (left <= 0) return { finishAt: last, waitingMs };
    t = new Date(last.getTime() + delay);
  }
  // The rules keep holding it (cannot happen with valid settings): say "unknown" rather than loop on.
  return { finishAt: null, waitingMs };
}
