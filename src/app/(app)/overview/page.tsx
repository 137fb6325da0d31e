"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { CampaignProgress } from "~/components/CampaignProgress";
import { formatDateTime, formatRelative } from "~/components/format";
import { overviewQueries } from "~/components/overviewQueries";
import { CampaignStatusBadge, SessionStatusBadge } from "~/components/StatusBadge";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { ErrorMessage } from "~/components/ui/error";
import { useTRPC } from "~/trpc/react";

export default function OverviewPage() {
  const trpc = useTRPC();
  const queries = overviewQueries(trpc);
  const sessions = useQuery(queries.sessions);
  const running = useQuery(queries.running);
  const scheduled = useQuery(queries.scheduled);
  const recent = useQuery(queries.recent);
  const upcoming = scheduled.data ?? [];

  return (
    <>
      <PageHeader
        title="Overview"
        description="Your numbers, what is sending now, and what comes next."
        actions={
          <Link href="/campaigns/new" className="rounded-md bg-emerald-700 px-4 py-2 text-sm font-medium text-white hover:bg-emerald-800">
            New campaign
          </Link>
        }
      />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Sending now" className="lg:col-span-2" testId="overview-running">
          <ErrorMessage error={running.error} />
          {running.isPending ? (
            <Loading />
          ) : running.data?.items.length ? (
            <ul className="space-y-4">
              {running.data.items.map((campaign) => (
                <li key={campaign.id} data-testid="running-campaign">
                  <div className="mb-1 flex items-center justify-between gap-2">
                    <Link href={`/campaigns/${campaign.id}`} className="font-medium text-emerald-800 hover:underline">
                      {campaign.name}
                    </Link>
                    <CampaignStatusBadge status={campaign.status} />
                  </div>
                  <CampaignProgress campaign={campaign} testId="overview-progress" />
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No campaign is sending right now.</Empty>
          )}
        </Card>

        <Card title="WhatsApp numbers" actions={<Link href="/numbers" className="text-sm text-emerald-800 underline">Manage</Link>}>
          <ErrorMessage error={sessions.error} />
          {sessions.isPending ? (
            <Loading />
          ) : sessions.data?.length ? (
            <ul className="divide-y divide-slate-100">
              {sessions.data.map((session) => (
                <li key={session.id} className="flex items-center justify-between gap-2 py-2">
                  <span className="min-w-0">
                    <span className="block truncate font-medium">{session.name}</span>
                    <span className="block text-xs text-slate-500">{session.phoneNumber ?? "not connected"}</span>
                  </span>
                  <SessionStatusBadge status={session.status} />
                </li>
              ))}
            </ul>
          ) : (
            <Empty>
              No number yet. <Link href="/numbers" className="text-emerald-800 underline">Connect one</Link> to start sending.
            </Empty>
          )}
        </Card>

        <Card title="Next scheduled" actions={<Link href="/campaigns" className="text-sm text-emerald-800 underline">All campaigns</Link>}>
          <ErrorMessage error={scheduled.error} />
          {scheduled.isPending ? (
            <Loading />
          ) : upcoming.length ? (
            <ul className="divide-y divide-slate-100" data-testid="overview-scheduled">
              {upcoming.map((campaign) => (
                <li key={campaign.id} className="flex items-center justify-between gap-2 py-2">
                  <Link href={`/campaigns/${campaign.id}`} className="min-w-0 truncate font-medium text-emerald-800 hover:underline">
                    {campaign.name}
                  </Link>
                  <span className="shrink-0 text-right text-xs text-slate-600">
                    {formatDateTime(campaign.scheduledAt)}
                    {campaign.scheduledAt ? <span className="block text-slate-400">{formatRelative(campaign.scheduledAt)}</span> : null}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <Empty>Nothing scheduled.</Empty>
          )}
        </Card>

        <Card title="Recent results" className="lg:col-span-2">
          <ErrorMessage error={recent.error} />
          {recent.isPending ? (
            <Loading />
          ) : recent.data?.items.length ? (
            <div className="overflow-x-auto">
              <table className="w-full text-sm" data-testid="overview-recent">
                <thead className="text-left text-xs text-slate-500">
                  <tr>
                    <th className="py-1 pr-3 font-medium">Campaign</th>
                    <th className="py-1 pr-3 font-medium">Status</th>
                    <th className="py-1 pr-3 font-medium">Sent</th>
                    <th className="py-1 pr-3 font-medium">Failed</th>
                    <th className="py-1 font-medium">Finished</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {recent.data.items.map((campaign) => (
                    <tr key={campaign.id}>
                      <td className="py-2 pr-3">
                        <Link href={`/campaigns/${campaign.id}`} className="font-medium text-emerald-800 hover:underline">
                          {campaign.name}
                        </Link>
                      </td>
                      <td className="py-2 pr-3">
                        <CampaignStatusBadge status={campaign.status} />
                      </td>
                      <td className="py-2 pr-3">
                        {campaign.counts.sent} / {campaign.counts.total}
                      </td>
                      <td className="py-2 pr-3">{campaign.counts.failed}</td>
                      <td className="py-2 text-slate-600">{formatDateTime(campaign.completedAt ?? campaign.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <Empty>No finished campaigns yet.</Empty>
          )}
        </Card>
      </div>
    </>
  );
}
