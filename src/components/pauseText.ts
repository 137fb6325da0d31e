/**
 * What the campaign page says about a pause: the cause, since when, and what happens next
 * ("Paused: WAHA is unreachable since 10:41; trying again every 30 s"). Pure: safe anywhere.
 */
import { formatDateTime, formatDuration, formatTime } from "./format";

export interface PausedCampaign {
  pauseReason: string | null;
  pausedAt: Date | string | null;
  autoResumeEveryMs: number | null;
  autoResumeStoppedAt: Date | string | null;
}

/** The cause, as the history lists it. */
const CAUSES: Record<string, string> = {
  waha_unavailable: "WAHA is unreachable",
  session_not_working: "the WhatsApp number is not connected",
  session_not_found: "the WhatsApp number no longer exists on the WAHA server",
  waha_unauthorized: "WAHA refused the app's API key",
};

/** What the owner must do for a cause the app cannot watch clear. */
const FIXES: Record<string, string> = {
  session_not_found: "connect the number again, then press Resume",
  waha_unauthorized: "fix WAHA_API_KEY, then press Resume",
};

/** "10:41" today, "30 Nov 2026, 10:41" on another day. */
function since(value: Date | string, now: Date): string {
  const date = value instanceof Date ? value : new Date(value);
  return date.toDateString() === now.toDateString() ? formatTime(date) : formatDateTime(date);
}

export function describePause(campaign: PausedCampaign, now = new Date()): string {
  const reason = campaign.pauseReason;
  if (reason === "paused_by_user" || reason === null) return "Paused: you paused it. It waits for you to press Resume.";
  const cause = CAUSES[reason] ?? reason;
  const when = campaign.pausedAt ? ` since ${since(campaign.pausedAt, now)}` : "";
  if (campaign.autoResumeStoppedAt) return `Paused: ${cause}${when}. It stopped trying by itself: press Resume once this is fixed.`;
  if (campaign.autoResumeEveryMs) {
    return `Paused: ${cause}${when}; trying again every ${formatDuration(campaign.autoResumeEveryMs / 1000)}. It resumes by itself.`;
  }
  const fix = FIXES[reason];
  return `Paused: ${cause}${when}${fix ? `: ${fix}` : ""}.`;
}

/** One line of the campaign's history. */
export function describeEvent(event: { kind: string; reason: string | null; detail: string | null }): string {
  if (event.kind === "paused") return event.reason === "paused_by_user" ? "Paused by you" : `Paused: ${CAUSES[event.reason ?? ""] ?? event.reason}`;
  if (event.kind === "resumed") return event.reason === "auto" ? `Resumed by itself${event.detail ? ` (${event.detail})` : ""}` : "Resumed by you";
  if (event.kind === "auto_resume_stopped") return `Stopped resuming by itself: ${CAUSES[event.reason ?? ""] ?? event.reason} for too long`;
  return event.kind;
}
