"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useEffect, useState } from "react";
import { formatDateTime, formatNumber, plural } from "~/components/format";
import { ImportCsv } from "~/components/ImportCsv";
import { Badge } from "~/components/ui/badge";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { ErrorMessage } from "~/components/ui/error";
import { Input } from "~/components/ui/field";
import { Pager, useCursorPager } from "~/components/ui/pager";
import { useTRPC } from "~/trpc/react";

export default function ContactListPage() {
  const { id } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const list = useQuery(trpc.contactList.get.queryOptions({ id }));
  const pager = useCursorPager();
  const [searchText, setSearchText] = useState("");
  const [search, setSearch] = useState("");
  const { reset } = pager;
  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(searchText.trim());
      reset();
    }, 300);
    return () => clearTimeout(timer);
  }, [searchText, reset]);
  const members = useQuery(
    trpc.contactList.members.queryOptions({ id, cursor: pager.cursor, limit: 25, search: search || undefined }, { placeholderData: (previous) => previous }),
  );

  if (list.isError) {
    return (
      <>
        <ErrorMessage error={list.error} />
        <Link href="/contacts" className="mt-3 inline-block text-sm text-emerald-800 underline">
          ← Back to lists
        </Link>
      </>
    );
  }
  if (!list.data) return <Loading />;

  return (
    <>
      <Link href="/contacts" className="mb-2 inline-block text-sm text-emerald-800 hover:underline">
        ← Lists
      </Link>
      <PageHeader title={list.data.name} description={`${plural(list.data.memberCount, "contact")} · created ${formatDateTime(list.data.createdAt)}`} />
      <div className="grid gap-4">
        <Card title="Import contacts from CSV">
          <ImportCsv listId={id} listName={list.data.name} />
        </Card>

        <Card
          title={members.data ? `Members (${formatNumber(members.data.total)}${search ? " found" : ""}, in import order)` : "Members"}
          actions={
            <Input
              type="search"
              aria-label="Search by phone or name"
              placeholder="Search phone or name"
              data-testid="member-search"
              value={searchText}
              onChange={(event) => setSearchText(event.target.value)}
              className="mt-0 w-56"
            />
          }
        >
          <ErrorMessage error={members.error} />
          {members.isPending ? (
            <Loading />
          ) : members.data?.items.length ? (
            <div className="overflow-x-auto">
              <table className="w-full text-sm" data-testid="members">
                <thead className="text-left text-xs text-slate-500">
                  <tr>
                    <th className="py-1 pr-3 font-medium">Phone</th>
                    <th className="py-1 pr-3 font-medium">First name</th>
                    <th className="py-1 pr-3 font-medium">Other fields</th>
                    <th className="py-1 font-medium">Added</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {members.data.items.map((contact) => (
                    <tr key={contact.id}>
                      <td className="whitespace-nowrap py-2 pr-3 font-mono text-xs">
                        <Link href={`/contact/${contact.id}`} className="text-emerald-800 hover:underline">
                          {contact.phone}
                        </Link>{" "}
                        {contact.optedOut ? <Badge tone="amber">opted out</Badge> : null}
                      </td>
                      <td className="py-2 pr-3">{contact.firstName ?? <span className="text-slate-400">—</span>}</td>
                      <td className="py-2 pr-3 text-xs text-slate-600">
                        {Object.entries(contact.attributes).map(([key, value]) => (
                          <span key={key} className="mr-2 inline-block">
                            <span className="text-slate-400">{key}:</span> {value}
                          </span>
                        ))}
                      </td>
                      <td className="whitespace-nowrap py-2 text-xs text-slate-500">{formatDateTime(contact.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <Empty>{search ? `No contact matches "${search}".` : "No contacts in this list yet: import a CSV above."}</Empty>
          )}
          <Pager pager={pager} nextCursor={members.data?.nextCursor} label="Member pages" total={members.data?.total} pageSize={25} noun="contact" />
        </Card>
      </div>
    </>
  );
}
