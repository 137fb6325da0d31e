"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { formatDateTime, formatNumber } from "~/components/format";
import { Badge } from "~/components/ui/badge";
import { Card, Empty, Loading } from "~/components/ui/card";
import { ErrorMessage } from "~/components/ui/error";
import { useTRPC } from "~/trpc/react";

/** A campaign's replies (issue 14): how many of its recipients replied, and what they wrote. */
export function CampaignReplies({ campaignId, live }: { campaignId: string; live: boolean }) {
  const trpc = useTRPC();
  const replies = useQuery(trpc.campaign.replies.queryOptions({ id: campaignId }, { refetchInterval: live ? 5_000 : 30_000 }));
  const data = replies.data;
  return (
    <Card
      title="Replies"
      testId="campaign-replies"
      actions={
        data ? (
          <span className="text-sm text-slate-600" data-testid="replied-count">
            {formatNumber(data.replied)} replied · {data.sent ? `${(data.rate * 100).toFixed(1)}% of ${formatNumber(data.sent)} sent` : "nothing sent yet"}
          </span>
        ) : null
      }
    >
      <ErrorMessage error={replies.error} />
      {replies.isPending ? (
        <Loading />
      ) : data?.replies.length ? (
        <ul className="divide-y divide-slate-100" data-testid="reply-list">
          {data.replies.map((reply, index) => (
            <li key={index} className="flex flex-col gap-1 py-2 text-sm sm:flex-row sm:gap-3">
              <span className="shrink-0 sm:w-56">
                {reply.contactId ? (
                  <Link href={`/contact/${reply.contactId}`} className="text-emerald-800 underline">
                    {reply.firstName ? `${reply.firstName} · ` : ""}
                    <span className="font-mono text-xs">{reply.phone}</span>
                  </Link>
                ) : (
                  <span className="font-mono text-xs">{reply.phone}</span>
                )}
                <span className="block text-xs text-slate-500">{formatDateTime(reply.at)}</span>
              </span>
              <span className="whitespace-pre-wrap break-words">
                {reply.optOut ? (
                  <>
                    <Badge tone="amber">opted out</Badge>{" "}
                  </>
                ) : null}
                {reply.text || <span className="text-slate-400">(no text)</span>}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No reply yet.</Empty>
      )}
    </Card>
  );
}
