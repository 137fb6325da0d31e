"use client";

/**
 * Recurring campaigns on the campaign page (issue 15): a series lists its past runs (status, counts,
 * link) and its next 5 occurrences in its own zone; a run links back to its series.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { formatDateTime, plural } from "~/components/format";
import { CampaignStatusBadge } from "~/components/StatusBadge";
import { type Campaign, LIVE_STATUSES } from "~/components/types";
import { Card, Empty } from "~/components/ui/card";
import { useTRPC } from "~/trpc/react";

/** "Mon 2 Mar 2026, 09:00" in `timeZone`. */
function inZone(at: string, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }).format(new Date(at));
}

export function SeriesRuns({ campaign }: { campaign: Campaign }) {
  const trpc = useTRPC();
  const isSeries = Boolean(campaign.recurrence) && !campaign.seriesId && campaign.status !== "Draft";
  const overview = useQuery({
    ...trpc.campaign.series.queryOptions({ id: campaign.id }),
    enabled: isSeries,
    refetchInterval: () => (LIVE_STATUSES.includes(campaign.status) ? 3000 : false),
  });
  const series = useQuery({ ...trpc.campaign.get.queryOptions({ id: campaign.seriesId ?? "" }), enabled: Boolean(campaign.seriesId) });

  if (campaign.seriesId) {
    return (
      <p className="mb-4 rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-900" data-testid="campaign-run-of">
        A run of the recurring campaign{" "}
        <Link href={`/campaigns/${campaign.seriesId}`} className="font-medium underline">
          {series.data?.name ?? "…"}
        </Link>
        {campaign.occurrenceAt ? `, for ${formatDateTime(campaign.occurrenceAt)}` : ""}.
      </p>
    );
  }
  if (!isSeries || !campaign.recurrence) return null;
  const { cron, timeZone, until } = campaign.recurrence;
  const runs = overview.data?.runs ?? [];
  const next = overview.data?.nextOccurrences ?? [];
  return (
    <div className="mb-4 grid gap-4 lg:grid-cols-3" data-testid="campaign-series">
      <Card title="Runs" className="lg:col-span-2">
        <p className="mb-3 text-sm text-slate-600">
          Repeats <code className="rounded bg-slate-100 px-1">{cron}</code> in {timeZone}
          {until ? `, until ${formatDateTime(until)}` : ""}. Each run sends to the audience as it is at that time.
        </p>
        {runs.length === 0 ? (
          <Empty>No run yet.</Empty>
        ) : (
          <table className="w-full text-left text-sm" data-testid="series-runs">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="py-1">When</th>
                <th>Status</th>
                <th>Sent</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr key={run.id} className="border-t border-slate-100">
                  <td className="py-1.5">
                    <Link href={`/campaigns/${run.id}`} className="text-emerald-800 hover:underline">
                      {inZone(run.occurrenceAt, timeZone)}
                    </Link>
                  </td>
                  <td>
                    <CampaignStatusBadge status={run.status} />
                    {run.missedReason ? <span className="ml-2 text-xs text-slate-500">{run.missedReason}</span> : null}
                  </td>
                  <td>
                    {run.counts.total === 0 ? "—" : `${run.counts.sent} of ${plural(run.counts.total, "recipient")}`}
                    {run.counts.failed ? <span className="ml-1 text-red-700">· {run.counts.failed} failed</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Next occurrences">
        {next.length === 0 ? (
          <Empty>{campaign.status === "Recurring" ? "No occurrence ahead." : "This campaign no longer repeats."}</Empty>
        ) : (
          <ol className="space-y-1 text-sm" data-testid="series-next">
            {next.map((at) => (
              <li key={at}>
                {inZone(at, timeZone)} <span className="text-xs text-slate-500">({timeZone})</span>
              </li>
            ))}
          </ol>
        )}
      </Card>
    </div>
  );
}
