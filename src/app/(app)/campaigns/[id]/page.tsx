"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { CampaignForm } from "~/components/CampaignForm";
import { CampaignFunnel } from "~/components/CampaignFunnel";
import { CampaignProgress } from "~/components/CampaignProgress";
import { CampaignReplies } from "~/components/CampaignReplies";
import { browserTimeZone, formatDateTime, formatDuration, formatRelative, plural } from "~/components/format";
import { MediaThumb } from "~/components/MediaThumb";
import { describeEvent, describePause } from "~/components/pauseText";
import { SendsChart } from "~/components/SendsChart";
import { SeriesRuns } from "./SeriesRuns";
import { CampaignStatusBadge, RecipientStatusBadge, sessionStatusLabel } from "~/components/StatusBadge";
import { type Campaign, LIVE_STATUSES, RECIPIENT_STATUSES, type RecipientStatus } from "~/components/types";
import { WaitingNotice } from "~/components/WaitingNotice";
import { WhatsAppBubble } from "~/components/WhatsAppText";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input, Select } from "~/components/ui/field";
import { Pager, useCursorPager } from "~/components/ui/pager";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

export default function CampaignPage() {
  const { id } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const campaign = useQuery({
    ...trpc.campaign.get.queryOptions({ id }),
    // Live while it can still change: counts and status every 1.5 s.
    refetchInterval: (query) => (!query.state.data || LIVE_STATUSES.includes(query.state.data.status) ? 1500 : false),
  });
  const [editing, setEditing] = useState(false);
  // The number's name for "Waiting: Sales reached today's limit…" (the list is cached, not polled).
  const numbers = useQuery(trpc.whatsappSession.list.queryOptions());

  if (campaign.isError) {
    return (
      <>
        <ErrorMessage error={campaign.error} />
        <Link href="/campaigns" className="mt-3 inline-block text-sm text-emerald-800 underline">
          ← Campaigns
        </Link>
      </>
    );
  }
  if (!campaign.data) return <Loading />;
  const data = campaign.data;

  return (
    <>
      <Link href="/campaigns" className="mb-2 inline-block text-sm text-emerald-800 hover:underline">
        ← Campaigns
      </Link>
      <PageHeader
        title={data.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <CampaignStatusBadge status={data.status} testId="campaign-status" />
            <span>
              {!data.scheduledAt
                ? "Draft: no time yet"
                : data.status === "Scheduled"
                  ? `Starts ${formatRelative(data.scheduledAt)}`
                  : data.status === "Recurring"
                    ? `Next run ${formatRelative(data.scheduledAt)}`
                  : `${data.status === "Draft" ? "Planned" : "Scheduled"} for ${formatDateTime(data.scheduledAt)}`}
            </span>
          </span>
        }
        actions={<CampaignActions campaign={data} editing={editing} onEdit={() => setEditing((value) => !value)} />}
      />
      {editing ? (
        <div className="mb-6">
          <h2 className="mb-3 text-lg font-semibold">{data.status === "Draft" ? "Edit the draft, then schedule it" : "Edit or reschedule"}</h2>
          <CampaignForm campaign={data} onSaved={() => setEditing(false)} />
        </div>
      ) : null}
      <SeriesRuns campaign={data} />
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title="Progress" className="lg:col-span-2" testId="campaign-progress-card">
          <CampaignProgress campaign={data} testId="campaign-progress" />
          <WaitingNotice campaign={data} numberName={numbers.data?.find((number) => number.id === data.sessionId)?.name ?? null} />
          {data.status === "Missed" ? (
            <p className="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="campaign-missed">
              Missed: {data.missedReason ?? "it could not start by its latest start"}
            </p>
          ) : null}
          {data.status === "Paused" ? (
            <p className="mt-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="pause-reason">
              {describePause(data)}
            </p>
          ) : null}
          {data.lastError ? (
            <p className="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="campaign-last-error">
              {data.lastError}
            </p>
          ) : null}
          {data.recipientsMaterializedAt ? (
            <div className="mt-4">
              <h3 className="mb-1 text-sm font-semibold text-slate-700">After the send</h3>
              <CampaignFunnel campaign={data} />
            </div>
          ) : null}
          <div className="mt-4">
            <h3 className="mb-1 text-sm font-semibold text-slate-700">Sends over time</h3>
            <Timeline campaign={data} />
          </div>
        </Card>
        <div className="space-y-4">
          <CampaignDetails campaign={data} />
          <History campaign={data} />
          <SendTest campaign={data} />
        </div>
      </div>
      {data.recipientsMaterializedAt ? (
        <div className="mt-4">
          <CampaignReplies campaignId={data.id} live={data.status === "Running"} />
        </div>
      ) : null}
      <div className="mt-4">
        <Recipients campaign={data} />
      </div>
    </>
  );
}

