"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { formatDateTime, plural } from "~/components/format";
import type { ContactList } from "~/components/types";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { Pager, useCursorPager } from "~/components/ui/pager";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

export default function ContactListsPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const toast = useToast();
  const pager = useCursorPager();
  const lists = useQuery(trpc.contactList.list.queryOptions({ cursor: pager.cursor, limit: 25 }));
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.contactList.create.mutationOptions({
      onSuccess: (list) => {
        toast.success(`List "${list.name}" created: now import contacts into it`);
        setName("");
        void queryClient.invalidateQueries(trpc.contactList.pathFilter());
        router.push(`/contacts/${list.id}`);
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  return (
    <>
      <PageHeader
        title="Contacts"
        description="Contacts live in named lists. Create a list, then import a CSV into it."
        actions={
          <Link href="/contacts/suppression" className="text-sm text-emerald-800 underline" data-testid="suppression-link">
            Suppression list
          </Link>
        }
      />
      <Card title="New list" className="mb-4">
        <form
          className="flex flex-col gap-3 sm:flex-row sm:items-end"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate({ name });
          }}
        >
          <Field label="List name" className="flex-1">
            <Input data-testid="list-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={100} placeholder="e.g. Newsletter subscribers" />
          </Field>
          <Button type="submit" pending={create.isPending} data-testid="list-create">
            Create list
          </Button>
        </form>
        <div className="mt-2">
          <ErrorMessage error={create.error} />
        </div>
      </Card>

      <Card title="Lists">
        <ErrorMessage error={lists.error} />
        {lists.isPending ? (
          <Loading />
        ) : lists.data?.items.length ? (
          <ul className="divide-y divide-slate-100" data-testid="lists">
            {lists.data.items.map((list) => (
              <ListRow key={list.id} list={list} />
            ))}
          </ul>
        ) : (
          <Empty>No list yet.</Empty>
        )}
        <Pager pager={pager} nextCursor={lists.data?.nextCursor} label="List pages" />
      </Card>
    </>
  );
}

function ListRow({ list }: { list: ContactList }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(list.name);
  const refresh = () => void queryClient.invalidateQueries(trpc.contactList.pathFilter());
  const rename = useMutation(
    trpc.contactList.rename.mutationOptions({
      onSuccess: (renamed) => {
        toast.success(`Renamed to "${renamed.name}"`);
        setEditing(false);
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const remove = useMutation(
    trpc.contactList.delete.mutationOptions({
      onSuccess: () => {
        toast.success(`List "${list.name}" deleted`);
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  return (
    <li className="py-3">
      {editing ? (
        <form
          className="flex flex-col gap-2 sm:flex-row sm:items-center"
          onSubmit={(event) => {
            event.preventDefault();
            rename.mutate({ id: list.id, name });
          }}
        >
          <Input aria-label="New name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={100} className="mt-0 sm:flex-1" autoFocus />
          <div className="flex gap-2">
            <Button type="submit" size="sm" pending={rename.isPending}>
              Save
            </Button>
            <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
              Cancel
            </Button>
          </div>
        </form>
      ) : (
        <div className="flex flex-wrap items-center justify-between gap-2">
          <div className="min-w-0">
            <Link href={`/contacts/${list.id}`} className="font-medium text-emerald-800 hover:underline">
              {list.name}
            </Link>
            <p className="text-xs text-slate-500">
              {plural(list.memberCount, "contact")} · created {formatDateTime(list.createdAt)}
            </p>
          </div>
          <div className="flex gap-2">
            <Button size="sm" variant="secondary" onClick={() => setEditing(true)}>
              Rename
            </Button>
            <Button
              size="sm"
              variant="danger"
              pending={remove.isPending}
              onClick={async () => {
                const ok = await confirm({
                  title: `Delete the list "${list.name}"?`,
                  body: "The list goes away; its contacts stay in your other lists. Past campaigns keep their results.",
                  confirmLabel: "Delete list",
                  danger: true,
                });
                if (ok) remove.mutate({ id: list.id });
              }}
            >
              Delete
            </Button>
          </div>
        </div>
      )}
      <div className="mt-2 empty:hidden">
        <ErrorMessage error={rename.error ?? remove.error} />
      </div>
    </li>
  );
}
