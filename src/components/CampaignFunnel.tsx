/**
 * What happened after the send (issue 14): sent → delivered → read → replied, each a bar against the
 * messages sent with its rate, and beside them what did not go out (failed, skipped, cancelled) and
 * who opted out by replying. The counts are the campaign's own (campaignProgress.ts).
 */
import { formatNumber } from "./format";
import type { Campaign } from "./types";

const STEPS = [
  { key: "sent", label: "Sent", color: "bg-slate-500" },
  { key: "delivered", label: "Delivered", color: "bg-sky-500" },
  { key: "read", label: "Read", color: "bg-emerald-500" },
  { key: "replied", label: "Replied", color: "bg-violet-500" },
] as const;

const rate = (n: number, of: number) => (of > 0 ? `${Math.round((n / of) * 1000) / 10}%` : "—");

export function CampaignFunnel({ campaign }: { campaign: Campaign }) {
  const counts = campaign.counts;
  const sent = counts.sent;
  return (
    <div data-testid="campaign-funnel" className="space-y-2">
      <ol className="space-y-1.5">
        {STEPS.map((step) => {
          const n = counts[step.key];
          return (
            <li key={step.key} className="grid grid-cols-[5.5rem_1fr_7rem] items-center gap-2 text-sm" data-testid={`funnel-${step.key}`} data-count={n}>
              <span className="text-slate-700">{step.label}</span>
              <span className="h-2.5 overflow-hidden rounded bg-slate-100" aria-hidden>
                <span className={`block h-full ${step.color}`} style={{ width: sent > 0 ? `${Math.min(100, (n / sent) * 100)}%` : "0%" }} />
              </span>
              <span className="text-right tabular-nums text-slate-700">
                <span className="font-semibold">{formatNumber(n)}</span>
                {step.key === "sent" ? null : <span className="ml-1 text-xs text-slate-500">{rate(n, sent)}</span>}
              </span>
            </li>
          );
        })}
      </ol>
      <p className="flex flex-wrap gap-x-4 text-xs text-slate-600">
        <span data-testid="funnel-failed">
          <span className={`font-semibold ${counts.failed ? "text-red-700" : ""}`}>{formatNumber(counts.failed)}</span> failed
        </span>
        <span data-testid="funnel-skipped">
          <span className="font-semibold">{formatNumber(counts.skipped)}</span> skipped
        </span>
        {counts.cancelled ? (
          <span data-testid="funnel-cancelled">
            <span className="font-semibold">{formatNumber(counts.cancelled)}</span> cancelled
          </span>
        ) : null}
        <span data-testid="funnel-opted-out">
          <span className="font-semibold">{formatNumber(counts.optedOut)}</span> opted out by replying
        </span>
      </p>
    </div>
  );
}
