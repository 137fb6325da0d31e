/**
 * A campaign's statuses and who may move it between them: the one home of these rules (issue 11).
 * Only type imports, so the pages use it too (src/components/types.ts) without shipping server code.
 *
 * The system's own moves, for reference: the scheduler's claim takes `Scheduled` (due) → `Running`;
 * the runner ends `Running` → `Completed` | `Failed`, or pauses it → `Paused` when WAHA or the number
 * is down; auto-resume takes such a system pause `Paused` → `Running` (runner/autoResume.ts). The
 * user's moves are `USER_ACTIONS` below; each is one conditional UPDATE on the `from` list.
 * A series (`Recurring`, issue 15) is never run itself: it stays `Recurring` while it makes runs (child
 * campaigns), may be edited (its next runs change) or cancelled, and ends `Completed` after `until`.
 */
import type { CampaignStatus } from "~/server/db/schema";

export type { CampaignStatus };

/** Every status, in lifecycle order (the database enum `campaign_status`; a test keeps them equal). */
export const CAMPAIGN_STATUSES: readonly CampaignStatus[] = ["Draft", "Scheduled", "Running", "Paused", "Completed", "Failed", "Cancelled", "Missed", "Recurring"];

/**
 * Active: the campaign may still send or be started. It still needs its list and its image (they
 * cannot be deleted from under it), and it is cancelled before it is deleted.
 */
export const ACTIVE_STATUSES: readonly CampaignStatus[] = ["Draft", "Scheduled", "Running", "Paused", "Recurring"];

/** Final: nothing more happens to the campaign; it can only be deleted. */
export const FINAL_STATUSES: readonly CampaignStatus[] = ["Completed", "Failed", "Cancelled", "Missed"];

/**
 * Live: the campaign changes without anyone clicking (the scheduler starts it, the runner sends,
 * a system pause resumes by itself), so the pages poll it. A draft waits for its user.
 */
export const LIVE_STATUSES: readonly CampaignStatus[] = ["Scheduled", "Running", "Paused", "Recurring"];

/** Not started: no recipient exists yet, so the campaign can still be edited and rescheduled. */
export const NOT_STARTED_STATUSES: readonly CampaignStatus[] = ["Draft", "Scheduled"];

/**
 * The campaign may still render its template: the texts are rendered once, when the run starts
 * (runner/recipients.ts), so a `Running` campaign no longer reads it, while a `Paused` one may have
 * been paused before it started. A template is not deleted from under these; nor from under a series,
 * whose every run renders it.
 */
export const TEMPLATE_STILL_NEEDED_STATUSES: readonly CampaignStatus[] = ["Draft", "Scheduled", "Paused", "Recurring"];

export type CampaignAction = "edit" | "schedule" | "pause" | "resume" | "cancel" | "delete";

export interface UserAction {
  from: readonly CampaignStatus[];
  to: readonly CampaignStatus[] | "unchanged" | "deleted";
}

/** What a user may do to a campaign, from which statuses, and where it goes. */
export const USER_ACTIONS: Record<CampaignAction, UserAction> = {
  /** Edit or reschedule; afterwards its texts are fixed. */
  edit: { from: [...NOT_STARTED_STATUSES, "Recurring"], to: "unchanged" },
  /** A draft, checked in full, waits for its time (issue 16). */
  schedule: { from: ["Draft"], to: ["Scheduled"] },
  /** A running campaign stops before its next send. */
  pause: { from: ["Scheduled", "Running"], to: ["Paused"] },
  /** Back to waiting for its time when it never started and that time is ahead, else it runs on. */
  resume: { from: ["Paused"], to: ["Scheduled", "Running"] },
  /** Returns once nothing more can be sent. */
  cancel: { from: ACTIVE_STATUSES, to: ["Cancelled"] },
  /** Any status: an active campaign is cancelled first, so nothing more is sent. */
  delete: { from: CAMPAIGN_STATUSES, to: "deleted" },
};

/** True when a user may `action` a campaign that is `status` (the UPDATE re-checks it). */
export function userMay(action: CampaignAction, status: CampaignStatus): boolean {
  return USER_ACTIONS[action].from.includes(status);
}

export const isActive = (status: CampaignStatus): boolean => ACTIVE_STATUSES.includes(status);
