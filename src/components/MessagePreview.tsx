"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "~/trpc/react";
import { ContactPicker } from "./ContactPicker";
import { useDebounced } from "./useDebounced";
import { WhatsAppBubble } from "./WhatsAppText";

/** Renders a body for a chosen contact on the server (the same code the campaign uses) and shows it as WhatsApp would. */
export function MessagePreview({ body, defaultName, imageUrl }: { body: string; defaultName?: string | null; imageUrl?: string | null }) {
  const trpc = useTRPC();
  const [target, setTarget] = useState({ listId: "", contactId: "" });
  const debouncedBody = useDebounced(body);
  const preview = useQuery({
    ...trpc.template.preview.queryOptions({ body: debouncedBody, contactId: target.contactId || undefined, defaultName: defaultName || null }),
    enabled: debouncedBody.length > 0 && debouncedBody.length <= 4096,
    placeholderData: (previous) => previous,
  });
  return (
    <div className="space-y-3">
      <ContactPicker listId={target.listId} contactId={target.contactId} onChange={setTarget} />
      {preview.isError ? <p className="text-sm text-red-700">{preview.error.message}</p> : null}
      <WhatsAppBubble text={body ? (preview.data?.text ?? "") : ""} imageUrl={imageUrl} testId="message-preview" />
      {preview.data?.unknownPlaceholders.length ? (
        <p role="alert" className="text-sm text-amber-800">
          Unknown placeholder{preview.data.unknownPlaceholders.length > 1 ? "s" : ""}:{" "}
          {preview.data.unknownPlaceholders.map((name) => `{{${name}}}`).join(", ")}. Use a column of your imported contacts, or
          add a fallback like {"{{city|your city}}"}.
        </p>
      ) : null}
    </div>
  );
}
