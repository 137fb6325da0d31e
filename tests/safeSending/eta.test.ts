import { describe, expect, it } from "vitest";
import type { SendWindow } from "~/server/db/schema";
import { localDayBounds, localHourBounds } from "~/server/services/safeSending/calendar";
import { simulateRun, type RunToSimulate } from "~/server/services/safeSending/eta";
import { holdBack, type SendingState } from "~/server/services/safeSending/holdBack";
import { latestStartPassed, missedReason } from "~/server/services/safeSending/latestStart";
import { describeWaiting, describeWhen } from "~/server/services/safeSending/waiting";

const at = (iso: string) => new Date(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const noRules: SendingState = {
  policy: { timeZone: "Europe/Berlin", dailyLimit: null, hourlyLimit: null, warmup: false },
  firstSentAt: null,
  sentToday: 0,
  sentThisHour: 0,
  sendWindow: null,
  batchSize: null,
  batchPauseMs: null,
  campaignSent: 0,
  campaignLastSentAt: null,
};
const office: SendWindow = { start: "09:00", end: "20:00", timeZone: "Europe/Berlin" };

describe("holdBack: what holds the next message", () => {
  const noon = at("2026-01-15T11:00:00Z"); // 12:00 in Berlin

  it("nothing, with no rules", () => {
    expect(holdBack(noRules, noon)).toBeNull();
  });

  it("the daily limit, until the number's midnight", () => {
    const state = { ...noRules, policy: { ...noRules.policy, dailyLimit: 3 }, sentToday: 3 };
    expect(holdBack({ ...state, sentToday: 2 }, noon)).toBeNull();
    expect(holdBack(state, noon)).toEqual({ reason: "daily_limit", until: at("2026-01-15T23:00:00Z"), detail: "3" });
  });

  it("the daily limit with a window: resumes tomorrow when the window opens, not at midnight", () => {
    const state = { ...noRules, policy: { ...noRules.policy, dailyLimit: 3 }, sentToday: 3, sendWindow: office };
    expect(holdBack(state, noon)).toEqual({ reason: "daily_limit", until: at("2026-01-16T08:00:00Z"), detail: "3" });
  });

  it("a warming-up number's cap, not its own limit", () => {
    const state = { ...noRules, policy: { ...noRules.policy, dailyLimit: 200, warmup: true }, sentToday: 20 };
    expect(holdBack({ ...state, firstSentAt: at("2026-01-14T09:00:00Z") }, noon)?.detail).toBe("20");
    expect(holdBack({ ...state, firstSentAt: at("2026-01-10T09:00:00Z") }, noon)).toBeNull();
  });

  it("the hourly limit, until the next local hour (Kolkata's at :30 UTC)", () => {
    const state = { ...noRules, policy: { ...noRules.policy, timeZone: "Asia/Kolkata", hourlyLimit: 80 }, sentThisHour: 80 };
    expect(holdBack(state, at("2026-01-15T11:10:00Z"))).toEqual({
      reason: "hourly_limit",
      until: at("2026-01-15T11:30:00Z"),
      detail: "80",
    });
  });

  it("a batch pause, from the campaign's last send, after every batchSize messages", () => {
    const state = { ...noRules, batchSize: 50, batchPauseMs: 10 * MIN, campaignLastSentAt: at("2026-01-15T10:58:00Z") };
    expect(holdBack({ ...state, campaignSent: 49 }, noon)).toBeNull();
    expect(holdBack({ ...state, campaignSent: 50 }, noon)).toEqual({
      reason: "batch_pause",
      until: at("2026-01-15T11:08:00Z"),
      detail: "50",
    });
    expect(holdBack({ ...state, campaignSent: 100 }, at("2026-01-15T11:08:00Z"))).toBeNull();
  });

  it("a closed window, until it opens", () => {
    expect(holdBack({ ...noRules, sendWindow: office }, at("2026-01-15T20:00:00Z"))).toEqual({
      reason: "send_window",
      until: at("2026-01-16T08:00:00Z"),
      detail: "09:00–20:00",
    });
  });
});

describe("latestStart", () => {
  const latest = at("2026-01-15T09:00:00Z");
  it("may start up to and at latestStart, not a millisecond later", () => {
    expect(latestStartPassed(latest, at("2026-01-15T08:59:59Z"))).toBe(false);
    expect(latestStartPassed(latest, latest)).toBe(false);
    expect(latestStartPassed(latest, at("2026-01-15T09:00:00.001Z"))).toBe(true);
  });
  it("unset never misses (the seed plan: a missed campaign runs at start-up)", () => {
    expect(latestStartPassed(null, at("2099-01-01T00:00:00Z"))).toBe(false);
  });
  it("says why", () => {
    expect(missedReason(latest, at("2026-01-15T10:00:00Z"))).toContain("2026-01-15T09:00:00.000Z");
  });
});

/**
 * The reference: the real rules, one message at a time, on a simulated clock. Counts come from the
 * list of simulated sends (not carried along), so this checks the ETA's bookkeeping too.
 */
function stepByStep(run: RunToSimulate, now: Date): Date {
  const delay = (run.delayMinMs + run.delayMaxMs) / 2;
  const sends: number[] = [];
  let t = now;
  let firstSentAt = run.firstSentAt;
  for (let i = 0; i < run.remaining; i++) {
    for (;;) {
      const day = localDayBounds(t, run.policy.timeZone);
      const hour = localHourBounds(t, run.policy.timeZone);
      const inside = (from: Date) => sends.filter((s) => s >= from.getTime() && s <= t.getTime()).length;
      const sameDayAsStart = t < localDayBounds(now, run.policy.timeZone).end;
      const sameHourAsStart = t < localHourBounds(now, run.policy.timeZone).end;
      const hold = holdBack(
        {
          policy: run.policy,
          firstSentAt,
          sentToday: inside(day.start) + (sameDayAsStart ? run.sentToday : 0),
          sentThisHour: inside(hour.start) + (sameHourAsStart ? run.sentThisHour : 0),
          sendWindow: run.sendWindow,
          batchSize: run.batchSize,
          batchPauseMs: run.batchPauseMs,
          campaignSent: run.campaignSent + sends.length,
          campaignLastSentAt: sends.length ? new Date(sends[sends.length - 1]!) : run.campaignLastSentAt,
        },
        t,
      );
      if (!hold?.until) break;
      t = hold.until;
    }
    sends.push(t.getTime());
    firstSentAt ??= t;
    t = new Date(t.getTime() + delay);
  }
  return new Date(sends[sends.length - 1]!);
}

const baseRun: RunToSimulate = {
  remaining: 0,
  delayMinMs: 30_000,
  delayMaxMs: 60_000,
  policy: { timeZone: "Europe/Berlin", dailyLimit: null, hourlyLimit: null, warmup: false },
  sentToday: 0,
  sentThisHour: 0,
  firstSentAt: null,
  sendWindow: null,
  batchSize: null,
  batchPauseMs: null,
  campaignSent: 0,
  campaignLastSentAt: null,
};

describe("the ETA against a step-by-step run of the rules", () => {
  const cases: [string, Partial<RunToSimulate>, string][] = [
    ["no rules: remaining × mean delay", { remaining: 100 }, "2026-01-15T10:00:00Z"],
    ["a daily limit over several days", { remaining: 500, policy: { ...baseRun.policy, dailyLimit: 200 }, sentToday: 150 }, "2026-01-15T10:00:00Z"],
    ["an hourly limit", { remaining: 300, policy: { ...baseRun.policy, hourlyLimit: 50 }, sentThisHour: 20 }, "2026-01-15T10:05:00Z"],
    ["a window with weekdays only", { remaining: 2_000, sendWindow: { ...office, days: [1, 2, 3, 4, 5] } }, "2026-01-15T18:00:00Z"],
    ["a window across midnight", { remaining: 800, sendWindow: { start: "22:00", end: "02:00", timeZone: "Europe/Berlin" } }, "2026-01-15T10:00:00Z"],
    ["batch pauses", { remaining: 230, batchSize: 50, batchPauseMs: 15 * MIN, campaignSent: 30, campaignLastSentAt: at("2026-01-15T09:59:00Z") }, "2026-01-15T10:00:00Z"],
    [
      "the warm-up from a new number's first day, with every rule, across Berlin's spring-forward",
      {
        remaining: 1_200,
        policy: { timeZone: "Europe/Berlin", dailyLimit: 200, hourlyLimit: 80, warmup: true },
        sendWindow: { ...office, days: [1, 2, 3, 4, 5, 6] },
        batchSize: 25,
        batchPauseMs: 20 * MIN,
      },
      "2026-03-20T10:00:00Z",
    ],
    ["no delay with limits", { remaining: 50, delayMinMs: 0, delayMaxMs: 0, policy: { ...baseRun.policy, dailyLimit: 3 } }, "2026-10-24T12:00:00Z"],
    [
      "Kolkata's half-hour offset, hourly limit and window",
      { remaining: 400, policy: { timeZone: "Asia/Kolkata", dailyLimit: 150, hourlyLimit: 60, warmup: false }, sendWindow: { start: "09:30", end: "19:00", timeZone: "Asia/Kolkata" } },
      "2026-06-01T12:00:00Z",
    ],
  ];

  it.each(cases)("%s", (_name, overrides, nowIso) => {
    const run = { ...baseRun, ...overrides };
    const now = at(nowIso);
    const estimate = simulateRun(run, now);
    const reference = stepByStep(run, now);
    expect(estimate.finishAt).not.toBeNull();
    // Both use the same mean delay; they may differ by rounding the delay to whole ms.
    expect(Math.abs(estimate.finishAt!.getTime() - reference.getTime())).toBeLessThanOrEqual(run.remaining);
  });

  it("no rules: the last message goes (remaining − 1) mean delays from now", () => {
    const now = at("2026-01-15T10:00:00Z");
    expect(simulateRun({ ...baseRun, remaining: 101 }, now).finishAt).toEqual(new Date(now.getTime() + 100 * 45_000));
  });

  it("a daily limit of 40 puts the 41st message on tomorrow's first minute, and counts the wait", () => {
    const now = at("2026-01-15T10:00:00Z");
    const run = simulateRun({ ...baseRun, remaining: 41, delayMinMs: 0, delayMaxMs: 0, policy: { ...baseRun.policy, dailyLimit: 40 } }, now);
    expect(run.finishAt).toEqual(at("2026-01-15T23:00:00Z"));
    expect(run.waitingMs).toBe(13 * HOUR);
  });

  it("nothing remaining finishes now", () => {
    expect(simulateRun(baseRun, at("2026-01-15T10:00:00Z")).finishAt).toEqual(at("2026-01-15T10:00:00Z"));
  });

  it("a million recipients with every rule are estimated quickly", () => {
    const started = performance.now();
    const estimate = simulateRun(
      { ...baseRun, remaining: 1_000_000, policy: { timeZone: "Europe/Berlin", dailyLimit: 200, hourlyLimit: 80, warmup: true }, sendWindow: office, batchSize: 50, batchPauseMs: 10 * MIN },
      at("2026-01-15T10:00:00Z"),
    );
    // ~5,000 days at 200 a day, after a 12-day warm-up.
    expect(estimate.finishAt!.getTime()).toBeGreaterThan(at("2039-06-01T00:00:00Z").getTime());
    expect(estimate.finishAt!.getTime()).toBeLessThan(at("2040-01-01T00:00:00Z").getTime());
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("a run longer than the simulated horizon is extrapolated within a day of the exact answer", () => {
    const now = at("2026-01-15T10:00:00Z");
    const estimate = simulateRun(
      { ...baseRun, remaining: 20_000, delayMinMs: 0, delayMaxMs: 0, policy: { ...baseRun.policy, dailyLimit: 100 } },
      now,
    );
    // 100 a day with no delay: the last 100 go at the first instant of the 200th day (199 days on).
    const exact = at("2026-08-01T22:00:00Z"); // midnight in Berlin (CEST) starting 2 August 2026
    expect(Math.abs(estimate.finishAt!.getTime() - exact.getTime())).toBeLessThanOrEqual(DAY);
  });
});

describe("the words for a waiting campaign", () => {
  const now = at("2026-01-15T19:30:00Z"); // 20:30 in Berlin
  const context = { now, timeZone: "Europe/Berlin", numberName: "Sales" };

  it("a daily limit: who, which limit, and when it resumes", () => {
    expect(describeWaiting({ reason: "daily_limit", until: at("2026-01-16T08:00:00Z"), detail: "40" }, context)).toBe(
      "Waiting: Sales reached today's limit of 40; resumes tomorrow at 09:00",
    );
  });

  it("each other reason", () => {
    expect(describeWaiting({ reason: "hourly_limit", until: at("2026-01-15T20:00:00Z"), detail: "80" }, context)).toBe(
      "Waiting: Sales reached its limit of 80 an hour; resumes today at 21:00",
    );
    expect(describeWaiting({ reason: "send_window", until: at("2026-01-19T08:00:00Z"), detail: "09:00–20:00" }, context)).toBe(
      "Waiting: outside the send window (09:00–20:00); resumes on Monday at 09:00",
    );
    expect(describeWaiting({ reason: "batch_pause", until: at("2026-01-15T19:30:40Z"), detail: "50" }, context)).toBe(
      "Waiting: pause after a batch of 50 messages; resumes in 40 seconds",
    );
    expect(describeWaiting({ reason: "number_busy", until: null, detail: "Spring sale" }, context)).toBe(
      'Waiting: Sales is sending campaign "Spring sale"; this one takes turns with it',
    );
  });

  it("far-off dates are written out", () => {
    expect(describeWhen(at("2026-02-02T08:00:00Z"), now, "Europe/Berlin")).toBe("on 2 Feb 2026 at 09:00");
  });
});