function CampaignActions({ campaign, editing, onEdit }: { campaign: Campaign; editing: boolean; onEdit: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const done = (message: string) => {
    toast.success(message);
    void queryClient.invalidateQueries(trpc.campaign.pathFilter());
  };
  const onError = (error: { message: string }) => toast.error(error.message);
  const pause = useMutation(trpc.campaign.pause.mutationOptions({ onSuccess: () => done("Campaign paused"), onError }));
  const resume = useMutation(trpc.campaign.resume.mutationOptions({ onSuccess: () => done("Campaign resumed"), onError }));
  const cancel = useMutation(trpc.campaign.cancel.mutationOptions({ onSuccess: () => done("Campaign cancelled: nothing more will be sent"), onError }));
  // A draft saved with a time is scheduled in one click; without one, the editor asks for it.
  const schedule = useMutation(trpc.campaign.schedule.mutationOptions({ onSuccess: () => done("Campaign scheduled"), onError }));
  const remove = useMutation(
    trpc.campaign.delete.mutationOptions({
      onSuccess: () => {
        toast.success(`Campaign "${campaign.name}" deleted`);
        // Drop cached lists rather than mark them stale: they would show the deleted campaign for a moment.
        queryClient.removeQueries(trpc.campaign.list.pathFilter());
        router.push("/campaigns");
      },
      onError,
    }),
  );
  // Issue 14: after a campaign, its failed recipients can be retried once, and any campaign copied.
  const opened = (message: string) => (created: { id: string }) => {
    done(message);
    router.push(`/campaigns/${created.id}`);
  };
  const retryFailed = useMutation(trpc.campaign.retryFailed.mutationOptions({ onSuccess: opened("Retrying the failed recipients now"), onError }));
  const duplicate = useMutation(trpc.campaign.duplicate.mutationOptions({ onSuccess: opened("Copied as a draft: review it, then schedule it"), onError }));
  // A recurring campaign is edited too: its next runs take the change.
  const notStarted = campaign.status === "Draft" || campaign.status === "Scheduled" || campaign.status === "Recurring";
  const active = LIVE_STATUSES.includes(campaign.status) || campaign.status === "Draft";
  return (
    <>
      {!active && campaign.counts.failed > 0 ? (
        <Button
          pending={retryFailed.isPending}
          data-testid="campaign-retry-failed"
          onClick={async () => {
            const ok = await confirm({
              title: `Retry ${plural(campaign.counts.failed, "failed recipient")}?`,
              body: "A new campaign sends each of them the same message again, now, from the same number. Nobody who received it is messaged twice.",
              confirmLabel: "Retry failed",
            });
            if (ok) retryFailed.mutate({ id: campaign.id });
          }}
        >
          Retry failed
        </Button>
      ) : null}
      <Button variant="secondary" pending={duplicate.isPending} onClick={() => duplicate.mutate({ id: campaign.id })} data-testid="campaign-duplicate">
        Duplicate
      </Button>
      {campaign.recipientsMaterializedAt ? (
        // A plain link: the browser downloads with its session cookie (src/server/http/recipientsCsv.ts).
        <a
          href={`/api/campaigns/${campaign.id}/recipients.csv`}
          download
          data-testid="campaign-export-csv"
          className="inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-800 hover:bg-slate-50"
        >
          Export CSV
        </a>
      ) : null}
      {notStarted ? (
        <Button variant="secondary" onClick={onEdit} data-testid="campaign-edit">
          {editing ? "Close editor" : campaign.status === "Draft" ? "Edit" : "Edit / reschedule"}
        </Button>
      ) : null}
      {campaign.status === "Draft" && !editing ? (
        <Button
          pending={schedule.isPending}
          data-testid="campaign-schedule"
          onClick={() => (campaign.scheduledAt ? schedule.mutate({ id: campaign.id }) : onEdit())}
        >
          Schedule
        </Button>
      ) : null}
      {campaign.status === "Running" || campaign.status === "Scheduled" ? (
        <Button variant="secondary" pending={pause.isPending} onClick={() => pause.mutate({ id: campaign.id })} data-testid="campaign-pause">
          Pause
        </Button>
      ) : null}
      {campaign.status === "Paused" ? (
        <Button pending={resume.isPending} onClick={() => resume.mutate({ id: campaign.id })} data-testid="campaign-resume">
          Resume
        </Button>
      ) : null}
      {active ? (
        <Button
          variant="danger"
          pending={cancel.isPending}
          data-testid="campaign-cancel"
          onClick={async () => {
            const ok = await confirm({
              title: `Cancel "${campaign.name}"?`,
              body:
                campaign.status === "Recurring"
                  ? "It stops repeating: its next run is cancelled and no more are made. A run already sending goes on (cancel it on its own page). This cannot be undone."
                  : "Nothing more is sent for this campaign. Messages already sent stay sent. This cannot be undone.",
              confirmLabel: "Cancel campaign",
              cancelLabel: "Keep sending",
              danger: true,
            });
            if (ok) cancel.mutate({ id: campaign.id });
          }}
        >
          Cancel
        </Button>
      ) : null}
      <Button
        variant="danger"
        pending={remove.isPending}
        data-testid="campaign-delete"
        onClick={async () => {
          const ok = await confirm({
            title: `Delete "${campaign.name}"?`,
            body: active
              ? "It is cancelled first (nothing more is sent), then deleted with its results."
              : "The campaign and its per-recipient results are deleted.",
            confirmLabel: "Delete campaign",
            danger: true,
          });
          if (ok) remove.mutate({ id: campaign.id });
        }}
      >
        Delete
      </Button>
    </>
  );
}

function CampaignDetails({ campaign }: { campaign: Campaign }) {
  const trpc = useTRPC();
  const list = useQuery({ ...trpc.contactList.get.queryOptions({ id: campaign.listId ?? "" }), enabled: Boolean(campaign.listId), retry: false });
  const session = useQuery(trpc.whatsappSession.get.queryOptions({ id: campaign.sessionId }));
  // Issue 15: several numbers, each with how many it sent (one grouped query), refreshed while it runs.
  const several = campaign.sessionIds.length > 1;
  const numberStats = useQuery({
    ...trpc.campaign.numbers.queryOptions({ id: campaign.id }),
    enabled: several,
    // A grouped read of the campaign's rows: every 10 s while it runs, not with each progress tick.
    refetchInterval: campaign.status === "Running" ? 10_000 : false,
  });
  // A run shorter than the period ended with the counts read before it: read them again when the status changes.
  const queryClient = useQueryClient();
  const statusSeen = useRef(campaign.status);
  useEffect(() => {
    if (statusSeen.current === campaign.status) return;
    statusSeen.current = campaign.status;
    if (several) void queryClient.invalidateQueries(trpc.campaign.numbers.queryFilter({ id: campaign.id }));
  }, [campaign.status, campaign.id, several, queryClient, trpc]);
  const template = useQuery({ ...trpc.template.get.queryOptions({ id: campaign.templateId ?? "" }), enabled: Boolean(campaign.templateId), retry: false });
  const body = campaign.messageText ?? template.data?.body ?? null;
  return (
    <Card title="Details">
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1.5 text-sm">
        {several ? (
          <>
            <dt className="text-slate-500">Numbers</dt>
            <dd data-testid="campaign-numbers">
              <div>{campaign.numberAssignment === "sticky" ? "Each contact keeps the number that messaged them before" : "Shared: whichever number is free sends next"}{campaign.reassignOnDrop ? "; a disconnected number's recipients move to the others" : ""}</div>
              <ul>
                {(numberStats.data ?? []).map((number) => (
                  <li key={number.sessionId} title={number.status ? `WAHA status: ${number.status}` : undefined}>
                    {number.name ?? "deleted number"} · {number.status ? sessionStatusLabel(number.status) : "…"} · {number.sent} sent
                    {number.waiting > 0 ? ` · ${number.waiting} waiting for it` : ""}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : (
          <>
            <dt className="text-slate-500">Number</dt>
            <dd title={session.data ? `WAHA status: ${session.data.status}` : undefined}>
              {session.data ? `${session.data.name} · ${sessionStatusLabel(session.data.status)}` : "…"}
            </dd>
          </>
        )}
        <dt className="text-slate-500">List</dt>
        <dd>
          {campaign.listId ? (
            <Link href={`/contacts/${campaign.listId}`} className="text-emerald-800 hover:underline">
              {list.data?.name ?? "…"}
            </Link>
          ) : campaign.audience?.tags?.length ? (
            "none: tags only"
          ) : campaign.status === "Draft" ? (
            "none chosen yet"
          ) : (
            "deleted"
          )}
        </dd>
        {campaign.audience ? (
          <>
            <dt className="text-slate-500">Audience</dt>
            <dd data-testid="campaign-audience">
              {[
                campaign.audience.listIds?.length ? `${plural(campaign.audience.listIds.length, "more list")}` : null,
                campaign.audience.tags?.length ? `tagged ${campaign.audience.tags.join(", ")}` : null,
                campaign.audience.excludeTags?.length ? `not tagged ${campaign.audience.excludeTags.join(", ")}` : null,
              ]
                .filter(Boolean)
                .join(" · ")}
            </dd>
          </>
        ) : null}
        <dt className="text-slate-500">Message</dt>
        <dd>{campaign.templateId ? `Template: ${template.data?.name ?? "…"}` : campaign.messageText ? "Own text" : "none written yet"}</dd>
        <dt className="text-slate-500">Scheduled</dt>
        <dd>
          {formatDateTime(campaign.scheduledAt, true)} <span className="text-xs text-slate-500">({browserTimeZone()})</span>
        </dd>
        <dt className="text-slate-500">Started</dt>
        <dd>{formatDateTime(campaign.startedAt, true)}</dd>
        <dt className="text-slate-500">Finished</dt>
        <dd>{formatDateTime(campaign.completedAt, true)}</dd>
        <dt className="text-slate-500">Delay</dt>
        <dd>
          {campaign.delayMinMs / 1000}–{campaign.delayMaxMs / 1000} s between messages
        </dd>
        <dt className="text-slate-500">Send window</dt>
        <dd data-testid="campaign-window">
          {campaign.sendWindow
            ? `${campaign.sendWindow.start}–${campaign.sendWindow.end} ${campaign.sendWindow.recipientLocal ? "in each recipient's zone (else " + campaign.sendWindow.timeZone + ")" : campaign.sendWindow.timeZone}${
                campaign.sendWindow.days ? `, ${campaign.sendWindow.days.map((day) => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][day - 1]).join(" ")}` : ""
              }`
            : "any time"}
        </dd>
        {campaign.batchSize && campaign.batchPauseMs ? (
          <>
            <dt className="text-slate-500">Batches</dt>
            <dd>
              {plural(campaign.batchSize, "message")}, then a {formatDuration(campaign.batchPauseMs / 1000)} pause
            </dd>
          </>
        ) : null}
        {campaign.latestStart ? (
          <>
            <dt className="text-slate-500">Latest start</dt>
            <dd>{formatDateTime(campaign.latestStart)}</dd>
          </>
        ) : null}
      </dl>
      {campaign.mediaId ? <MediaThumb id={campaign.mediaId} alt="Attached image" className="mt-3 h-24 w-24 rounded-md" /> : null}
      {body ? (
        <div className="mt-3">
          <p className="mb-1 text-xs font-medium text-slate-500">Message as written</p>
          <WhatsAppBubble text={body} />
        </div>
      ) : null}
    </Card>
  );
}

/** Sends this campaign's message (rendered for a sample contact of its list) to one number, now, to check it on a phone. */
function SendTest({ campaign }: { campaign: Campaign }) {
  const trpc = useTRPC();
  const toast = useToast();
  const [phone, setPhone] = useState("");
  const sendTest = useMutation(
    trpc.campaign.sendTest.mutationOptions({
      onSuccess: (result) => toast.success(`Test sent to ${result.to}`),
      onError: (error) => toast.error(error.message),
    }),
  );
  return (
    <Card title="Send a test to my own number">
      <form
        className="space-y-2"
        onSubmit={(event) => {
          event.preventDefault();
          sendTest.mutate({ id: campaign.id, phone });
        }}
      >
        <Field label="Your WhatsApp number" hint="With its country code. Sent now from this campaign's number; the campaign itself is not affected.">
          <Input type="tel" data-testid="send-test-phone" value={phone} onChange={(event) => setPhone(event.target.value)} placeholder="+49 151 23456789" required />
        </Field>
        <Button type="submit" variant="secondary" pending={sendTest.isPending} data-testid="send-test-submit">
          Send test
        </Button>
      </form>
      <div className="mt-2 space-y-2">
        <ErrorMessage error={sendTest.error} />
        {sendTest.data ? (
          <div data-testid="send-test-result">
            <p className="mb-1 text-xs text-slate-500">Sent to {sendTest.data.to}:</p>
            <WhatsAppBubble text={sendTest.data.text} />
          </div>
        ) : null}
      </div>
    </Card>
  );
}

/** Pauses and resumes, newest first: why it stopped and who or what started it again. */
function History({ campaign }: { campaign: Campaign }) {
  const trpc = useTRPC();
  const live = LIVE_STATUSES.includes(campaign.status);
  const events = useQuery({ ...trpc.campaign.events.queryOptions({ id: campaign.id }), refetchInterval: live ? 3000 : false });
  if (events.isError) return <ErrorMessage error={events.error} />;
  if (!events.data || events.data.length === 0) return null;
  return (
    <Card title="History" testId="campaign-history">
      <ul className="space-y-1 text-sm">
        {events.data.map((event) => (
          <li key={event.id} data-testid="campaign-event">
            <span className="text-slate-500">{formatDateTime(event.at, true)}</span> · {describeEvent(event)}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Timeline({ campaign }: { campaign: Campaign }) {
  const trpc = useTRPC();
  const live = campaign.status === "Running";
  const timeline = useQuery({ ...trpc.campaign.timeline.queryOptions({ id: campaign.id }), refetchInterval: live ? 3000 : false });
  const queryClient = useQueryClient();
  useEffect(() => {
    // The last sends land just before the status changes: fetch once more when it does.
    void queryClient.invalidateQueries(trpc.campaign.timeline.queryFilter({ id: campaign.id }));
  }, [campaign.status, campaign.id, queryClient, trpc]);
  if (timeline.isError) return <ErrorMessage error={timeline.error} />;
  if (!timeline.data) return <Loading />;
  return <SendsChart points={timeline.data} />;
}

function Recipients({ campaign }: { campaign: Campaign }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pager = useCursorPager();
  const [status, setStatus] = useState<RecipientStatus | "">("");
  const live = LIVE_STATUSES.includes(campaign.status);
  const recipients = useQuery({
    ...trpc.campaign.recipients.queryOptions({ id: campaign.id, cursor: pager.cursor, limit: 50, status: status || undefined }),
    refetchInterval: live ? 2000 : false,
    placeholderData: (previous) => previous,
  });
  useEffect(() => {
    void queryClient.invalidateQueries(trpc.campaign.recipients.pathFilter());
  }, [campaign.status, queryClient, trpc]);

  return (
    <Card
      title="Recipients"
      actions={
        <Select
          aria-label="Filter recipients by status"
          data-testid="recipient-filter"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as RecipientStatus | "");
            pager.reset();
          }}
          className="mt-0 w-40"
        >
          <option value="">All statuses</option>
          {RECIPIENT_STATUSES.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </Select>
      }
    >
      <ErrorMessage error={recipients.error} />
      {!campaign.recipientsMaterializedAt ? (
        <Empty>The recipient list is fixed when the campaign starts ({plural(campaign.counts.total, "contact")} in the list now).</Empty>
      ) : recipients.isPending ? (
        <Loading />
      ) : recipients.data?.items.length ? (
        <div className="overflow-x-auto">
          <table className="w-full text-sm" data-testid="recipients">
            <thead className="text-left text-xs text-slate-500">
              <tr>
                <th className="py-1 pr-3 font-medium">#</th>
                <th className="py-1 pr-3 font-medium">Phone</th>
                <th className="py-1 pr-3 font-medium">Status</th>
                <th className="py-1 pr-3 font-medium">Sent at</th>
                <th className="py-1 pr-3 font-medium">Message</th>
                <th className="py-1 font-medium">Error</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {recipients.data.items.map((recipient) => (
                <tr key={recipient.id} data-testid="recipient-row" data-status={recipient.status}>
                  {/* Positions count from 0 in the database; people count from 1. */}
                  <td className="py-2 pr-3 text-slate-400">{recipient.position + 1}</td>
                  <td className="whitespace-nowrap py-2 pr-3 font-mono text-xs">{recipient.phone}</td>
                  <td className="py-2 pr-3">
                    <RecipientStatusBadge status={recipient.status} />
                    {recipient.attempts > 1 ? <span className="ml-1 text-xs text-slate-500">×{recipient.attempts}</span> : null}
                    {recipient.status === "sent" && recipient.ack !== null && recipient.ack >= 2 ? (
                      <span className="ml-1 text-xs text-emerald-700" data-testid="recipient-outcome">
                        {recipient.ack >= 3 ? "read" : "delivered"}
                      </span>
                    ) : null}
                    {recipient.repliedAt ? <span className="ml-1 text-xs text-violet-700">replied</span> : null}
                  </td>
                  <td className="whitespace-nowrap py-2 pr-3 text-xs text-slate-600">{recipient.sentAt ? formatDateTime(recipient.sentAt, true) : "—"}</td>
                  <td className="max-w-xs truncate py-2 pr-3 text-xs text-slate-600" title={recipient.renderedText ?? undefined}>
                    {recipient.renderedText ?? "—"}
                  </td>
                  <td className="py-2 text-xs text-red-700">{recipient.lastError ?? (recipient.skipReason ? recipient.skipReason.replaceAll("_", " ") : "")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <Empty>{status ? `No recipient is ${status}.` : "No recipients."}</Empty>
      )}
      <Pager pager={pager} nextCursor={recipients.data?.nextCursor} label="Recipient pages" />
    </Card>
  );
}
