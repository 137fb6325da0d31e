"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDateTime } from "~/components/format";
import { Badge, type Tone } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { WEBHOOK_EVENT_TYPES } from "~/server/services/outgoingWebhooks/events";
import { useTRPC } from "~/trpc/react";

const STATE_TONE: Record<string, Tone> = { delivered: "green", pending: "gray", retrying: "amber", gave_up: "red" };

/** Outgoing webhooks: register URLs for events, see each endpoint's delivery log (issue 14). */
export default function WebhooksPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const endpoints = useQuery(trpc.webhook.list.queryOptions());
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>([...WEBHOOK_EVENT_TYPES]);
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const refresh = () => void queryClient.invalidateQueries(trpc.webhook.pathFilter());
  const create = useMutation(
    trpc.webhook.create.mutationOptions({
      onSuccess: (result) => {
        setCreated({ url: result.url, secret: result.secret });
        setUrl("");
        toast.success("Webhook added: copy its secret now");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const remove = useMutation(
    trpc.webhook.delete.mutationOptions({
      onSuccess: () => {
        toast.success("Webhook deleted: nothing more is sent to it");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  return (
    <>
      <PageHeader
        title="Webhooks"
        description={
          <>
            Events posted to your URLs (n8n, Zapier, a CRM), signed with HMAC-SHA256 (<code className="font-mono">X-Webhook-Signature</code>),
            retried until delivered, in order per campaign. docs/rest-api.md shows the payloads and how to verify them.
          </>
        }
      />
      <Card title="Add a webhook" className="mb-4">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate({ url, events: events as (typeof WEBHOOK_EVENT_TYPES)[number][] });
          }}
        >
          <Field label="URL" hint="https://… reachable from this server; private and loopback addresses are refused unless WEBHOOK_ALLOW_PRIVATE=true">
            <Input data-testid="webhook-url" type="url" value={url} onChange={(event) => setUrl(event.target.value)} required maxLength={2000} placeholder="https://n8n.example.com/webhook/waha" />
          </Field>
          <fieldset className="mb-4">
            <legend className="mb-1 text-sm font-medium text-slate-700">Events</legend>
            <div className="flex flex-wrap gap-3">
              {WEBHOOK_EVENT_TYPES.map((type) => (
                <label key={type} className="flex items-center gap-1 text-sm">
                  <input
                    type="checkbox"
                    data-testid={`webhook-event-${type}`}
                    checked={events.includes(type)}
                    onChange={(event) => setEvents(event.target.checked ? [...events, type] : events.filter((e) => e !== type))}
                  />
                  <span className="font-mono text-xs">{type}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <Button type="submit" pending={create.isPending} data-testid="webhook-create" disabled={events.length === 0}>
            Add webhook
          </Button>
        </form>
        <ErrorMessage error={create.error} />
        {created ? (
          <div className="mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3" data-testid="webhook-created">
            <p className="text-sm font-medium text-emerald-900">Secret for {created.url}: copy it now, it will not be shown again.</p>
            <div className="mt-2 flex flex-col gap-2 sm:flex-row">
              <Input readOnly value={created.secret} aria-label="Webhook secret" data-testid="webhook-secret" className="mt-0 font-mono" onFocus={(event) => event.target.select()} />
              <Button variant="ghost" onClick={() => setCreated(null)}>
                Done
              </Button>
            </div>
          </div>
        ) : null}
      </Card>

      <Card title="Endpoints">
        <ErrorMessage error={endpoints.error ?? remove.error} />
        {endpoints.isPending ? (
          <Loading />
        ) : endpoints.data?.length ? (
          <ul className="divide-y divide-slate-100" data-testid="webhooks">
            {endpoints.data.map((endpoint) => (
              <li key={endpoint.id} className="py-3">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <div>
                    <p className="break-all font-mono text-sm">{endpoint.url}</p>
                    <p className="text-xs text-slate-500">{endpoint.events.join(", ")} · added {formatDateTime(endpoint.createdAt)}</p>
                  </div>
                  <div className="flex gap-2">
                    <Button size="sm" variant="secondary" onClick={() => setShown(shown === endpoint.id ? null : endpoint.id)} data-testid="webhook-log-toggle">
                      {shown === endpoint.id ? "Hide deliveries" : "Deliveries"}
                    </Button>
                    <Button
                      size="sm"
                      variant="danger"
                      pending={remove.isPending && remove.variables?.id === endpoint.id}
                      onClick={async () => {
                        const ok = await confirm({
                          title: "Delete this webhook?",
                          body: "Nothing more is sent to it, and its delivery log is deleted.",
                          confirmLabel: "Delete",
                          danger: true,
                        });
                        if (ok) remove.mutate({ id: endpoint.id });
                      }}
                    >
                      Delete
                    </Button>
                  </div>
                </div>
                {shown === endpoint.id ? <DeliveryLog endpointId={endpoint.id} /> : null}
              </li>
            ))}
          </ul>
        ) : (
          <Empty>No webhook yet.</Empty>
        )}
      </Card>
    </>
  );
}

function DeliveryLog({ endpointId }: { endpointId: string }) {
  const trpc = useTRPC();
  const log = useQuery({ ...trpc.webhook.deliveries.queryOptions({ id: endpointId, limit: 50 }), refetchInterval: 5_000 });
  if (log.isPending) return <Loading />;
  if (log.error) return <ErrorMessage error={log.error} />;
  if (!log.data.items.length) return <Empty>No event yet.</Empty>;
  return (
    <div className="mt-2 overflow-x-auto">
      <table className="w-full text-sm" data-testid="webhook-deliveries">
        <thead className="text-left text-xs text-slate-500">
          <tr>
            <th className="py-1 pr-3 font-medium">Event</th>
            <th className="py-1 pr-3 font-medium">Created</th>
            <th className="py-1 pr-3 font-medium">State</th>
            <th className="py-1 pr-3 font-medium">Attempts</th>
            <th className="py-1 pr-3 font-medium">Last answer</th>
            <th className="py-1 font-medium">Next attempt</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {log.data.items.map((item) => (
            <tr key={item.id}>
              <td className="py-1 pr-3 font-mono text-xs" title={item.eventId}>
                {item.eventType}
              </td>
              <td className="whitespace-nowrap py-1 pr-3 text-slate-600">{formatDateTime(item.createdAt, true)}</td>
              <td className="py-1 pr-3">
                <Badge tone={STATE_TONE[item.state] ?? "gray"}>{item.state.replace("_", " ")}</Badge>
              </td>
              <td className="py-1 pr-3">{item.attempts}</td>
              <td className="max-w-xs truncate py-1 pr-3 text-slate-600" title={item.lastError ?? undefined}>
                {item.lastError ?? (item.lastStatus ? `HTTP ${item.lastStatus}` : "—")}
              </td>
              <td className="whitespace-nowrap py-1 text-slate-600">{item.nextAttemptAt ? formatDateTime(item.nextAttemptAt, true) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
