import cron from "node-cron";
import { describe, expect, it } from "vitest";
import { armingSecond, cronExpressionFor, isArmedSlot } from "~/server/services/scheduling/cronExpression";

describe("the cron expression of a campaign's instant", () => {
  it("names its second in UTC, six fields, any weekday", () => {
    expect(cronExpressionFor(new Date("2026-03-01T12:34:56.789Z"))).toBe("56 34 12 1 3 *");
    expect(cronExpressionFor(new Date("2026-12-31T23:59:59.000Z"))).toBe("59 59 23 31 12 *");
    // 00:30 in Paris is still the previous day in UTC.
    expect(cronExpressionFor(new Date("2027-01-01T00:30:00+01:00"))).toBe("0 30 23 31 12 *");
  });

  it("is accepted by node-cron, whose next match is that instant, and again a year later (hence the year guard)", () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 3 * 24 * 3600 * 1000);
    const expression = cronExpressionFor(at);
    expect(cron.validate(expression)).toBe(true);
    const task = cron.createTask(expression, () => undefined, { timezone: "UTC" });
    try {
      const [first, second] = task.getNextRuns(2);
      expect(first).toEqual(at);
      expect(second!.getUTCFullYear()).toBeGreaterThan(at.getUTCFullYear());
      expect(isArmedSlot(first!, at)).toBe(true);
      expect(isArmedSlot(second!, at)).toBe(false);
    } finally {
      void task.destroy();
    }
  });

  it("arms the whole second of scheduledAt, or the next second when that one has begun", () => {
    const now = new Date("2026-03-01T12:00:00.400Z");
    expect(armingSecond(new Date("2026-03-01T12:00:05.700Z"), now)).toEqual(new Date("2026-03-01T12:00:05.000Z"));
    expect(armingSecond(new Date("2026-03-01T12:00:01.000Z"), now)).toEqual(new Date("2026-03-01T12:00:01.000Z"));
    expect(armingSecond(new Date("2026-03-01T12:00:00.900Z"), now)).toEqual(new Date("2026-03-01T12:00:01.000Z"));
  });
});
