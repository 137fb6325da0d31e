"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { getCountries } from "libphonenumber-js";
import { useEffect, useMemo, useState } from "react";
import { useTRPC, useTRPCClient } from "~/trpc/react";
import { splitCsvIntoParts } from "./csvChunks";
import { downloadText, FIRST_NAME_COLUMN_NAMES, guessColumn, PHONE_COLUMN_NAMES, previewCsv, toCsv, type CsvPreview } from "./csv";
import type { ImportResult } from "./types";
import { Button } from "./ui/button";
import { ErrorMessage } from "./ui/error";
import { Field, Input, Select } from "./ui/field";
import { useToast } from "./ui/toast";
import { binaryFileKind, binaryFileMessage } from "~/server/services/binaryFile";
import { formatNumber, plural } from "./format";

const MAX_BYTES = 10 * 1024 * 1024;

/** Same rule as the server: an imported column becomes the placeholder {{key}}. */
function attributeKey(column: string): string {
  return column
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

function countryOptions(): Array<{ code: string; name: string }> {
  let names: Intl.DisplayNames | null = null;
  try {
    names = new Intl.DisplayNames(["en"], { type: "region" });
  } catch {
    names = null;
  }
  return getCountries()
    .map((code) => ({ code, name: names?.of(code) ?? code }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function ImportCsv({ listId, listName }: { listId: string; listName: string }) {
  const trpc = useTRPC();
  const trpcClient = useTRPCClient();
  const queryClient = useQueryClient();
  const toast = useToast();
  const countries = useMemo(countryOptions, []);
  const [file, setFile] = useState<{ name: string; text: string; preview: CsvPreview } | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [phoneColumn, setPhoneColumn] = useState("");
  const [firstNameColumn, setFirstNameColumn] = useState("");
  const [skipped, setSkipped] = useState<Set<string>>(new Set());
  const [country, setCountry] = useState("");
  const [importTag, setImportTag] = useState("");
  const [inputKey, setInputKey] = useState(0);

  useEffect(() => {
    // A sensible default from the browser's language (en-US -> US); the user can change it.
    const region = navigator.language.split("-")[1]?.toUpperCase();
    if (region && getCountries().includes(region as never)) setCountry((current) => current || region);
  }, []);

  const [progress, setProgress] = useState<ImportProgress | null>(null);
  // The file goes in parts of whole records (csvChunks.ts): each part is saved before the next is
  // sent, so the page can say how far it got, and a 50,000-row file stays under the body limit.
  const importCsv = useMutation({
    mutationFn: async (input: { id: string; csv: string; defaultCountry?: string; tag?: string; mapping: { phone?: string; firstName?: string; ignore: string[] } }) => {
      const { parts, rowCount } = splitCsvIntoParts(input.csv);
      const total: ImportResult = { received: 0, added: 0, updated: 0, duplicatesMerged: 0, rejected: [] };
      setProgress({ rowsParsed: rowCount, rowsSaved: 0 });
      for (const part of parts) {
        const result = await trpcClient.contactList.importCsv.mutate({ ...input, csv: part.csv, lineOffset: part.lineOffset || undefined });
        total.received += result.received;
        total.added += result.added;
        total.updated += result.updated;
        total.duplicatesMerged += result.duplicatesMerged;
        total.rejected.push(...result.rejected);
        setProgress({ rowsParsed: rowCount, rowsSaved: total.added + total.updated + total.duplicatesMerged });
      }
      return total;
    },
    onSettled: () => setProgress(null),
      onSuccess: (result) => {
        toast.success(`Import finished: ${plural(result.added + result.updated, "contact")} kept, ${formatNumber(result.rejected.length)} rejected`);
        void queryClient.invalidateQueries(trpc.contactList.pathFilter());
        void queryClient.invalidateQueries(trpc.template.placeholders.pathFilter());
      },
    onError: (error) => toast.error(error.message),
  });

  async function choose(chosen: File | undefined) {
    importCsv.reset();
    setFileError(null);
    setFile(null);
    if (!chosen) return;
    if (chosen.size > MAX_BYTES) {
      setFileError(`The file is ${(chosen.size / 1024 / 1024).toFixed(1)} MB; at most 10 MB can be imported at once: split it.`);
      return;
    }
    const text = await chosen.text();
    // An image or a workbook picked by mistake: say so instead of previewing garbage.
    const binary = binaryFileKind(text);
    if (binary) {
      setFileError(`${binaryFileMessage(binary)}.`);
      return;
    }
    const preview = previewCsv(text);
    if (preview.columns.length === 0) {
      setFileError("The file is empty: the first line must name the columns, e.g. phone_number,first_name");
      return;
    }
    setFile({ name: chosen.name, text, preview });
    setPhoneColumn(guessColumn(preview.columns, PHONE_COLUMN_NAMES) ?? preview.columns[0] ?? "");
    setFirstNameColumn(guessColumn(preview.columns, FIRST_NAME_COLUMN_NAMES) ?? "");
    setSkipped(new Set());
  }

  // A `tags` column holds tags (contactImport.ts), not a placeholder.
  const attributeColumns = file
    ? file.preview.columns.filter((column) => column && column !== phoneColumn && column !== firstNameColumn && column.toLowerCase() !== "tags")
    : [];

  return (
    <div className="space-y-4" data-testid="import-csv">
      <Field label="CSV file" hint="First line: column names. A phone_number column is required; first_name and any other columns are optional.">
        <input
          key={inputKey}
          type="file"
          accept=".csv,text/csv,text/plain"
          data-testid="csv-file"
          onChange={(event) => void choose(event.target.files?.[0])}
          className="mt-1 block w-full text-sm file:mr-3 file:rounded-md file:border-0 file:bg-emerald-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-emerald-800 hover:file:bg-emerald-100"
        />
      </Field>
      {fileError ? <ErrorMessage error={{ message: fileError }} /> : null}

      {file ? (
        <>
          <div>
            <h3 className="mb-1 text-sm font-semibold">Preview</h3>
            <p className="mb-2 text-xs text-slate-500">
              {file.name}: {plural(file.preview.rowCount, "row")}, separated by{" "}
              {file.preview.delimiter === "\t" ? "tabs" : `"${file.preview.delimiter}"`}. First {file.preview.rows.length} shown.
            </p>
            <div className="overflow-x-auto rounded-md border border-slate-200">
              <table className="w-full text-xs" data-testid="csv-preview">
                <thead className="bg-slate-50 text-left">
                  <tr>
                    {file.preview.columns.map((column, index) => (
                      <th key={`${column}-${index}`} className="whitespace-nowrap px-2 py-1.5 font-semibold">
                        {column || <em className="text-slate-400">(no name)</em>}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {file.preview.rows.map((row, rowIndex) => (
                    <tr key={rowIndex}>
                      {file.preview.columns.map((_, index) => (
                        <td key={index} className="max-w-48 truncate whitespace-nowrap px-2 py-1.5">
                          {row[index] ?? ""}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>

          <div className="grid gap-3 sm:grid-cols-3">
            <Field label="Phone number column">
              <Select data-testid="map-phone" value={phoneColumn} onChange={(event) => setPhoneColumn(event.target.value)}>
                {file.preview.columns.filter(Boolean).map((column) => (
                  <option key={column} value={column}>
                    {column}
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="First name column">
              <Select data-testid="map-first-name" value={firstNameColumn} onChange={(event) => setFirstNameColumn(event.target.value)}>
                <option value="">(none)</option>
                {file.preview.columns.filter(Boolean).map((column) => (
                  <option key={column} value={column}>
                    {column}
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Default country" hint="For numbers written without +country code">
              <Select data-testid="default-country" value={country} onChange={(event) => setCountry(event.target.value)}>
                <option value="">(none: numbers need +country code)</option>
                {countries.map((option) => (
                  <option key={option.code} value={option.code}>
                    {option.name} ({option.code})
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Tag every contact" hint="Optional, e.g. spring-fair; a tags column adds each row's own tags">
              <Input data-testid="import-tag" maxLength={50} value={importTag} onChange={(event) => setImportTag(event.target.value)} placeholder="(no tag)" />
            </Field>
          </div>

          {attributeColumns.length ? (
            <fieldset>
              <legend className="text-sm font-medium text-slate-700">Other columns become placeholders</legend>
              <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
                {attributeColumns.map((column) => (
                  <label key={column} className="flex items-center gap-2 text-sm">
                    <input
                      type="checkbox"
                      checked={!skipped.has(column)}
                      onChange={(event) =>
                        setSkipped((current) => {
                          const next = new Set(current);
                          if (event.target.checked) next.delete(column);
                          else next.add(column);
                          return next;
                        })
                      }
                    />
                    {column} <code className="text-xs text-slate-500">{`{{${attributeKey(column)}}}`}</code>
                  </label>
                ))}
              </div>
            </fieldset>
          ) : null}

          <div className="flex flex-wrap items-center gap-3">
            <Button
              data-testid="import-submit"
              pending={importCsv.isPending}
              onClick={() =>
                importCsv.mutate({
                  id: listId,
                  csv: file.text,
                  defaultCountry: country || undefined,
                  tag: importTag.trim() || undefined,
                  mapping: {
                    phone: phoneColumn || undefined,
                    firstName: firstNameColumn || undefined,
                    ignore: [...skipped].filter((column) => attributeColumns.includes(column)),
                  },
                })
              }
            >
              {importCsv.isPending ? "Importing…" : `Import into "${listName}"`}
            </Button>
            {progress ? (
              <span role="status" data-testid="import-progress" className="text-sm text-slate-600">
                {plural(progress.rowsParsed, "row")} read · {formatNumber(progress.rowsSaved)} saved
              </span>
            ) : null}
            <Button
              variant="ghost"
              onClick={() => {
                setFile(null);
                importCsv.reset();
                setInputKey((key) => key + 1);
              }}
            >
              Choose another file
            </Button>
          </div>
        </>
      ) : null}

      <ErrorMessage error={importCsv.error} testId="import-error" />
      {importCsv.data ? <ImportResultView result={importCsv.data} fileName={file?.name ?? "import.csv"} /> : null}
    </div>
  );
}

interface ImportProgress {
  rowsParsed: number;
  rowsSaved: number;
}

function ImportResultView({ result, fileName }: { result: ImportResult; fileName: string }) {
  const kept = result.added + result.updated;
  return (
    <div data-testid="import-result" className="space-y-3 rounded-md border border-slate-200 bg-slate-50 p-4">
      <h3 className="text-sm font-semibold">Import result</h3>
      <dl className="grid grid-cols-2 gap-2 text-sm sm:grid-cols-5">
        <Stat label="Rows read" value={result.received} testId="import-received" />
        <Stat label="Contacts kept" value={kept} testId="import-kept" />
        <Stat label="New" value={result.added} testId="import-added" />
        <Stat label="Updated" value={result.updated} testId="import-updated" />
        <Stat label="Duplicates merged" value={result.duplicatesMerged} testId="import-duplicates" />
      </dl>
      {result.rejected.length ? (
        <div>
          <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
            <p className="text-sm font-medium text-red-800" data-testid="import-rejected-count">
              {plural(result.rejected.length, "row")} rejected
            </p>
            <Button
              size="sm"
              variant="secondary"
              data-testid="rejected-download"
              onClick={() =>
                downloadText(
                  `${fileName.replace(/\.[^.]*$/, "")}-rejected.csv`,
                  toCsv(["line", "value", "reason"], result.rejected.map((row) => [row.line, row.value, row.reason])),
                )
              }
            >
              Download rejected rows (CSV)
            </Button>
          </div>
          <div className="max-h-80 overflow-auto rounded-md border border-slate-200 bg-white">
            <table className="w-full text-sm" data-testid="rejected-rows">
              <thead className="sticky top-0 bg-slate-50 text-left text-xs">
                <tr>
                  <th className="px-3 py-1.5 font-semibold">Line</th>
                  <th className="px-3 py-1.5 font-semibold">Value</th>
                  <th className="px-3 py-1.5 font-semibold">Reason</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {result.rejected.map((row) => (
                  <tr key={row.line} data-testid={`rejected-line-${row.line}`}>
                    <td className="px-3 py-1.5 font-mono">{row.line}</td>
                    <td className="px-3 py-1.5 font-mono">{row.value || <em className="text-slate-400">(empty)</em>}</td>
                    <td className="px-3 py-1.5">{row.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : (
        <p className="text-sm text-emerald-800">Every row was imported.</p>
      )}
    </div>
  );
}

function Stat({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <div className="rounded-md bg-white px-3 py-2 ring-1 ring-slate-200">
      <dt className="text-xs text-slate-500">{label}</dt>
      <dd className="text-lg font-semibold" data-testid={testId}>
        {formatNumber(value)}
      </dd>
    </div>
  );
}
