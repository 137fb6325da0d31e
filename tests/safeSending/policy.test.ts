import { describe, expect, it } from "vitest";
import {
  effectiveDailyLimit,
  numberPolicyPatchSchema,
  numberPolicySchema,
  SAFE_DEFAULT_POLICY,
  WARMUP_STEP_DAYS,
  warmupSchedule,
} from "~/server/services/safeSending/policy";
import { splitDelayForTyping, typingDurationMs, TYPING_MAX_MS, TYPING_MIN_MS } from "~/server/services/safeSending/typing";

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;

describe("the warm-up schedule", () => {
  it("climbs 20 → 40 → 80 → 150 → the daily limit", () => {
    expect(warmupSchedule(200)).toEqual([20, 40, 80, 150, 200]);
  });

  it("drops steps at or above a lower daily limit", () => {
    expect(warmupSchedule(50)).toEqual([20, 40, 50]);
    expect(warmupSchedule(40)).toEqual([20, 40]);
    expect(warmupSchedule(10)).toEqual([10]);
  });

  it("ends without a cap when the number has no daily limit", () => {
    expect(warmupSchedule(null)).toEqual([20, 40, 80, 150, null]);
  });
});

describe("today's cap", () => {
  const warming = { timeZone: "Europe/Berlin", dailyLimit: 200, warmup: true };
  const first = at("2026-01-10T10:00:00Z");

  it("is the daily limit when warm-up is off", () => {
    expect(effectiveDailyLimit({ ...warming, warmup: false }, null, first)).toBe(200);
    expect(effectiveDailyLimit({ ...warming, warmup: false, dailyLimit: null }, null, first)).toBeNull();
  });

  it("is the first step for a number that never sent", () => {
    expect(effectiveDailyLimit(warming, null, first)).toBe(20);
  });

  it("rises one step every WARMUP_STEP_DAYS local days after the first send", () => {
    const caps = Array.from({ length: 16 }, (_, day) =>
      effectiveDailyLimit(warming, first, new Date(first.getTime() + day * DAY)),
    );
    expect(WARMUP_STEP_DAYS).toBe(3);
    expect(caps).toEqual([20, 20, 20, 40, 40, 40, 80, 80, 80, 150, 150, 150, 200, 200, 200, 200]);
  });

  it("counts local calendar days: the step changes at the number's midnight, not 72 hours later", () => {
    const lateFirst = at("2026-01-10T22:30:00Z"); // 23:30 in Berlin on the 10th
    expect(effectiveDailyLimit(warming, lateFirst, at("2026-01-12T22:59:00Z"))).toBe(20); // 23:59 on the 12th
    expect(effectiveDailyLimit(warming, lateFirst, at("2026-01-12T23:00:00Z"))).toBe(40); // 00:00 on the 13th
  });

  it("with no daily limit is uncapped once the warm-up is over", () => {
    const uncapped = { ...warming, dailyLimit: null };
    expect(effectiveDailyLimit(uncapped, first, new Date(first.getTime() + 11 * DAY))).toBe(150);
    expect(effectiveDailyLimit(uncapped, first, new Date(first.getTime() + 12 * DAY))).toBeNull();
  });
});

describe("the safe defaults", () => {
  it("are a valid policy with every protection on", () => {
    expect(numberPolicySchema.parse({ ...SAFE_DEFAULT_POLICY })).toEqual(SAFE_DEFAULT_POLICY);
    expect(SAFE_DEFAULT_POLICY).toMatchObject({ warmup: true, typing: true, checkExists: true, maxConsecutiveFailures: 5 });
    expect(SAFE_DEFAULT_POLICY.hourlyLimit).toBe(80);
  });
});

describe("the policy's schema", () => {
  it("accepts a partial patch and null limits", () => {
    expect(numberPolicyPatchSchema.parse({ dailyLimit: null, timeZone: "Asia/Kolkata" })).toEqual({
      dailyLimit: null,
      timeZone: "Asia/Kolkata",
    });
  });

  it.each([
    [{ dailyLimit: 0 }, "at least 1"],
    [{ dailyLimit: 2.5 }, "whole number"],
    [{ hourlyLimit: -3 }, "at least 1"],
    [{ dailyLimit: "40" }, "whole number"],
    [{ timeZone: "Berlin" }, "IANA"],
    [{ maxConsecutiveFailures: 0 }, "at least 1"],
    [{ typing: "yes" }, "boolean"],
    [{ dailyLimitt: 5 }, "dailyLimitt"],
  ])("refuses %j with a message that says what to fix", (input, words) => {
    const result = numberPolicyPatchSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(words);
  });
});

describe("typing time", () => {
  it("grows with the text, between 1 and 8 seconds", () => {
    expect(typingDurationMs("Hi")).toBe(TYPING_MIN_MS);
    expect(typingDurationMs("x".repeat(60))).toBe(3_000);
    expect(typingDurationMs("x".repeat(120))).toBeGreaterThan(typingDurationMs("x".repeat(60)));
    expect(typingDurationMs("x".repeat(5_000))).toBe(TYPING_MAX_MS);
  });

  it("counts inside the delay: the idle time and the typing add up to the delay", () => {
    expect(splitDelayForTyping(10_000, "x".repeat(60))).toEqual({ idleMs: 7_000, typingMs: 3_000 });
    expect(splitDelayForTyping(500, "x".repeat(60))).toEqual({ idleMs: 0, typingMs: 500 });
    expect(splitDelayForTyping(0, "Hello")).toEqual({ idleMs: 0, typingMs: 0 });
  });
});
