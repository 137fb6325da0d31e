import { formatDuration, formatRelative, plural } from "./format";
import type { Campaign } from "./types";
import { ProgressBar } from "./ui/progress";

/** Recipients whose outcome is settled (sent, failed, skipped or unknown). */
export function processedCount(campaign: Campaign): number {
  const { sent, failed, unknown, skipped } = campaign.counts;
  return sent + failed + unknown + skipped;
}

export function progressSentence(campaign: Campaign): string {
  const { total, sent, failed } = campaign.counts;
  const processed = processedCount(campaign);
  switch (campaign.status) {
    case "Running":
      return total === 0 ? "Preparing recipients…" : `Sending ${Math.min(total, processed + 1)} of ${total}`;
    case "Scheduled":
    case "Draft":
      return `${plural(total, "recipient")} · ${campaign.scheduledAt ? `starts ${formatRelative(campaign.scheduledAt)}` : "no time yet"}`;
    case "Paused":
      return `Paused after ${processed} of ${total}`;
    case "Completed":
      return `Sent ${sent} of ${total}${failed ? ` · ${failed} failed` : ""}`;
    case "Failed":
      return `Stopped after ${processed} of ${total}`;
    case "Cancelled":
      return `Cancelled after ${processed} of ${total}`;
    case "Missed":
      return campaign.missedReason ?? "Missed: it could not start in time";
    case "Recurring":
      return `Repeats · ${campaign.scheduledAt ? `next run ${formatRelative(campaign.scheduledAt)}` : "no run ahead"}`;
  }
}

export function CampaignProgress({ campaign, testId }: { campaign: Campaign; testId?: string }) {
  const processed = processedCount(campaign);
  const { total, sent, failed, pending, unknown } = campaign.counts;
  return (
    <div data-testid={testId} className="space-y-1.5">
      <div className="flex flex-wrap items-baseline justify-between gap-x-3 text-sm">
        <span data-testid={testId ? `${testId}-text` : undefined} className="font-medium text-slate-800">
          {progressSentence(campaign)}
        </span>
        {campaign.etaSeconds !== null && campaign.status === "Running" && pending > 0 ? (
          <span className="text-xs text-slate-500">about {formatDuration(campaign.etaSeconds)} left</span>
        ) : null}
      </div>
      <ProgressBar value={processed} max={total} label={`${campaign.name}: ${processed} of ${total} processed`} testId={testId ? `${testId}-bar` : undefined} />
      <div className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
        <span>
          <span className="font-semibold text-emerald-700">{sent}</span> sent
        </span>
        <span>
          <span className={`font-semibold ${failed ? "text-red-700" : ""}`}>{failed}</span> failed
        </span>
        <span>
          <span className="font-semibold">{pending + campaign.counts.sending}</span> pending
        </span>
        {unknown ? (
          <span>
            <span className="font-semibold text-amber-700">{unknown}</span> unknown
          </span>
        ) : null}
      </div>
    </div>
  );
}
