/**
 * The CSV export's cells (services/recipientExport.ts): quoted when they hold a comma, a quote or a
 * line break; a cell a spreadsheet would run as a formula gets a leading apostrophe, except an E.164
 * phone number (digits only after the +: a number to a spreadsheet, never a formula).
 */
import { describe, expect, it } from "vitest";
import { csvCell, recipientOutcome } from "~/server/services/recipientExport";

describe("recipients CSV cells", () => {
  it("neutralises what a spreadsheet would evaluate", () => {
    expect(csvCell("=HYPERLINK(\"http://evil\")")).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell("+1+cmd|' /C calc'!A0")).toBe("'+1+cmd|' /C calc'!A0");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\t=1")).toBe("'\t=1");
    expect(csvCell("+1 555 0100")).toBe("'+1 555 0100");
  });

  it("leaves plain values and E.164 phones readable, quotes separators, and writes dates as ISO-8601", () => {
    expect(csvCell("+4915123456789")).toBe("+4915123456789");
    expect(csvCell("Ana")).toBe("Ana");
    expect(csvCell("Smith, Ana")).toBe('"Smith, Ana"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(null)).toBe("");
    expect(csvCell(-1)).toBe("-1");
    expect(csvCell(new Date("2026-03-02T10:00:00Z"))).toBe("2026-03-02T10:00:00.000Z");
  });

  it("reads the outcome from the status and the ack", () => {
    expect(recipientOutcome({ status: "sent", ack: 1 })).toBe("sent");
    expect(recipientOutcome({ status: "sent", ack: 2 })).toBe("delivered");
    expect(recipientOutcome({ status: "sent", ack: 4 })).toBe("read");
    expect(recipientOutcome({ status: "failed", ack: -1 })).toBe("failed");
    expect(recipientOutcome({ status: "cancelled", ack: null })).toBe("cancelled");
    expect(recipientOutcome({ status: "skipped", ack: null })).toBe("skipped");
  });
});
