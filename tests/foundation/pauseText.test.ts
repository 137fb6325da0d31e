/** What the campaign page says about a pause (src/components/pauseText.ts). */
import { describe, expect, it } from "vitest";
import { formatTime } from "~/components/format";
import { describeEvent, describePause } from "~/components/pauseText";

const now = new Date(2026, 10, 30, 11, 0, 0);
const at1041 = new Date(2026, 10, 30, 10, 41, 0);

describe("describePause", () => {
  it("an outage: the cause, since when, and how often it tries again", () => {
    const text = describePause({ pauseReason: "waha_unavailable", pausedAt: at1041, autoResumeEveryMs: 30_000, autoResumeStoppedAt: null }, now);
    expect(text).toBe(`Paused: WAHA is unreachable since ${formatTime(at1041)}; trying again every 30 s. It resumes by itself.`);
  });

  it("a number that is not connected, on an earlier day, shows the date", () => {
    const yesterday = new Date(2026, 10, 29, 22, 5, 0);
    const text = describePause({ pauseReason: "session_not_working", pausedAt: yesterday, autoResumeEveryMs: 60_000, autoResumeStoppedAt: null }, now);
    expect(text).toMatch(/^Paused: the WhatsApp number is not connected since .*29.*; trying again every 1 min\. It resumes by itself\.$/);
  });

  it("gave up: says it stopped trying and what to do", () => {
    const text = describePause({ pauseReason: "waha_unavailable", pausedAt: at1041, autoResumeEveryMs: null, autoResumeStoppedAt: now }, now);
    expect(text).toContain("stopped trying by itself: press Resume once this is fixed");
  });

  it("a user's pause, and a cause only a person can fix", () => {
    expect(describePause({ pauseReason: "paused_by_user", pausedAt: at1041, autoResumeEveryMs: null, autoResumeStoppedAt: null }, now)).toBe(
      "Paused: you paused it. It waits for you to press Resume.",
    );
    expect(describePause({ pauseReason: "waha_unauthorized", pausedAt: at1041, autoResumeEveryMs: null, autoResumeStoppedAt: null }, now)).toBe(
      `Paused: WAHA refused the app's API key since ${formatTime(at1041)}: fix WAHA_API_KEY, then press Resume.`,
    );
  });
});

describe("describeEvent", () => {
  it("tells who paused and who resumed", () => {
    expect(describeEvent({ kind: "paused", reason: "waha_unavailable", detail: "WAHA sendText failed: ..." })).toBe("Paused: WAHA is unreachable");
    expect(describeEvent({ kind: "paused", reason: "paused_by_user", detail: null })).toBe("Paused by you");
    expect(describeEvent({ kind: "resumed", reason: "auto", detail: "WAHA answers and the number is WORKING again" })).toBe(
      "Resumed by itself (WAHA answers and the number is WORKING again)",
    );
    expect(describeEvent({ kind: "resumed", reason: "user", detail: null })).toBe("Resumed by you");
    expect(describeEvent({ kind: "auto_resume_stopped", reason: "session_not_working", detail: null })).toBe(
      "Stopped resuming by itself: the WhatsApp number is not connected for too long",
    );
  });
});
