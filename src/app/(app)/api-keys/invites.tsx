"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDateTime } from "~/components/format";
import { Button } from "~/components/ui/button";
import { Card, Loading } from "~/components/ui/card";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

/**
 * Invite links: whoever signs up with one joins this workspace (works once, for 7 days, for one
 * email when given). The link is shown once; only its hash is stored.
 */
export function InvitesCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const signupMode = useQuery(trpc.auth.signupMode.queryOptions()).data?.mode;
  const invites = useQuery(trpc.auth.listInvites.queryOptions());
  const [email, setEmail] = useState("");
  const [link, setLink] = useState<string | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.auth.listInvites.queryKey() });
  const create = useMutation(
    trpc.auth.createInvite.mutationOptions({
      onSuccess: (result) => {
        setLink(`${window.location.origin}/?invite=${encodeURIComponent(result.token)}`);
        setEmail("");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const revoke = useMutation(
    trpc.auth.revokeInvite.mutationOptions({
      onSuccess: () => {
        toast.success("Invite revoked: its link no longer works");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  return (
    <Card title="Invite a teammate" className="mt-4">
      {signupMode === "closed" ? (
        <p className="text-sm text-slate-600">Sign-up is closed on this server (SIGNUP=closed): accounts come from the CLI only.</p>
      ) : (
        <>
          <p className="mb-3 text-sm text-slate-600">
            Whoever signs up with the link joins this workspace: same numbers, lists, templates and campaigns. It works once, for 7 days.
          </p>
          <form
            className="flex flex-col gap-3 sm:flex-row sm:items-end"
            onSubmit={(event) => {
              event.preventDefault();
              create.mutate(email.trim() ? { email: email.trim() } : {});
            }}
          >
            <Field label="Email (optional)" hint="Only this address may use the link" className="flex-1">
              <Input type="email" data-testid="invite-email" value={email} onChange={(event) => setEmail(event.target.value)} />
            </Field>
            <Button type="submit" pending={create.isPending} data-testid="invite-create" className="sm:mb-5">
              Make invite link
            </Button>
          </form>
          <ErrorMessage error={create.error} />
          {link ? (
            <div className="mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3" data-testid="invite-created">
              <p className="text-sm font-medium text-emerald-900">Send this link: it will not be shown again.</p>
              <Input readOnly value={link} aria-label="Invite link" data-testid="invite-link" className="mt-2 font-mono" onFocus={(event) => event.target.select()} />
            </div>
          ) : null}
          <ErrorMessage error={invites.error ?? revoke.error} />
          {invites.isPending ? (
            <Loading />
          ) : invites.data?.length ? (
            <ul className="mt-4 divide-y divide-slate-100 text-sm" data-testid="invites">
              {invites.data.map((invite) => (
                <li key={invite.id} className="flex items-center justify-between gap-3 py-2">
                  <span>
                    {invite.email ?? "anyone with the link"} <span className="text-slate-500">· expires {formatDateTime(invite.expiresAt)}</span>
                  </span>
                  <Button size="sm" variant="danger" pending={revoke.isPending && revoke.variables?.id === invite.id} onClick={() => revoke.mutate({ id: invite.id })}>
                    Revoke
                  </Button>
                </li>
              ))}
            </ul>
          ) : null}
        </>
      )}
    </Card>
  );
}
