"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { formatDateTime, plural } from "~/components/format";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input, Textarea } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

const SOURCE_WORDS: Record<string, string> = {
  keyword: "STOP reply",
  manual: "by hand",
  api: "API",
  suppression_import: "import",
};

/** The suppression list (issue 14): who is opted out, CSV export and import, and the opt-out settings. */
export default function SuppressionPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const suppressed = useQuery(trpc.contact.suppressed.queryOptions({ limit: 200 }));
  const refresh = () => void queryClient.invalidateQueries(trpc.contact.pathFilter());
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const importList = useMutation(
    trpc.contact.importSuppressed.mutationOptions({
      onSuccess: (result) => {
        toast.success(
          `${plural(result.optedOut, "contact")} opted out (${result.created} new), ${result.alreadyOptedOut} already were` +
            (result.rejected.length ? `; ${plural(result.rejected.length, "line")} skipped` : ""),
        );
        setFile(null);
        refresh();
      },
      onError: (error) => toast.error(error.message),
    }),
  );

  const download = async () => {
    try {
      const { csv } = await queryClient.fetchQuery(trpc.contact.exportSuppressed.queryOptions(undefined, { staleTime: 0 }));
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = "suppression-list.csv";
      link.click();
      URL.revokeObjectURL(url);
    } catch (error) {
      toast.error(error instanceof Error ? error.message : "The export failed");
    }
  };

  return (
    <>
      <Link href="/contacts" className="mb-2 inline-block text-sm text-emerald-800 hover:underline">
        ← Contacts
      </Link>
      <PageHeader
        title="Suppression list"
        description="Contacts who opted out. No campaign messages them, not even one already running; only opting back in by hand on a contact's page undoes it."
      />
      <div className="grid gap-4">
        <Card
          title={suppressed.data ? `Opted out (${suppressed.data.total})` : "Opted out"}
          actions={
            <Button variant="secondary" size="sm" onClick={() => void download()} data-testid="suppression-export">
              Export CSV
            </Button>
          }
          testId="suppressed"
        >
          <ErrorMessage error={suppressed.error} />
          {suppressed.isPending ? (
            <Loading />
          ) : suppressed.data?.contacts.length ? (
            <div className="overflow-x-auto">
              <table className="w-full text-sm">
                <thead className="text-left text-xs text-slate-500">
                  <tr>
                    <th className="py-1 pr-3 font-medium">Phone</th>
                    <th className="py-1 pr-3 font-medium">Name</th>
                    <th className="py-1 pr-3 font-medium">How</th>
                    <th className="py-1 font-medium">When</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {suppressed.data.contacts.map((contact) => (
                    <tr key={contact.id}>
                      <td className="whitespace-nowrap py-2 pr-3 font-mono text-xs">
                        <Link href={`/contact/${contact.id}`} className="text-emerald-800 underline">
                          {contact.phone}
                        </Link>
                      </td>
                      <td className="py-2 pr-3">{contact.firstName ?? <span className="text-slate-400">—</span>}</td>
                      <td className="py-2 pr-3 text-xs">{contact.optedOutSource ? (SOURCE_WORDS[contact.optedOutSource] ?? contact.optedOutSource) : "—"}</td>
                      <td className="whitespace-nowrap py-2 text-xs text-slate-500">{contact.optedOutAt ? formatDateTime(contact.optedOutAt) : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {suppressed.data.total > suppressed.data.contacts.length ? (
                <p className="mt-2 text-xs text-slate-500">The {suppressed.data.contacts.length} most recent are shown; export the CSV for all {suppressed.data.total}.</p>
              ) : null}
            </div>
          ) : (
            <Empty>Nobody opted out yet.</Empty>
          )}
        </Card>

        <Card title="Import a suppression list">
          <p className="mb-3 text-sm text-slate-600">
            A CSV with a phone column, or one phone number per line (with its country code). Every number is opted out; numbers that are no contact yet
            are added, opted out. An import never opts anyone back in.
          </p>
          <form
            className="flex flex-col gap-3 sm:flex-row sm:items-end"
            onSubmit={(event) => {
              event.preventDefault();
              if (file) importList.mutate({ csv: file.text });
            }}
          >
            <Field label="File" className="flex-1">
              <Input
                type="file"
                accept=".csv,.txt,text/csv,text/plain"
                data-testid="suppression-file"
                onChange={async (event) => {
                  const picked = event.target.files?.[0];
                  setFile(picked ? { name: picked.name, text: await picked.text() } : null);
                }}
              />
            </Field>
            <Button type="submit" disabled={!file} pending={importList.isPending} data-testid="suppression-import">
              Opt out these numbers
            </Button>
          </form>
          <div className="mt-2">
            <ErrorMessage error={importList.error} />
          </div>
          {importList.data?.rejected.length ? (
            <ul className="mt-2 text-xs text-red-700">
              {importList.data.rejected.slice(0, 20).map((row) => (
                <li key={row.line}>
                  Line {row.line} ({row.value}): {row.reason}
                </li>
              ))}
            </ul>
          ) : null}
        </Card>

        <OptOutSettingsForm />
      </div>
    </>
  );
}

function OptOutSettingsForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const settings = useQuery(trpc.contact.optOutSettings.queryOptions());
  const [keywords, setKeywords] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [days, setDays] = useState("7");
  useEffect(() => {
    if (!settings.data) return;
    setKeywords(settings.data.keywords.join(", "));
    setConfirmation(settings.data.confirmation ?? "");
    setDays(String(settings.data.replyAttributionDays));
  }, [settings.data]);
  const save = useMutation(
    trpc.contact.updateOptOutSettings.mutationOptions({
      onSuccess: () => {
        toast.success("Opt-out settings saved");
        void queryClient.invalidateQueries(trpc.contact.optOutSettings.queryFilter());
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  if (!settings.data) return <Card title="Opt-out settings">{settings.isError ? <ErrorMessage error={settings.error} /> : <Loading />}</Card>;
  const list = keywords
    .split(",")
    .map((keyword) => keyword.trim())
    .filter(Boolean);
  return (
    <Card title="Opt-out settings" testId="opt-out-settings">
      <form
        className="grid gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate({ keywords: list, confirmation: confirmation.trim() || null, replyAttributionDays: Number(days) });
        }}
      >
        <Field label="STOP keywords" hint="A reply that is exactly one of these (any case, with or without accents or a final !) opts its sender out. Comma-separated.">
          <Input value={keywords} onChange={(event) => setKeywords(event.target.value)} data-testid="opt-out-keywords" />
        </Field>
        <Field label="Confirmation reply" hint="Sent once, on the same number, right after an opt-out by keyword (within the number's daily and hourly limits). Empty: none.">
          <Textarea rows={2} value={confirmation} maxLength={1000} onChange={(event) => setConfirmation(event.target.value)} data-testid="opt-out-confirmation" />
        </Field>
        <Field label="Count a reply for a campaign sent within (days)">
          <Input type="number" min={1} max={90} value={days} onChange={(event) => setDays(event.target.value)} className="w-28" />
        </Field>
        <div className="flex flex-wrap gap-2">
          <Button type="submit" pending={save.isPending} data-testid="opt-out-settings-save">
            Save
          </Button>
          {!settings.data.usesDefaultKeywords ? (
            <Button variant="ghost" onClick={() => save.mutate({ keywords: null })}>
              Back to the default keywords
            </Button>
          ) : null}
        </div>
        <ErrorMessage error={save.error} />
      </form>
    </Card>
  );
}
