/** The campaign form's safe-sending options turned into the API's fields (the server validates them again). */
import { describe, expect, it } from "vitest";
import { safeSendingDraft, safeSendingFields } from "~/components/SafeSendingOptions";
import type { Campaign } from "~/components/types";

const empty = safeSendingDraft(undefined, "Europe/Berlin");

describe("the campaign form's safe-sending options", () => {
  it("sends nothing special when nothing is set", () => {
    expect(safeSendingFields(empty)).toEqual({ sendWindow: null, batchSize: null, batchPauseMs: null, latestStart: null });
  });

  it("a window on weekdays in each recipient's zone, batches in minutes", () => {
    const fields = safeSendingFields({
      ...empty,
      windowOn: true,
      windowStart: "22:00",
      windowEnd: "06:00",
      windowDays: [5, 1, 3],
      recipientLocal: true,
      batchSize: "50",
      batchPauseMinutes: "2.5",
    });
    expect(fields).toEqual({
      sendWindow: { start: "22:00", end: "06:00", timeZone: "Europe/Berlin", days: [1, 3, 5], recipientLocal: true },
      batchSize: 50,
      batchPauseMs: 150_000,
      latestStart: null,
    });
  });

  it("every day ticked sends no days; no day ticked or half a batch is refused before the server", () => {
    expect(safeSendingFields({ ...empty, windowOn: true })).toMatchObject({ sendWindow: { start: "09:00", end: "20:00" } });
    expect(safeSendingFields({ ...empty, windowOn: true })).not.toHaveProperty("sendWindow.days");
    expect(safeSendingFields({ ...empty, windowOn: true, windowDays: [] })).toEqual({ error: "Tick at least one day for the send window" });
    expect(safeSendingFields({ ...empty, batchSize: "10" })).toHaveProperty("error");
  });

  it("a saved campaign's options come back into the form as they were", () => {
    const campaign = {
      sendWindow: { start: "08:30", end: "17:00", timeZone: "Asia/Kolkata", days: [1, 2] },
      batchSize: 25,
      batchPauseMs: 600_000,
      latestStart: null,
    } as unknown as Campaign;
    const draft = safeSendingDraft(campaign, "UTC");
    expect(safeSendingFields(draft)).toEqual({
      sendWindow: { start: "08:30", end: "17:00", timeZone: "Asia/Kolkata", days: [1, 2] },
      batchSize: 25,
      batchPauseMs: 600_000,
      latestStart: null,
    });
  });
});
