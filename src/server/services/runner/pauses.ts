/**
 * Why a campaign is paused, and which pauses end by themselves. A pause the system made because
 * WAHA or the number cannot take messages now resumes without a person once the cause clears
 * (runner/autoResume.ts); a pause a person made, or one that needs a person (a wrong API key, a
 * deleted session), never does.
 */
import { sql } from "drizzle-orm";
import type { WahaError } from "../waha/errors";
import { NOT_WAITING } from "./waiting";

export const PAUSE_REASONS = {
  pausedByUser: "paused_by_user",
  sessionNotWorking: "session_not_working",
  sessionNotFound: "session_not_found",
  unauthorized: "waha_unauthorized",
  wahaUnavailable: "waha_unavailable",
  /**
   * WhatsApp restricts the number (WAHA's capping, a reachout timelock, error 463): every campaign on
   * the number pauses; it resumes by itself at the restriction's end when WAHA gave one
   * (runner/restrictions.ts), else a person resumes it.
   */
  numberRestricted: "number_restricted",
  /** The number's sends failed too many times in a row while it was WORKING: a person looks first. */
  tooManyFailures: "too_many_failures",
} as const;
export type PauseReason = (typeof PAUSE_REASONS)[keyof typeof PAUSE_REASONS];

/** Pauses whose cause the app can watch clear: WAHA answers again, the number is WORKING again. */
export const AUTO_RESUME_REASONS: readonly string[] = [PAUSE_REASONS.wahaUnavailable, PAUSE_REASONS.sessionNotWorking];

export function resumesByItself(reason: string | null): boolean {
  return reason !== null && AUTO_RESUME_REASONS.includes(reason);
}

/** The first check of a system pause's cause, and how far apart the checks grow. */
export const AUTO_RESUME_FIRST_CHECK_MS = 5_000;
export const AUTO_RESUME_MAX_CHECK_MS = 60_000;
/** Each failed check waits this much longer than the last (5, 7.5, 11, 17, 25, 38, 57, 60 s). */
export const AUTO_RESUME_GROWTH = 1.5;

/** A WAHA refusal that concerns the session or the configuration, not this message. */
export function pauseReasonFor(error: WahaError): PauseReason | null {
  switch (error.kind) {
    case "session_not_working":
      return PAUSE_REASONS.sessionNotWorking;
    case "session_not_found":
      return PAUSE_REASONS.sessionNotFound;
    case "unauthorized":
      return PAUSE_REASONS.unauthorized;
    default:
      return null;
  }
}

/**
 * The columns of a campaign the system pauses (the run, a restricted number, an unreachable server):
 * the lease is given up and the waiting cleared. `autoResume`: "soon" for the first auto-resume check
 * AUTO_RESUME_FIRST_CHECK_MS from now, a time to resume at, or null for a pause that waits for a person.
 */
export function systemPause(reason: string, lastError: string | null, autoResume: "soon" | Date | null) {
  return {
    status: "Paused" as const,
    pauseReason: reason,
    pausedAt: sql`now()`,
    autoResumeAt: autoResume === "soon" ? sql`now() + ${AUTO_RESUME_FIRST_CHECK_MS}::int * interval '1 millisecond'` : autoResume,
    autoResumeEveryMs: autoResume === "soon" ? AUTO_RESUME_FIRST_CHECK_MS : null,
    autoResumeStoppedAt: null,
    lastError,
    leaseHolder: null,
    leaseExpiresAt: null,
    ...NOT_WAITING,
    updatedAt: sql`now()`,
  };
}
