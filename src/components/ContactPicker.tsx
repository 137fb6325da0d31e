"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "~/trpc/react";
import { Field, Select } from "./ui/field";

/**
 * Picks a real contact (list, then member) to preview a message with; "" lets the server choose the
 * contact that fills the most of the text's placeholders. One column: in the preview's narrow card,
 * two side by side cut their options' text off.
 */
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
    <div className="grid gap-2">
      <Field label="Preview with list">
        <Select data-testid="preview-list" value={listId} onChange={(event) => onChange({ listId: event.target.value, contactId: "" })}>
          <option value="">The campaign&apos;s list, or any</option>
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
          onChange={(event) => onChange({ listId, contactId: event.target.value })}
        >
          <option value="">Best match (fills the most placeholders)</option>
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
