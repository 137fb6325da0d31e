"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "~/trpc/react";
import { Field, Select } from "./ui/field";

/** Picks a real contact (list, then member) to preview a message with; "" means the sample contact. */
export function ContactPicker({
  listId,
  contactId,
  onChange,
}: {
  listId: string;
  contactId: string;
  onChange: (value: { listId: string; contactId: string }) => void;
}) {
  const trpc = useTRPC();
  const lists = useQuery(trpc.contactList.list.queryOptions({ limit: 100 }));
  const members = useQuery({ ...trpc.contactList.members.queryOptions({ id: listId, limit: 100 }), enabled: Boolean(listId) });
  return (
    <div className="grid gap-2 sm:grid-cols-2">
      <Field label="Preview with list">
        <Select data-testid="preview-list" value={listId} onChange={(event) => onChange({ listId: event.target.value, contactId: "" })}>
          <option value="">Sample contact (Ava)</option>
          {lists.data?.items.map((list) => (
            <option key={list.id} value={list.id}>
              {list.name} ({list.memberCount})
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Contact">
        <Select
          data-testid="preview-contact"
          value={contactId}
          disabled={!listId}
          onChange={(event) => onChange({ listId, contactId: event.target.value })}
        >
          <option value="">{listId ? "Choose a contact" : "—"}</option>
          {members.data?.items.map((contact) => (
            <option key={contact.id} value={contact.id}>
              {contact.firstName ? `${contact.firstName} · ` : ""}
              {contact.phone}
            </option>
          ))}
        </Select>
      </Field>
    </div>
  );
}
