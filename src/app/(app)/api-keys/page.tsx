"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDateTime } from "~/components/format";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";
import { InvitesCard } from "./invites";

export default function ApiKeysPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const keys = useQuery(trpc.apiKey.list.queryOptions());
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const refresh = () => void queryClient.invalidateQueries(trpc.apiKey.pathFilter());
  const create = useMutation(
    trpc.apiKey.create.mutationOptions({
      onSuccess: (result) => {
        setCreated({ name: result.record.name, key: result.key });
        setCopied(false);
        setName("");
        toast.success(`Key "${result.record.name}" created: copy it now`);
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const revoke = useMutation(
    trpc.apiKey.revoke.mutationOptions({
      onSuccess: () => {
        toast.success("Key revoked: it no longer works");
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      toast.success("Copied to the clipboard");
    } catch {
      toast.error("The browser refused to copy: select the key and copy it by hand");
    }
  }

  return (
    <>
      <PageHeader
        title="API keys"
        description={
          <>
            Keys for the REST API (<code className="font-mono">Authorization: Bearer &lt;key&gt;</code>), documented at{" "}
            <a href="/api/v1/openapi.json" className="text-emerald-800 underline">
              /api/v1/openapi.json
            </a>
            . A key is shown once; only its hash is stored.
          </>
        }
      />
      <Card title="Create a key" className="mb-4">
        <form
          className="flex flex-col gap-3 sm:flex-row sm:items-end"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate({ name });
          }}
        >
          <Field label="Name" hint="What uses it, e.g. Zapier or CRM sync" className="flex-1">
            <Input data-testid="api-key-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={60} />
          </Field>
          <Button type="submit" pending={create.isPending} data-testid="api-key-create" className="sm:mb-5">
            Create key
          </Button>
        </form>
        <ErrorMessage error={create.error} />
        {created ? (
          <div className="mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3" data-testid="api-key-created">
            <p className="text-sm font-medium text-emerald-900">Key “{created.name}”: copy it now, it will not be shown again.</p>
            <div className="mt-2 flex flex-col gap-2 sm:flex-row">
              <Input readOnly value={created.key} aria-label="New API key" data-testid="api-key-value" className="mt-0 font-mono" onFocus={(event) => event.target.select()} />
              <Button variant="secondary" onClick={() => void copy(created.key)}>
                {copied ? "Copied" : "Copy"}
              </Button>
              <Button variant="ghost" onClick={() => setCreated(null)}>
                Done
              </Button>
            </div>
          </div>
        ) : null}
      </Card>

      <Card title="Keys">
        <ErrorMessage error={keys.error ?? revoke.error} />
        {keys.isPending ? (
          <Loading />
        ) : keys.data?.length ? (
          <div className="overflow-x-auto">
            <table className="w-full text-sm" data-testid="api-keys">
              <thead className="text-left text-xs text-slate-500">
                <tr>
                  <th className="py-1 pr-3 font-medium">Name</th>
                  <th className="py-1 pr-3 font-medium">Starts with</th>
                  <th className="py-1 pr-3 font-medium">Created</th>
                  <th className="py-1 pr-3 font-medium">Last used</th>
                  <th className="py-1 font-medium" />
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {keys.data.map((key) => (
                  <tr key={key.id}>
                    <td className="py-2 pr-3 font-medium">{key.name}</td>
                    <td className="py-2 pr-3 font-mono text-xs">{key.prefix}…</td>
                    <td className="whitespace-nowrap py-2 pr-3 text-slate-600">{formatDateTime(key.createdAt)}</td>
                    <td className="whitespace-nowrap py-2 pr-3 text-slate-600">{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "never"}</td>
                    <td className="py-2 text-right">
                      {key.revokedAt ? (
                        <Badge tone="gray">revoked {formatDateTime(key.revokedAt)}</Badge>
                      ) : (
                        <Button
                          size="sm"
                          variant="danger"
                          pending={revoke.isPending && revoke.variables?.id === key.id}
                          onClick={async () => {
                            const ok = await confirm({
                              title: `Revoke "${key.name}"?`,
                              body: "Anything using this key stops working at once. This cannot be undone.",
                              confirmLabel: "Revoke",
                              danger: true,
                            });
                            if (ok) revoke.mutate({ id: key.id });
                          }}
                        >
                          Revoke
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <Empty>No API key yet.</Empty>
        )}
      </Card>
      <InvitesCard />
    </>
  );
}
