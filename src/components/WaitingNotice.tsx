"use client";

/**
 * What holds a Running or Scheduled campaign back (a limit, the send window, a batch pause, another
 * campaign on the number), in words: "Waiting: Sales reached today's limit of 40; resumes tomorrow at
 * 09:00". The runner writes the reason; safeSending/waiting.ts says it.
 */
import { describeWaiting } from "~/server/services/safeSending/waiting";
import { browserTimeZone } from "./format";
import type { Campaign } from "./types";

export function waitingText(campaign: Campaign, numberName: string | null, now = new Date()): string | null {
  const waiting = campaign.waiting;
  if (!waiting || (campaign.status !== "Running" && campaign.status !== "Scheduled")) return null;
  return describeWaiting(
    { reason: waiting.reason, until: waiting.until ? new Date(waiting.until) : null, detail: waiting.detail },
    { now, timeZone: browserTimeZone(), numberName },
  );
}

export function WaitingNotice({ campaign, numberName }: { campaign: Campaign; numberName: string | null }) {
  const text = waitingText(campaign, numberName);
  if (!text) return null;
  return (
    <p className="mt-3 rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-900" data-testid="campaign-waiting">
      {text}
    </p>
  );
}
