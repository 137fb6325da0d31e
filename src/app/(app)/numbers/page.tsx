"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { browserTimeZone, formatDateTime } from "~/components/format";
import { NumberPolicyForm } from "~/components/NumberPolicyForm";
import { SessionStatusBadge } from "~/components/StatusBadge";
import type { WhatsappSession } from "~/components/types";
import { Badge, type Tone } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

/** A registered server as this page shows it (health checked on the server's timer). */
interface ServerSummary {
  id: string;
  name: string;
  health: string;
  healthDetail: string | null;
  healthCheckedAt: Date | string | null;
}

const SERVER_HEALTH_TONE: Record<string, Tone> = { healthy: "green", unknown: "gray", unreachable: "red", unauthorized: "amber" };
const SERVER_HEALTH_WORDS: Record<string, string> = { healthy: "healthy", unknown: "not checked yet", unreachable: "unreachable", unauthorized: "key refused" };
/** The select's value for "the least-loaded healthy server" (no serverId sent) and for the default server (serverId null). */
const AUTOMATIC = "";
const DEFAULT_SERVER = "default";

export default function NumbersPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const appInfo = useQuery(trpc.auth.appInfo.queryOptions());
  // Status updates live: WAHA moves a session STARTING -> SCAN_QR_CODE -> WORKING on its own.
  const sessions = useQuery({ ...trpc.whatsappSession.list.queryOptions(), refetchInterval: 3000 });
  const [name, setName] = useState("");
  // Health changes on the server's timer: follow it, as the numbers' state follows it.
  const servers = useQuery({ ...trpc.wahaServer.list.queryOptions(), refetchInterval: 5000 });
  const [serverId, setServerId] = useState(AUTOMATIC);
  const create = useMutation(
    trpc.whatsappSession.create.mutationOptions({
      onSuccess: (session) => {
        toast.success(`Number "${session.name}" added: scan its QR code with WhatsApp`);
        setName("");
        void queryClient.invalidateQueries(trpc.whatsappSession.pathFilter());
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  return (
    <>
      <PageHeader
        title="WhatsApp numbers"
        description="Each number is a WAHA session. Add one, then scan the QR code from WhatsApp on the phone (Settings → Linked devices → Link a device)."
        actions={
          <Link href="/numbers/servers" className="text-sm text-emerald-800 underline" data-testid="nav-waha-servers">
            WAHA servers
          </Link>
        }
      />
      <Card title="Add a number" className="mb-4">
        <form
          className="flex flex-col gap-3 sm:flex-row sm:items-end"
          onSubmit={(event) => {
            event.preventDefault();
            // Limits count days in the owner's zone; the other safe defaults come from the server.
            create.mutate({
              name,
              timeZone: browserTimeZone(),
              ...(serverId === AUTOMATIC ? {} : { serverId: serverId === DEFAULT_SERVER ? null : serverId }),
            });
          }}
        >
          <Field label="Name" hint="For you, e.g. Sales or Support" className="flex-1">
            <Input name="session-name" data-testid="session-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={60} />
          </Field>
          {servers.data?.length ? (
            <Field label="WAHA server" hint="Where the number lives; automatic = the healthy one with the fewest numbers">
              <select
                name="session-server"
                data-testid="session-server"
                className="rounded-md border border-slate-300 px-2 py-2 text-sm"
                value={serverId}
                onChange={(event) => setServerId(event.target.value)}
              >
                <option value={AUTOMATIC}>Automatic (least-loaded healthy)</option>
                <option value={DEFAULT_SERVER}>Default server</option>
                {servers.data.map((server) => (
                  <option key={server.id} value={server.id} disabled={server.health !== "healthy"}>
                    {server.name} ({SERVER_HEALTH_WORDS[server.health] ?? server.health})
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          <Button type="submit" pending={create.isPending} data-testid="session-create" className="sm:mb-5">
            {create.isPending ? "Starting session…" : "Add number"}
          </Button>
        </form>
        <ErrorMessage error={create.error} />
      </Card>

      <ErrorMessage error={sessions.error} />
      {sessions.isPending ? (
        <Loading />
      ) : sessions.data?.length ? (
        <div className="grid gap-4 md:grid-cols-2">
          {sessions.data.map((session) => (
            <SessionCard
              key={session.id}
              session={session}
              sandbox={Boolean(appInfo.data?.sandbox)}
              server={session.serverId ? (servers.data?.find((server) => server.id === session.serverId) ?? null) : null}
            />
          ))}
        </div>
      ) : (
        <Empty>No number yet: add one above.</Empty>
      )}
    </>
  );
}

function SessionCard({ session, sandbox, server }: { session: WhatsappSession; sandbox: boolean; server: ServerSummary | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const waitingForScan = session.status === "SCAN_QR_CODE";
  // WAHA rotates the QR code every ~20 s: fetch it again while it waits to be scanned.
  const qr = useQuery({
    ...trpc.whatsappSession.qr.queryOptions({ id: session.id }),
    enabled: waitingForScan,
    refetchInterval: waitingForScan ? 5000 : false,
  });
  const [pairingPhone, setPairingPhone] = useState("");
  const refresh = () => void queryClient.invalidateQueries(trpc.whatsappSession.pathFilter());
  const pairing = useMutation(trpc.whatsappSession.requestPairingCode.mutationOptions({ onError: (error) => toast.error(error.message) }));
  const simulate = useMutation(
    trpc.whatsappSession.simulateScan.mutationOptions({
      onSuccess: () => {
        toast.success("Scan simulated: the sandbox number is connected");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const logout = useMutation(
    trpc.whatsappSession.logout.mutationOptions({
      onSuccess: () => {
        toast.success(`"${session.name}" logged out`);
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  return (
    <Card
      testId={`session-${session.name}`}
      title={session.name}
      actions={
        <span className="flex flex-wrap items-center gap-1">
          {session.statusText ? (
            // Its server decides its state; the last status WAHA reported stays beside it.
            <Badge tone="red" testId="session-server-state" title={`Last WAHA status: ${session.status}`}>
              {session.statusText}
            </Badge>
          ) : null}
          <SessionStatusBadge status={session.status} testId="session-status" />
        </span>
      }
    >
      <dl className="mb-3 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
        <dt className="text-slate-500">Phone</dt>
        <dd>{session.phoneNumber ?? "—"}</dd>
        {session.pushName ? (
          <>
            <dt className="text-slate-500">Profile</dt>
            <dd>{session.pushName}</dd>
          </>
        ) : null}
        <dt className="text-slate-500">WAHA server</dt>
        <dd data-testid="session-server">
          {session.serverId === null ? (
            "Default server"
          ) : (
            <>
              {server?.name ?? "Registered server"}{" "}
              {session.serverHealth ? (
                <Badge tone={SERVER_HEALTH_TONE[session.serverHealth] ?? "gray"} title={server?.healthDetail ?? undefined}>
                  {SERVER_HEALTH_WORDS[session.serverHealth] ?? session.serverHealth}
                </Badge>
              ) : null}
              {server?.healthCheckedAt ? <span className="block text-xs text-slate-500">checked {formatDateTime(server.healthCheckedAt)}{server.healthDetail ? ` · ${server.healthDetail}` : ""}</span> : null}
            </>
          )}
        </dd>
        <dt className="text-slate-500">WAHA session</dt>
        <dd className="truncate font-mono text-xs leading-5">{session.wahaSessionName}</dd>
        <dt className="text-slate-500">Added</dt>
        <dd>{formatDateTime(session.createdAt)}</dd>
      </dl>

      {waitingForScan ? (
        <div className="space-y-3">
          <div className="flex flex-col items-center gap-2 rounded-md bg-slate-50 p-3">
            {qr.data?.qrDataUrl ? (
              // A data: URL from our own server; next/image adds nothing for it.
              <img src={qr.data.qrDataUrl} alt={`QR code to link ${session.name}`} data-testid="session-qr" className="h-52 w-52 bg-white p-2" />
            ) : (
              <p className="py-10 text-sm text-slate-500">{qr.isError ? qr.error.message : "Loading the QR code…"}</p>
            )}
            <p className="text-center text-xs text-slate-500">WhatsApp → Settings → Linked devices → Link a device. The code refreshes by itself.</p>
          </div>
          <form
            className="flex flex-col gap-2 sm:flex-row sm:items-end"
            onSubmit={(event) => {
              event.preventDefault();
              pairing.mutate({ id: session.id, phoneNumber: pairingPhone });
            }}
          >
            <Field label="Or link with a code" hint="The phone number of this WhatsApp account, with country code" className="flex-1">
              <Input type="tel" value={pairingPhone} onChange={(event) => setPairingPhone(event.target.value)} placeholder="+49 151 23456789" required />
            </Field>
            <Button type="submit" variant="secondary" pending={pairing.isPending} className="sm:mb-5">
              Get pairing code
            </Button>
          </form>
          {pairing.data ? (
            <p className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
              Enter this code on the phone: <strong className="font-mono text-lg tracking-widest">{pairing.data.code}</strong>
            </p>
          ) : null}
          <ErrorMessage error={pairing.error} />
        </div>
      ) : null}

      <div className="mt-3 flex flex-wrap gap-2">
        {/* The sandbox's fake plays the phone of its own numbers only: one on a registered server is scanned there. */}
        {sandbox && session.serverId === null && session.status !== "WORKING" ? (
          <Button variant="secondary" pending={simulate.isPending} data-testid="simulate-scan" onClick={() => simulate.mutate({ id: session.id })}>
            Simulate scan
          </Button>
        ) : null}
        {session.status === "WORKING" ? (
          <Button
            variant="danger"
            pending={logout.isPending}
            data-testid="session-unlink"
            onClick={async () => {
              const ok = await confirm({
                title: `Unlink "${session.name}"?`,
                body: "WhatsApp logs this number out of waha-campaigns. Campaigns using it pause until it is linked again.",
                confirmLabel: "Unlink number",
                cancelLabel: "Keep it linked",
                danger: true,
              });
              if (ok) logout.mutate({ id: session.id });
            }}
          >
            Unlink number
          </Button>
        ) : null}
      </div>
      <ErrorMessage error={simulate.error ?? logout.error} />
      <details className="mt-4 border-t border-slate-100 pt-3">
        <summary className="cursor-pointer text-sm font-medium text-slate-700">
          Sending policy: {session.dailyLimit ?? "no limit"} a day, {session.hourlyLimit ?? "no limit"} an hour
          {session.warmup ? ", warm-up" : ""}
        </summary>
        <div className="mt-3">
          <NumberPolicyForm session={session} />
        </div>
      </details>
    </Card>
  );
}
