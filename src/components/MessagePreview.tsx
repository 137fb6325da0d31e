"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { ContactPicker } from "./ContactPicker";
import { useDebounced } from "./useDebounced";
import { WhatsAppBubble } from "./WhatsAppText";

/**
 * Renders a body for a chosen contact on the server (the same code the campaign uses) and shows it as
 * WhatsApp would; with spintax, a few variants and how many distinct texts the list gets. `listId` is
 * the list the campaign sends to (the preview's own list choice wins). Without a chosen contact the
 * server picks the one that fills the most placeholders, and the preview says whom it shows and which
 * placeholders that contact still leaves empty. `onIssues` tells the form when the preview shows a
 * problem with the text, so the form does not say it a second time.
 */
export function MessagePreview({
  body,
  imageUrl,
  listId,
  onIssues,
}: {
  body: string;
  imageUrl?: string | null;
  listId?: string | null;
  onIssues?: (shown: boolean) => void;
}) {
  const trpc = useTRPC();
  const [target, setTarget] = useState({ listId: "", contactId: "" });
  const debouncedBody = useDebounced(body);
  const countListId = target.listId || listId || undefined;
  const preview = useQuery({
    ...trpc.template.preview.queryOptions({
      body: debouncedBody,
      contactId: target.contactId || undefined,
      listId: countListId,
    }),
    enabled: debouncedBody.length > 0 && debouncedBody.length <= 4096,
    placeholderData: (previous) => previous,
  });
  const issuesShown = Boolean(preview.data?.problem || preview.data?.unknownPlaceholders.length);
  useEffect(() => onIssues?.(issuesShown), [issuesShown, onIssues]);
  const sample = preview.data?.sample;
  return (
    <div className="space-y-3">
      <ContactPicker listId={target.listId} contactId={target.contactId} onChange={setTarget} />
      {preview.isError ? <p className="text-sm text-red-700">{preview.error.message}</p> : null}
      {preview.data?.problem ? (
        <p role="alert" data-testid="message-problem" className="text-sm text-red-700">
          {preview.data.problem.message}
        </p>
      ) : null}
      {sample ? (
        <p className="text-xs text-slate-500" data-testid="preview-sample">
          For {sample.firstName ?? "a contact without a name"} ({sample.phone})
          {sample.missing.length
            ? `: no ${sample.missing.join(", ")}, so ${sample.missing.length > 1 ? "they stay" : "it stays"} empty. Add a fallback like {{${sample.missing[0]}|…}}`
            : ""}
        </p>
      ) : null}
      <WhatsAppBubble text={body ? (preview.data?.text ?? "") : ""} imageUrl={imageUrl} testId="message-preview" />
      {preview.data?.spintax ? <SpintaxSummary data={preview.data} /> : null}
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

interface SpintaxPreview {
  variantCount: number;
  variantCountCapped: boolean;
  samples: string[];
  list: { recipients: number; distinctTexts: number; partial: boolean } | null;
}

/** The variants a spintax text makes: a few of them, and how many distinct texts the list will get. */
function SpintaxSummary({ data }: { data: SpintaxPreview }) {
  const variants = `${data.variantCount.toLocaleString()}${data.variantCountCapped ? "+" : ""}`;
  return (
    <div className="space-y-2" data-testid="spintax-summary">
      <p className="text-sm text-slate-700" data-testid="distinct-texts">
        {data.list
          ? `${data.list.distinctTexts.toLocaleString()} distinct text${data.list.distinctTexts === 1 ? "" : "s"} for ${data.list.recipients.toLocaleString()}${data.list.partial ? "+" : ""} recipient${data.list.recipients === 1 ? "" : "s"}`
          : `${variants} distinct text${data.variantCount === 1 ? "" : "s"} from the {…|…} choices`}
        {data.list ? <span className="text-slate-500"> ({variants} possible variants)</span> : null}
      </p>
      <details open className="text-sm">
        <summary className="cursor-pointer text-slate-600">Some variants</summary>
        <ul className="mt-2 space-y-2" data-testid="spintax-samples">
          {data.samples.map((sample, index) => (
            <li key={index}>
              <WhatsAppBubble text={sample} />
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
