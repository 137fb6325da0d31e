"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { browserTimeZone, formatDateTime } from "~/components/format";
import { NumberPolicyForm } from "~/components/NumberPolicyForm";
import { SessionStatusBadge } from "~/components/StatusBadge";
import type { WhatsappSession } from "~/components/types";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

export default function NumbersPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const appInfo = useQuery(trpc.auth.appInfo.queryOptions());
  // Status updates live: WAHA moves a session STARTING -> SCAN_QR_CODE -> WORKING on its own.
  const sessions = useQuery({ ...trpc.whatsappSession.list.queryOptions(), refetchInterval: 3000 });
  const [name, setName] = useState("");
  const servers = useQuery(trpc.wahaServer.list.queryOptions());
  const [serverId, setServerId] = useState("");
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
            create.mutate({ name, timeZone: browserTimeZone(), ...(serverId ? { serverId } : {}) });
          }}
        >
          <Field label="Name" hint="For you, e.g. Sales or Support" className="flex-1">
            <Input name="session-name" data-testid="session-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={60} />
          </Field>
          {servers.data?.length ? (
            <Field label="WAHA server" hint="Where the number lives">
              <select
                name="session-server"
                data-testid="session-server"
                className="rounded-md border border-slate-300 px-2 py-2 text-sm"
                value={serverId}
                onChange={(event) => setServerId(event.target.value)}
              >
                <option value="">Default server</option>
                {servers.data.map((server) => (
                  <option key={server.id} value={server.id}>
                    {server.name} ({server.health})
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
            <SessionCard key={session.id} session={session} sandbox={Boolean(appInfo.data?.sandbox)} />
          ))}
        </div>
      ) : (
        <Empty>No number yet: add one above.</Empty>
      )}
    </>
  );
}

function SessionCard({ session, sandbox }: { session: WhatsappSession; sandbox: boolean }) {
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
      actions={<SessionStatusBadge status={session.status} testId="session-status" />}
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
        {sandbox && session.status !== "WORKING" ? (
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
