"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { formatDateTime } from "~/components/format";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

const SOURCE_WORDS: Record<string, string> = {
  keyword: "replied with a STOP keyword",
  manual: "opted out by hand",
  api: "opted out through the API",
  suppression_import: "on an imported suppression list",
};

const SEND_WORDS: Record<string, string> = {
  pending: "waiting to be sent",
  sending: "sending",
  sent: "sent",
  failed: "failed",
  skipped: "not sent",
  unknown: "outcome unknown",
  cancelled: "not sent: campaign cancelled",
};

const CONFIRMATION_WORDS: Record<string, string> = {
  sent: "sent",
  held: "not sent: the number was at its daily or hourly limit",
  failed: "could not be sent",
};

function ackWords(ack: number | null): string | null {
  if (ack === null) return null;
  if (ack >= 3) return "read";
  if (ack === 2) return "delivered";
  if (ack === -1) return "error reported by WhatsApp";
  return null;
}

/** The number that last messaged the contact: where a simulated reply goes. */
function lastNumberOf(items: Array<{ kind: "sent"; sessionId: string | null } | { kind: "received" }>): string | null {
  for (let index = items.length - 1; index >= 0; index--) {
    const item = items[index]!;
    if (item.kind === "sent" && item.sessionId) return item.sessionId;
  }
  return null;
}

