"use client";

import { useQuery } from "@tanstack/react-query";
import { useRef } from "react";
import { useTRPC } from "~/trpc/react";
import { Field, Textarea } from "./ui/field";

const MAX = 4096;

/** The message textarea with placeholder buttons (inserted at the cursor) and WhatsApp formatting help. */
export function MessageEditor({
  value,
  onChange,
  label = "Message",
  testId = "message-body",
  error,
}: {
  value: string;
  onChange: (value: string) => void;
  label?: string;
  testId?: string;
  error?: string | null;
}) {
  const trpc = useTRPC();
  const placeholders = useQuery(trpc.template.placeholders.queryOptions());
  const textarea = useRef<HTMLTextAreaElement>(null);

  function insert(snippet: string) {
    const element = textarea.current;
    const start = element?.selectionStart ?? value.length;
    const end = element?.selectionEnd ?? value.length;
    onChange(value.slice(0, start) + snippet + value.slice(end));
    requestAnimationFrame(() => {
      element?.focus();
      element?.setSelectionRange(start + snippet.length, start + snippet.length);
    });
  }

  const names = [...(placeholders.data?.builtIn ?? ["first_name", "phone"]), ...(placeholders.data?.attributes ?? [])];
  return (
    <div className="space-y-2">
      <Field label={label} error={error}>
        <Textarea
          ref={textarea}
          data-testid={testId}
          rows={6}
          maxLength={MAX}
          value={value}
          onChange={(event) => onChange(event.target.value)}
          placeholder={"Hi {{first_name|there}}, *our spring sale* starts today…"}
          required
        />
      </Field>
      <div className="flex flex-wrap items-center gap-1.5 text-xs">
        <span className="text-slate-500">Insert:</span>
        {names.map((name) => (
          <button
            key={name}
            type="button"
            className="rounded-full bg-slate-100 px-2 py-0.5 font-mono text-slate-700 hover:bg-emerald-50 hover:text-emerald-900"
            onClick={() => insert(name === "first_name" ? "{{first_name|there}}" : `{{${name}}}`)}
          >
            {name === "first_name" ? "{{first_name|there}}" : `{{${name}}}`}
          </button>
        ))}
        <span className={`ml-auto ${value.length > MAX - 200 ? "text-amber-700" : "text-slate-400"}`}>
          {value.length}/{MAX}
        </span>
      </div>
      <details className="text-xs text-slate-600">
        <summary className="cursor-pointer select-none text-slate-500">Placeholders and formatting help</summary>
        <ul className="mt-2 list-disc space-y-1 pl-5">
          <li>
            <code>{"{{first_name}}"}</code>, <code>{"{{phone}}"}</code> and every imported column (e.g. <code>{"{{city}}"}</code>) are
            replaced for each contact.
          </li>
          <li>
            A fallback after a bar is used when the value is empty: <code>{"{{first_name|there}}"}</code> gives “Hi there” to a contact
            without a name.
          </li>
          <li>
            That is the one syntax: the old <code>{"{Name}"}</code> (single braces) is refused; write <code>{"{{first_name|friend}}"}</code>.
          </li>
          <li>
            Choices in braces vary the text per contact: <code>{"{Hi|Hello|Hey}"}</code>, nested too (
            <code>{"{Hi|Hello {there|friend}}"}</code>). A contact always gets the same variant. Write <code>{"\\|"}</code>,{" "}
            <code>{"\\{"}</code> or <code>{"\\}"}</code> for the character itself.
          </li>
          <li>
            WhatsApp formatting: <code>*bold*</code>, <code>_italic_</code>, <code>~strikethrough~</code>, <code>```monospace```</code>.
          </li>
        </ul>
      </details>
    </div>
  );
}
