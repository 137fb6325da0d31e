"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { processedCount } from "~/components/CampaignProgress";
import { formatDateTime, formatNumber, formatRelative } from "~/components/format";
import { CampaignStatusBadge } from "~/components/StatusBadge";
import { CAMPAIGN_STATUSES, type CampaignStatus, LIVE_STATUSES } from "~/components/types";
import { waitingText } from "~/components/WaitingNotice";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { ErrorMessage } from "~/components/ui/error";
import { Pager, useCursorPager } from "~/components/ui/pager";
import { ProgressBar } from "~/components/ui/progress";
import { useTRPC } from "~/trpc/react";

export default function CampaignsPage() {
  const trpc = useTRPC();
  const pager = useCursorPager();
  const [filter, setFilter] = useState<CampaignStatus | "">("");
  const campaigns = useQuery({
    ...trpc.campaign.list.queryOptions({ cursor: pager.cursor, limit: 20, status: filter ? [filter] : undefined }),
    // Keep live rows moving; a page of finished campaigns needs no polling.
    refetchInterval: (query) => (query.state.data?.items.some((c) => LIVE_STATUSES.includes(c.status)) ? 2000 : false),
  });
  // Numbers' names for the waiting words ("Sales reached today's limit…"); cached, not polled.
  const numbers = useQuery(trpc.whatsappSession.list.queryOptions());
  const numberName = (sessionId: string) => numbers.data?.find((number) => number.id === sessionId)?.name ?? null;

  return (
    <>
      <PageHeader
        title="Campaigns"
        actions={
          <Link href="/campaigns/new" data-testid="campaign-new" className="rounded-md bg-emerald-700 px-4 py-2 text-sm font-medium text-white hover:bg-emerald-800">
            New campaign
          </Link>
        }
      />
      <div role="group" aria-label="Filter by status" className="mb-3 flex flex-wrap gap-1.5">
        {(["", ...CAMPAIGN_STATUSES] as Array<CampaignStatus | "">).map((status) => (
          <button
            key={status || "all"}
            type="button"
            aria-pressed={filter === status}
            onClick={() => {
              setFilter(status);
              pager.reset();
            }}
            className={`rounded-full px-3 py-1 text-sm ring-1 ring-inset ${
              filter === status ? "bg-emerald-700 text-white ring-emerald-700" : "bg-white text-slate-700 ring-slate-300 hover:bg-slate-50"
            }`}
          >
            {status || "All"}
          </button>
        ))}
      </div>
      <Card>
        <ErrorMessage error={campaigns.error} />
        {campaigns.isPending ? (
          <Loading />
        ) : campaigns.data?.items.length ? (
          <div className="overflow-x-auto">
            <table className="w-full text-sm" data-testid="campaigns">
              <thead className="text-left text-xs text-slate-500">
                <tr>
                  <th className="py-1 pr-3 font-medium">Campaign</th>
                  <th className="py-1 pr-3 font-medium">Status</th>
                  {/* On a phone the time goes under the name, so Progress stays in view. */}
                  <th className="hidden py-1 pr-3 font-medium sm:table-cell">Scheduled</th>
                  <th className="min-w-24 py-1 font-medium sm:min-w-32">Progress</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {campaigns.data.items.map((campaign) => (
                  <tr key={campaign.id}>
                    <td className="py-2 pr-3">
                      <Link href={`/campaigns/${campaign.id}`} className="font-medium text-emerald-800 hover:underline">
                        {campaign.name}
                      </Link>
                      <span className="block text-xs text-slate-500 sm:hidden">{formatDateTime(campaign.scheduledAt)}</span>
                    </td>
                    <td className="py-2 pr-2 sm:pr-3">
                      <CampaignStatusBadge status={campaign.status} />
                      {waitingText(campaign, numberName(campaign.sessionId)) ? (
                        <span className="mt-0.5 block max-w-40 text-xs sm:max-w-64 text-sky-800">{waitingText(campaign, numberName(campaign.sessionId))}</span>
                      ) : null}
                    </td>
                    <td className="hidden whitespace-nowrap py-2 pr-3 text-slate-600 sm:table-cell">
                      {formatDateTime(campaign.scheduledAt)}
                      {campaign.status === "Scheduled" && campaign.scheduledAt ? <span className="block text-xs text-slate-400">{formatRelative(campaign.scheduledAt)}</span> : null}
                    </td>
                    <td className="py-2">
                      <ProgressBar value={processedCount(campaign)} max={campaign.counts.total} label={`${campaign.name} progress`} />
                      <span className="text-xs text-slate-500">
                        {formatNumber(campaign.counts.sent)} sent / {formatNumber(campaign.counts.total)}
                        {campaign.counts.failed ? ` · ${formatNumber(campaign.counts.failed)} failed` : ""}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <Empty>
            {filter ? `No ${filter.toLowerCase()} campaign.` : "No campaign yet."}{" "}
            <Link href="/campaigns/new" className="text-emerald-800 underline">
              Create one
            </Link>
          </Empty>
        )}
        <Pager pager={pager} nextCursor={campaigns.data?.nextCursor} label="Campaign pages" />
      </Card>
    </>
  );
}