/** One contact: its opt-out state, the buttons to change it, and the conversation so far (issue 14). */
export default function ContactPage() {
  const { id } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const conversation = useQuery(trpc.contact.conversation.queryOptions({ id }));
  const appInfo = useQuery(trpc.auth.appInfo.queryOptions());
  const sandbox = Boolean(appInfo.data?.sandbox);
  const refresh = () => void queryClient.invalidateQueries(trpc.contact.pathFilter());
  const optOut = useMutation(
    trpc.contact.optOut.mutationOptions({
      onSuccess: () => {
        toast.success("Opted out: this contact will not be messaged again, even by a campaign already running");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const optIn = useMutation(
    trpc.contact.optIn.mutationOptions({
      onSuccess: () => {
        toast.success("Opted back in: later campaigns can message this contact");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  if (conversation.isError) return <ErrorMessage error={conversation.error} />;
  if (!conversation.data) return <Loading />;
  const { contact, items } = conversation.data;
  const name = contact.firstName ? `${contact.firstName} (${contact.phone})` : contact.phone;
  const lastSessionId = lastNumberOf(items);

  return (
    <>
      <Link href="/contacts" className="mb-2 inline-block text-sm text-emerald-800 hover:underline">
        ← Contacts
      </Link>
      <PageHeader title={name} description={`Contact since ${formatDateTime(contact.createdAt)}`} />
      <div className="grid gap-4">
        <Card title="Messages from campaigns" testId="opt-out-card">
          {contact.optedOut ? (
            <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
              <p className="text-sm" data-testid="opt-out-state">
                <Badge tone="amber">opted out</Badge>{" "}
                {contact.optedOutSource ? (SOURCE_WORDS[contact.optedOutSource] ?? contact.optedOutSource) : null}
                {contact.optedOutAt ? `, ${formatDateTime(contact.optedOutAt)}` : null}. No campaign messages this contact.
              </p>
              <Button
                variant="secondary"
                data-testid="opt-in"
                pending={optIn.isPending}
                onClick={async () => {
                  const ok = await confirm({
                    title: "Opt this contact back in?",
                    body: "Only do this if the contact asked to hear from you again. Your name and the time are recorded.",
                    cancelLabel: "Keep opted out",
                    confirmLabel: "Opt back in",
                  });
                  if (ok) optIn.mutate({ id });
                }}
              >
                Opt back in
              </Button>
            </div>
          ) : (
            <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
              <p className="text-sm" data-testid="opt-out-state">
                Receives campaign messages.
                {contact.optedInAt ? ` Opted back in ${formatDateTime(contact.optedInAt)}.` : null}
              </p>
              <Button variant="danger" data-testid="opt-out" pending={optOut.isPending} onClick={() => optOut.mutate({ id })}>
                Opt out
              </Button>
            </div>
          )}
        </Card>

        <TagsCard contactId={id} tags={contact.tags} onDone={refresh} />

        <Card title="Conversation" testId="conversation">
          {items.length === 0 ? (
            <Empty>No message sent or received yet.</Empty>
          ) : (
            <ol className="flex flex-col gap-2">
              {items.map((item, index) =>
                item.kind === "sent" ? (
                  <li key={index} className="max-w-[85%] self-end rounded-lg bg-emerald-50 px-3 py-2 text-sm" data-testid="conversation-sent">
                    <p className="whitespace-pre-wrap">{item.text}</p>
                    <p className="mt-1 text-xs text-slate-500">
                      <Link href={`/campaigns/${item.campaignId}`} className="underline">
                        {item.campaignName}
                      </Link>{" "}
                      · {SEND_WORDS[item.status] ?? item.status}
                      {item.skipReason ? ` (${item.skipReason.replace(/_/g, " ")})` : ""}
                      {ackWords(item.ack) ? ` · ${ackWords(item.ack)}` : ""} · {formatDateTime(item.at)}
                    </p>
                  </li>
                ) : (
                  <li key={index} className="max-w-[85%] self-start rounded-lg bg-slate-100 px-3 py-2 text-sm" data-testid="conversation-received">
                    <p className="whitespace-pre-wrap">{item.text || <span className="text-slate-400">(no text)</span>}</p>
                    <p className="mt-1 text-xs text-slate-500">
                      {item.optOut ? (
                        <>
                          <Badge tone="amber">opt-out</Badge>{" "}
                        </>
                      ) : null}
                      {formatDateTime(item.at)}
                      {item.confirmation ? ` · confirmation ${CONFIRMATION_WORDS[item.confirmation] ?? item.confirmation}` : ""}
                    </p>
                  </li>
                ),
              )}
            </ol>
          )}
        </Card>
        {sandbox && lastSessionId ? <SimulateReply sessionId={lastSessionId} phone={contact.phone} onDone={refresh} /> : null}
      </div>
    </>
  );
}

/** Sandbox only: the contact "replies" on the number that last messaged it (the fake WAHA's webhook). */
function SimulateReply({ sessionId, phone, onDone }: { sessionId: string; phone: string; onDone: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const [text, setText] = useState("");
  const simulate = useMutation(
    trpc.whatsappSession.simulateReply.mutationOptions({
      onSuccess: () => {
        setText("");
        // The webhook comes back within moments.
        setTimeout(onDone, 500);
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  return (
    <Card title="Simulate a reply (sandbox)">
      <form
        className="flex flex-col gap-2 sm:flex-row"
        onSubmit={(event) => {
          event.preventDefault();
          simulate.mutate({ id: sessionId, from: phone, text });
        }}
      >
        <Input aria-label="Reply text" placeholder='e.g. "Thanks!" or "STOP"' value={text} onChange={(event) => setText(event.target.value)} data-testid="simulate-reply-text" className="mt-0 flex-1" />
        <Button type="submit" variant="secondary" pending={simulate.isPending} disabled={!text.trim()} data-testid="simulate-reply">
          Reply as this contact
        </Button>
      </form>
    </Card>
  );
}

/** The contact's tags (issue 15): each removable, and a field to add one; campaigns can target them. */
function TagsCard({ contactId, tags, onDone }: { contactId: string; tags: string[]; onDone: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const [tag, setTag] = useState("");
  const editTags = useMutation(
    trpc.contact.editTags.mutationOptions({
      onSuccess: () => {
        setTag("");
        onDone();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  return (
    <Card title="Tags" testId="contact-tags">
      <div className="flex flex-wrap items-center gap-2">
        {tags.length === 0 ? <span className="text-sm text-slate-500">No tags yet.</span> : null}
        {tags.map((existing) => (
          <span key={existing} className="inline-flex items-center gap-1 rounded-full bg-slate-100 px-2 py-0.5 text-sm" data-testid="contact-tag">
            {existing}
            <button
              type="button"
              aria-label={`Remove tag ${existing}`}
              className="text-slate-500 hover:text-red-700"
              disabled={editTags.isPending}
              onClick={() => editTags.mutate({ id: contactId, remove: [existing] })}
            >
              ×
            </button>
          </span>
        ))}
      </div>
      <form
        className="mt-3 flex flex-col gap-2 sm:flex-row"
        onSubmit={(event) => {
          event.preventDefault();
          editTags.mutate({ id: contactId, add: [tag] });
        }}
      >
        <Input aria-label="New tag" placeholder="e.g. vip" maxLength={50} value={tag} onChange={(event) => setTag(event.target.value)} data-testid="add-tag-text" className="mt-0 flex-1" />
        <Button type="submit" variant="secondary" pending={editTags.isPending} disabled={!tag.trim()} data-testid="add-tag">
          Add tag
        </Button>
      </form>
    </Card>
  );
}
