"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatDateTime } from "~/components/format";
import { Badge, type Tone } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

const HEALTH_TONE: Record<string, Tone> = { healthy: "green", unknown: "gray", unreachable: "red", unauthorized: "amber" };
const HEALTH_WORDS: Record<string, string> = {
  healthy: "healthy",
  unknown: "not checked yet",
  unreachable: "unreachable",
  unauthorized: "key refused",
};

/** The workspace's WAHA servers (issue 15): register one, see its health, forget it. Keys are never shown. */
export default function WahaServersPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  // Health is checked on the server's timer: the page follows it.
  const servers = useQuery({ ...trpc.wahaServer.list.queryOptions(), refetchInterval: 5000 });
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const refresh = () => void queryClient.invalidateQueries(trpc.wahaServer.pathFilter());
  const create = useMutation(
    trpc.wahaServer.create.mutationOptions({
      onSuccess: (server) => {
        toast.success(`Server "${server.name}" added: ${HEALTH_WORDS[server.health] ?? server.health}`);
        setName("");
        setUrl("");
        setApiKey("");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const remove = useMutation(
    trpc.wahaServer.delete.mutationOptions({
      onSuccess: () => {
        toast.success("Server removed");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  return (
    <>
      <PageHeader
        title="WAHA servers"
        description={
          <>
            Your own WAHA servers, beside the default one. A number added with a server lives there; added automatically, it goes to the
            healthy server with the fewest numbers. API keys are stored encrypted and never shown again; each server signs its webhooks
            with a key of its own, which the app sets on its numbers. While a server is unreachable its numbers say so and their
            campaigns pause, resuming by themselves when it answers again.{" "}
            <Link href="/numbers" className="text-emerald-800 underline">Back to numbers</Link>
          </>
        }
      />
      <Card title="Add a server" className="mb-4">
        <form
          className="grid gap-3 sm:grid-cols-3"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate({ name, url, apiKey: apiKey.trim() === "" ? null : apiKey });
          }}
        >
          <Field label="Name" hint="e.g. WAHA 1">
            <Input name="server-name" data-testid="server-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={60} />
          </Field>
          <Field label="URL" hint="e.g. http://waha-1:3000">
            <Input name="server-url" data-testid="server-url" value={url} onChange={(event) => setUrl(event.target.value)} required type="url" />
          </Field>
          <Field label="API key" hint="WAHA_API_KEY of that server; empty if none">
            <Input name="server-api-key" data-testid="server-api-key" value={apiKey} onChange={(event) => setApiKey(event.target.value)} type="password" autoComplete="off" />
          </Field>
          <div className="sm:col-span-3">
            <Button type="submit" pending={create.isPending} data-testid="server-create">
              Add server
            </Button>
          </div>
        </form>
        <ErrorMessage error={create.error} />
      </Card>

      <Card title="Servers">
        <ErrorMessage error={servers.error ?? remove.error} />
        {servers.isPending ? (
          <Loading />
        ) : servers.data?.length ? (
          <ul className="divide-y divide-slate-100" data-testid="waha-servers">
            {servers.data.map((server) => (
              <li key={server.id} className="flex flex-wrap items-center justify-between gap-2 py-3">
                <div>
                  <p className="text-sm font-medium">
                    {server.name} <Badge tone={HEALTH_TONE[server.health] ?? "gray"}>{HEALTH_WORDS[server.health] ?? server.health}</Badge>
                  </p>
                  <p className="break-all font-mono text-xs text-slate-600">{server.url}</p>
                  <p className="text-xs text-slate-500">
                    {server.numbers} number(s) · {server.hasApiKey ? "key stored" : "no key"}
                    {server.healthCheckedAt ? ` · checked ${formatDateTime(server.healthCheckedAt, true)}` : " · not checked yet"}
                    {server.healthDetail ? ` · ${server.healthDetail}` : ""}
                  </p>
                </div>
                <Button
                  size="sm"
                  variant="danger"
                  pending={remove.isPending && remove.variables?.id === server.id}
                  onClick={async () => {
                    const ok = await confirm({
                      title: `Remove ${server.name}?`,
                      body: "Only this app forgets it; nothing changes on the server. Servers with numbers cannot be removed.",
                      confirmLabel: "Remove",
                      danger: true,
                    });
                    if (ok) remove.mutate({ id: server.id });
                  }}
                >
                  Remove
                </Button>
              </li>
            ))}
          </ul>
        ) : (
          <Empty>No server of your own: numbers go to the default WAHA server.</Empty>
        )}
      </Card>
    </>
  );
}
