import { describe, expect, it } from "vitest";
import {
  isValidTimeZone,
  localDateTime,
  localDayBounds,
  localDaysBetween,
  localHourBounds,
  zonedTimeToInstant,
} from "~/server/services/safeSending/calendar";

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

describe("local calendar days", () => {
  it("a Berlin day in winter runs from 23:00 UTC to 23:00 UTC", () => {
    const day = localDayBounds(at("2026-01-15T12:00:00Z"), "Europe/Berlin");
    expect(day.start.toISOString()).toBe("2026-01-14T23:00:00.000Z");
    expect(day.end.toISOString()).toBe("2026-01-15T23:00:00.000Z");
  });

  it("Berlin's spring-forward day (last Sunday of March) has 23 hours", () => {
    const day = localDayBounds(at("2026-03-29T12:00:00Z"), "Europe/Berlin");
    expect(day.start.toISOString()).toBe("2026-03-28T23:00:00.000Z");
    expect(day.end.toISOString()).toBe("2026-03-29T22:00:00.000Z");
    expect(day.end.getTime() - day.start.getTime()).toBe(23 * HOUR);
  });

  it("Berlin's fall-back day (last Sunday of October) has 25 hours", () => {
    const day = localDayBounds(at("2026-10-25T01:30:00Z"), "Europe/Berlin");
    expect(day.start.toISOString()).toBe("2026-10-24T22:00:00.000Z");
    expect(day.end.toISOString()).toBe("2026-10-25T23:00:00.000Z");
    expect(day.end.getTime() - day.start.getTime()).toBe(25 * HOUR);
  });

  it("the instant before midnight and midnight itself fall in different days", () => {
    const before = localDayBounds(at("2026-01-15T22:59:59.999Z"), "Europe/Berlin");
    const after = localDayBounds(at("2026-01-15T23:00:00.000Z"), "Europe/Berlin");
    expect(before.end.getTime()).toBe(after.start.getTime());
  });

  it("São Paulo's 2018 spring day began at 01:00 (midnight did not exist) and had 23 hours", () => {
    const day = localDayBounds(at("2018-11-04T12:00:00Z"), "America/Sao_Paulo");
    expect(day.start.toISOString()).toBe("2018-11-04T03:00:00.000Z");
    expect(day.end.toISOString()).toBe("2018-11-05T02:00:00.000Z");
  });

  it("São Paulo's 2019 fall-back day (11 p.m. repeated) had 25 hours", () => {
    const day = localDayBounds(at("2019-02-16T12:00:00Z"), "America/Sao_Paulo");
    expect(day.start.toISOString()).toBe("2019-02-16T02:00:00.000Z");
    expect(day.end.toISOString()).toBe("2019-02-17T03:00:00.000Z");
  });

  it("Kolkata (+5:30) days start at 18:30 UTC", () => {
    const day = localDayBounds(at("2026-06-01T20:00:00Z"), "Asia/Kolkata");
    expect(day.start.toISOString()).toBe("2026-06-01T18:30:00.000Z");
    expect(day.end.toISOString()).toBe("2026-06-02T18:30:00.000Z");
  });

  it("counts local days between two instants, not 24-hour spans", () => {
    // 23:30 and 00:30 the next local day are one day apart though only an hour passed.
    expect(localDaysBetween(at("2026-01-15T22:30:00Z"), at("2026-01-15T23:30:00Z"), "Europe/Berlin")).toBe(1);
    expect(localDaysBetween(at("2026-01-15T22:30:00Z"), at("2026-01-15T22:50:00Z"), "UTC")).toBe(0);
    expect(localDaysBetween(at("2026-03-28T12:00:00Z"), at("2026-03-30T12:00:00Z"), "Europe/Berlin")).toBe(2);
  });
});

describe("local clock hours", () => {
  it("Kolkata's hours start at :30 UTC", () => {
    const hour = localHourBounds(at("2026-06-01T10:10:00Z"), "Asia/Kolkata");
    expect(hour.start.toISOString()).toBe("2026-06-01T09:30:00.000Z");
    expect(hour.end.toISOString()).toBe("2026-06-01T10:30:00.000Z");
  });

  it("Kathmandu's hours (+5:45) start at :15 UTC", () => {
    const hour = localHourBounds(at("2026-06-01T10:10:00Z"), "Asia/Kathmandu");
    expect(hour.start.toISOString()).toBe("2026-06-01T09:15:00.000Z");
  });

  it("Berlin's repeated hour on the fall-back day counts as two real hours", () => {
    const first = localHourBounds(at("2026-10-25T00:30:00Z"), "Europe/Berlin"); // 02:30 CEST
    const second = localHourBounds(at("2026-10-25T01:30:00Z"), "Europe/Berlin"); // 02:30 CET
    expect(first.start.toISOString()).toBe("2026-10-25T00:00:00.000Z");
    expect(second.start.toISOString()).toBe("2026-10-25T01:00:00.000Z");
    expect(first.end.getTime()).toBe(second.start.getTime());
  });
});

describe("wall-clock times to instants", () => {
  it("a time skipped by spring-forward moves past the gap (02:30 → 03:30 CEST)", () => {
    expect(zonedTimeToInstant({ year: 2026, month: 3, day: 29 }, 150, "Europe/Berlin").toISOString()).toBe(
      "2026-03-29T01:30:00.000Z",
    );
  });

  it("a time repeated by fall-back is its first occurrence", () => {
    expect(zonedTimeToInstant({ year: 2026, month: 10, day: 25 }, 150, "Europe/Berlin").toISOString()).toBe(
      "2026-10-25T00:30:00.000Z",
    );
  });

  it("knows valid IANA zones and refuses others", () => {
    expect(isValidTimeZone("America/Sao_Paulo")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone("")).toBe(false);
  });
});

describe("the wall clock", () => {
  it("agrees with ICU minute by minute around clock changes, in zones with odd offsets", () => {
    const around: [string, string][] = [
      ["Europe/Berlin", "2026-03-29T01:00:00Z"],
      ["Europe/Berlin", "2026-10-25T01:00:00Z"],
      ["America/Sao_Paulo", "2018-11-04T03:00:00Z"],
      ["Asia/Kolkata", "2026-06-01T00:00:00Z"],
      ["Asia/Kathmandu", "2026-06-01T00:00:00Z"],
      ["Australia/Lord_Howe", "2026-04-04T15:00:00Z"], // clocks go back 30 minutes
      ["Pacific/Chatham", "2026-09-26T14:00:00Z"], // +12:45 → +13:45
    ];
    for (const [zone, change] of around) {
      const icu = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
      });
      for (let minutes = -180; minutes <= 180; minutes += 7) {
        const instant = new Date(Date.parse(change) + minutes * 60_000 + 13_000);
        const local = localDateTime(instant, zone);
        const expected = Object.fromEntries(icu.formatToParts(instant).map((part) => [part.type, part.value]));
        expect([local.year, local.month, local.day, local.hour, local.minute, local.second], `${zone} ${instant.toISOString()}`).toEqual(
          ["year", "month", "day", "hour", "minute", "second"].map((field) => Number(expected[field])),
        );
      }
    }
  });
});
