import { describe, expect, it } from "vitest";
import {
  nextWindowOpening,
  recipientTimeZone,
  sendWindowSchema,
  windowIsOpen,
  type SendWindow,
} from "~/server/services/safeSending/sendWindow";

const at = (iso: string) => new Date(iso);
const office: SendWindow = { start: "09:00", end: "20:00", timeZone: "Europe/Berlin" };

describe("a daytime window", () => {
  it("is open inside its hours and answers now", () => {
    const now = at("2026-01-15T10:00:00Z"); // 11:00 in Berlin
    expect(windowIsOpen(office, now)).toBe(true);
    expect(nextWindowOpening(office, now)).toEqual(now);
  });

  it("opens at its start the same morning when it is too early", () => {
    expect(nextWindowOpening(office, at("2026-01-15T05:00:00Z")).toISOString()).toBe("2026-01-15T08:00:00.000Z");
  });

  it("opens the next morning after its end; the end itself is closed", () => {
    const end = at("2026-01-15T19:00:00Z"); // 20:00 Berlin
    expect(windowIsOpen(office, end)).toBe(false);
    expect(windowIsOpen(office, new Date(end.getTime() - 1))).toBe(true);
    expect(nextWindowOpening(office, end).toISOString()).toBe("2026-01-16T08:00:00.000Z");
  });

  it("keeps its local hours across Berlin's spring-forward night (09:00 CEST = 07:00 UTC)", () => {
    expect(nextWindowOpening(office, at("2026-03-28T20:00:00Z")).toISOString()).toBe("2026-03-29T07:00:00.000Z");
  });

  it("keeps its local hours across Berlin's fall-back night (09:00 CET = 08:00 UTC)", () => {
    expect(nextWindowOpening(office, at("2026-10-24T19:00:00Z")).toISOString()).toBe("2026-10-25T08:00:00.000Z");
  });

  it("a start in the skipped hour opens when the clock reaches it after the gap", () => {
    const night: SendWindow = { start: "02:30", end: "05:00", timeZone: "Europe/Berlin" };
    expect(nextWindowOpening(night, at("2026-03-28T22:00:00Z")).toISOString()).toBe("2026-03-29T01:30:00.000Z");
  });

  it("is read in Kolkata's +5:30", () => {
    const window: SendWindow = { start: "09:00", end: "18:00", timeZone: "Asia/Kolkata" };
    expect(nextWindowOpening(window, at("2026-06-01T00:00:00Z")).toISOString()).toBe("2026-06-01T03:30:00.000Z");
    expect(windowIsOpen(window, at("2026-06-01T12:29:00Z"))).toBe(true);
    expect(windowIsOpen(window, at("2026-06-01T12:30:00Z"))).toBe(false);
  });

  it("is read in São Paulo (no daylight saving since 2019: always -03:00)", () => {
    const window: SendWindow = { start: "08:00", end: "18:00", timeZone: "America/Sao_Paulo" };
    expect(nextWindowOpening(window, at("2026-12-01T02:00:00Z")).toISOString()).toBe("2026-12-01T11:00:00.000Z");
  });
});

describe("a window across midnight", () => {
  const night: SendWindow = { start: "22:00", end: "06:00", timeZone: "UTC" };

  it("is open before and after midnight, closed in the day", () => {
    expect(windowIsOpen(night, at("2026-01-15T23:30:00Z"))).toBe(true);
    expect(windowIsOpen(night, at("2026-01-16T05:59:00Z"))).toBe(true);
    expect(windowIsOpen(night, at("2026-01-16T06:00:00Z"))).toBe(false);
    expect(nextWindowOpening(night, at("2026-01-16T12:00:00Z")).toISOString()).toBe("2026-01-16T22:00:00.000Z");
  });

  it("belongs to the day it opens: Friday's night goes on into Saturday morning, Saturday's never opens", () => {
    const fridayNight: SendWindow = { ...night, days: [5] };
    expect(windowIsOpen(fridayNight, at("2026-01-17T03:00:00Z"))).toBe(true); // Saturday 03:00
    expect(windowIsOpen(fridayNight, at("2026-01-17T23:00:00Z"))).toBe(false); // Saturday 23:00
    expect(nextWindowOpening(fridayNight, at("2026-01-17T07:00:00Z")).toISOString()).toBe("2026-01-23T22:00:00.000Z");
  });
});

describe("weekdays", () => {
  const weekdays: SendWindow = { ...office, days: [1, 2, 3, 4, 5] };

  it("skips the weekend: Friday evening waits for Monday morning", () => {
    // Friday 16 Jan 2026, 21:00 Berlin.
    expect(nextWindowOpening(weekdays, at("2026-01-16T20:00:00Z")).toISOString()).toBe("2026-01-19T08:00:00.000Z");
    expect(windowIsOpen(weekdays, at("2026-01-17T10:00:00Z"))).toBe(false); // Saturday 11:00
  });

  it("days are ISO weekdays: 7 is Sunday", () => {
    const sundays: SendWindow = { ...office, days: [7] };
    expect(windowIsOpen(sundays, at("2026-01-18T10:00:00Z"))).toBe(true);
    expect(windowIsOpen(sundays, at("2026-01-19T10:00:00Z"))).toBe(false);
  });
});

describe("recipient-local windows", () => {
  it("places a German and an Indian number in their countries' zones", () => {
    expect(recipientTimeZone("+4915112345678", "America/New_York")).toBe("Europe/Berlin");
    expect(recipientTimeZone("+919812345678", "America/New_York")).toBe("Asia/Kolkata");
  });

  it("the same 09:00–20:00 window opens at different instants for each of them", () => {
    const window: SendWindow = { ...office, timeZone: "UTC", recipientLocal: true };
    const now = at("2026-01-15T05:00:00Z"); // 06:00 in Berlin, 10:30 in Kolkata
    const german = recipientTimeZone("+4915112345678", window.timeZone);
    const indian = recipientTimeZone("+919812345678", window.timeZone);
    expect(windowIsOpen(window, now, german)).toBe(false);
    expect(nextWindowOpening(window, now, german).toISOString()).toBe("2026-01-15T08:00:00.000Z");
    expect(windowIsOpen(window, now, indian)).toBe(true);
  });

  it("a country with several zones (US, Brazil), or a number it cannot read, uses the campaign's zone", () => {
    expect(recipientTimeZone("+12025550123", "Europe/Lisbon")).toBe("Europe/Lisbon");
    expect(recipientTimeZone("+5511987654321", "Europe/Lisbon")).toBe("Europe/Lisbon");
    expect(recipientTimeZone("not a phone", "Asia/Tokyo")).toBe("Asia/Tokyo");
  });
});

describe("the window's schema", () => {
  it("accepts a full window", () => {
    expect(sendWindowSchema.safeParse({ ...office, days: [1, 7], recipientLocal: true }).success).toBe(true);
  });

  it.each([
    [{ ...office, start: "9:00" }, "HH:MM"],
    [{ ...office, end: "24:00" }, "HH:MM"],
    [{ ...office, timeZone: "Europe/Berlinn" }, "IANA"],
    [{ ...office, days: [0] }, "ISO weekdays"],
    [{ ...office, days: [] }, "at least one day"],
    [{ ...office, days: [1, 1] }, "once"],
    [{ ...office, end: "09:00" }, "must differ"],
    [{ ...office, colour: "red" }, ""],
  ])("refuses %j with a message that says what to fix", (input, words) => {
    const result = sendWindowSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join(" ")).toContain(words);
  });
});
