/**
 * Turning a CSV (or a JSON array) into contacts: numbers normalised to E.164 with
 * libphonenumber-js, duplicates merged, every rejected row reported with its line and reason.
 * Parsing is pure; `importContacts` writes everything in one transaction or nothing.
 */
import { Readable } from "node:stream";
import { parse as parseStream } from "csv-parse";
import { parse } from "csv-parse/sync";
import { type CountryCode, getCountries, parsePhoneNumberFromString } from "libphonenumber-js";
import phoneMetadata from "libphonenumber-js/metadata.min.json";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { contactListMembers, contacts } from "../db/schema";
import { binaryFileKind, binaryFileMessage } from "./binaryFile";
import { parseTagCell } from "./contactTags";
import { badRequest } from "./errors";
import { assertContactQuota, DEFAULT_QUOTAS, lockForContacts, type QuotaDefaults } from "./quotas";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export const MAX_IMPORT_ROWS = 50_000;
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
const PHONE_COLUMNS = ["phone_number", "phone", "number", "mobile", "whatsapp"];
const FIRST_NAME_COLUMNS = ["first_name", "firstname", "name"];
/** A `tags` column holds the contact's tags, separated by `,` `;` or `|` (issue 15). */
const TAG_COLUMNS = ["tags"];
const countryCodes = new Set<string>(getCountries());

export const countrySchema = z
  .string()
  .trim()
  .toUpperCase()
  .meta({ pattern: "^[A-Za-z]{2}$", description: "ISO 3166-1 alpha-2 country code, e.g. US, DE or ID" })
  .refine((code) => countryCodes.has(code), { message: "Use a two-letter country code such as US, DE or ID" });

export interface ColumnMapping {
  /** Column holding the phone number; default: phone_number, phone, number, mobile or whatsapp. */
  phone?: string;
  /** Column holding the first name; default: first_name, firstname or name; "" = none. */
  firstName?: string;
  /** Columns to leave out; every other column becomes an attribute usable as {{column}}. */
  ignore?: string[];
}

export interface RawContactRow {
  line: number;
  values: Record<string, string>;
}

export interface NormalisedContact {
  phone: string;
  firstName: string | null;
  attributes: Record<string, string>;
  /** Lower-cased and distinct: the row's `tags` column plus the import's tag. */
  tags: string[];
  lines: number[];
}

export interface RejectedRow {
  line: number;
  value: string;
  reason: string;
}

export interface PreparedImport {
  contacts: NormalisedContact[];
  rejected: RejectedRow[];
  duplicatesMerged: number;
  columns: string[];
}

/** Reads a CSV export as spreadsheets write them: BOM, `,` `;` or tab, CRLF, quoted fields. */
export function parseContactsCsv(text: string): { columns: string[]; rows: RawContactRow[] } {
  const { text: withoutBom, delimiter } = checkCsvText(text);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(withoutBom, {
      delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (error) {
    throw badRequest(`The file is not valid CSV: ${(error as Error).message}`);
  }
  const [header, ...body] = records;
  const columns = (header?.record ?? []).map((column) => column.trim());
  if (body.length > MAX_IMPORT_ROWS) {
    throw badRequest(`The file has ${body.length} rows; at most ${MAX_IMPORT_ROWS} can be imported at once`);
  }
  const rows = body.map(({ record, info }) => {
    const values: Record<string, string> = {};
    columns.forEach((column, index) => {
      if (column) values[column] = record[index] ?? "";
    });
    return { line: info.lines, values };
  });
  return { columns, rows };
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

function findColumn(columns: string[], wanted: string | undefined, defaults: string[]): string | undefined {
  if (wanted) return columns.find((column) => column === wanted);
  const lower = columns.map((column) => column.toLowerCase());
  for (const candidate of defaults) {
    const index = lower.indexOf(candidate);
    if (index >= 0) return columns[index];
  }
  return undefined;
}

/** Attribute names become placeholders: letters, digits and underscores only. */
export function attributeKey(column: string): string {
  return column
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/**
 * Names an attribute may not have: anything on Object.prototype (`constructor`, `__proto__`,
 * `toString`, ...) and `prototype`. Such a key shadows or pollutes JavaScript objects, and the
 * dashboard's transport refuses it, so one imported column would break its list for good.
 */
const RESERVED_ATTRIBUTE_NAMES = new Set(
  [...Object.getOwnPropertyNames(Object.prototype), "prototype"].map((name) => name.toLowerCase()),
);

export function isReservedAttributeName(name: string): boolean {
  return RESERVED_ATTRIBUTE_NAMES.has(name.toLowerCase()) || RESERVED_ATTRIBUTE_NAMES.has(attributeKey(name));
}

/** Every country calling code libphonenumber knows, geographic (49, 1) or not (800, 882). */
const knownCallingCodes = new Set<string>(Object.keys((phoneMetadata as { country_calling_codes: Record<string, unknown> }).country_calling_codes));

/** "+999 123…" → "999": the first 1-3 digits match no country calling code. */
function unknownCallingCode(international: string): string | null {
  const digits = international.replace(/\D/g, "");
  if (digits.length === 0) return null;
  for (const length of [1, 2, 3]) {
    if (digits.length >= length && knownCallingCodes.has(digits.slice(0, length))) return null;
  }
  return digits.slice(0, 3);
}

export function normalisePhone(value: string, defaultCountry?: string): { phone: string } | { reason: string } {
  const trimmed = value.trim();
  if (!trimmed) return { reason: "The phone number is empty" };
  // "0049 151…": 00 is the international prefix in most of the world; it means "+".
  const international = /^00[1-9]/.test(trimmed) ? `+${trimmed.slice(2)}` : trimmed;
  const parsed = parsePhoneNumberFromString(international, defaultCountry as CountryCode | undefined);
  if (!parsed) {
    const unknownCode = international.startsWith("+") ? unknownCallingCode(international) : null;
    return {
      reason: unknownCode
        ? `Unknown country code +${unknownCode}: check the digits after the + (e.g. +49 for Germany, +1 for the US)`
        : /[0-9]/.test(trimmed)
          ? international.startsWith("+")
            ? `Not a phone number: too short or too long after its country code (${trimmed})`
            : defaultCountry
              ? `Not a ${defaultCountry} phone number (${trimmed}): check its digits, or write it with its country code (+49…)`
              : "Not a phone number: write it with its country code (+49…) or choose a default country"
          : "Not a phone number: it has no digits",
    };
  }
  if (!parsed.isValid()) return { reason: `Not a valid ${parsed.country ?? "phone"} number (${trimmed})` };
  return { phone: parsed.number };
}

export function prepareImport(
  columns: string[],
  rows: RawContactRow[],
  options: { defaultCountry?: string; mapping?: ColumnMapping; source?: "csv" | "json"; tag?: string } = {},
): PreparedImport {
  const phoneColumn = findColumn(columns, options.mapping?.phone, PHONE_COLUMNS);
  if (!phoneColumn) {
    throw badRequest(
      options.mapping?.phone
        ? `There is no column named "${options.mapping.phone}"`
        : `No phone column found: name one column phone_number (found: ${columns.join(", ") || "none"})`,
      "phone",
    );
  }
  // An empty mapping means "no first-name column", even when a column looks like one.
  const firstNameColumn =
    options.mapping?.firstName === "" ? undefined : findColumn(columns, options.mapping?.firstName, FIRST_NAME_COLUMNS);
  const tagColumn = findColumn(columns, undefined, TAG_COLUMNS);
  const importTags = options.tag ? parseTagCell(options.tag) : [];
  const ignored = new Set([phoneColumn, firstNameColumn, tagColumn, ...(options.mapping?.ignore ?? [])]);
  refuseReservedColumns(columns.filter((column) => !ignored.has(column)), rows, options.source ?? "csv");
  const byPhone = new Map<string, NormalisedContact>();
  const rejected: RejectedRow[] = [];
  let duplicatesMerged = 0;
  for (const row of rows) {
    const rawPhone = row.values[phoneColumn] ?? "";
    const normalised = normalisePhone(rawPhone, options.defaultCountry);
    if ("reason" in normalised) {
      rejected.push({ line: row.line, value: rawPhone, reason: normalised.reason });
      continue;
    }
    const firstName = firstNameColumn ? row.values[firstNameColumn]?.trim() || null : null;
    const attributes: Record<string, string> = {};
    for (const [column, value] of Object.entries(row.values)) {
      const key = attributeKey(column);
      if (!ignored.has(column) && key && value.trim()) attributes[key] = value.trim();
    }
    const tags = [...(tagColumn ? parseTagCell(row.values[tagColumn] ?? "") : []), ...importTags];
    const existing = byPhone.get(normalised.phone);
    if (existing) {
      // The later row fills in and updates, as a re-import of the same contact would.
      duplicatesMerged++;
      existing.firstName = firstName ?? existing.firstName;
      Object.assign(existing.attributes, attributes);
      existing.tags = [...new Set([...existing.tags, ...tags])].sort();
      existing.lines.push(row.line);
    } else {
      byPhone.set(normalised.phone, { phone: normalised.phone, firstName, attributes, tags: [...new Set(tags)].sort(), lines: [row.line] });
    }
  }
  return { contacts: [...byPhone.values()], rejected, duplicatesMerged, columns };
}

/** A column that would become a reserved attribute refuses the whole import, naming where it is. */
function refuseReservedColumns(columns: string[], rows: RawContactRow[], source: "csv" | "json"): void {
  const column = columns.find(isReservedAttributeName);
  if (column === undefined) return;
  const fix = "rename it, or leave it out with mapping.ignore";
  if (source === "csv") {
    throw badRequest(`Column ${JSON.stringify(column)} (line 1, the header) cannot be imported: it is a reserved name; ${fix}`, "csv");
  }
  const row = rows.find((candidate) => Object.hasOwn(candidate.values, column));
  const position = row?.line ?? 1;
  throw badRequest(
    `Contact ${position}: the key ${JSON.stringify(column)} cannot be imported: it is a reserved name; ${fix}`,
    `contacts.${position - 1}.${column}`,
  );
}

export interface ImportResult {
  received: number;
  added: number;
  updated: number;
  duplicatesMerged: number;
  rejected: RejectedRow[];
}

/**
 * Contacts upserted (a phone already there is merged: the new first name if any, attributes added,
 * tags added) and added to the list; whether each was inserted.
 */
async function upsertContacts(tx: Tx, workspaceId: string, listId: string, batch: NormalisedContact[]): Promise<Array<{ phone: string; inserted: boolean }>> {
  const upserted = await tx
    .insert(contacts)
    .values(batch.map((contact) => ({ workspaceId, phone: contact.phone, firstName: contact.firstName, attributes: contact.attributes, tags: contact.tags })))
    .onConflictDoUpdate({
      target: [contacts.workspaceId, contacts.phone],
      set: {
        firstName: sql`coalesce(excluded.first_name, ${contacts.firstName})`,
        attributes: sql`${contacts.attributes} || excluded.attributes`,
        // Imports only add tags: a re-import without a tags column keeps the ones given by hand.
        tags: sql`array(select distinct t from unnest(${contacts.tags} || excluded.tags) as t order by t)`,
        updatedAt: new Date(),
      },
    })
    // xmax = 0 only on a freshly inserted row: tells added from updated in the same statement.
    .returning({ id: contacts.id, phone: contacts.phone, inserted: sql<boolean>`(xmax = 0)` });
  await tx
    .insert(contactListMembers)
    .values(upserted.map((row) => ({ listId, contactId: row.id })))
    .onConflictDoNothing();
  return upserted;
}

/** Upserts the contacts and adds them to the list, in one transaction. */
export async function importContacts(
  db: Db,
  input: { workspaceId: string; listId: string; prepared: PreparedImport; received: number; quotas?: QuotaDefaults },
): Promise<ImportResult> {
  const { prepared } = input;
  let added = 0;
  let updated = 0;
  await db.transaction(async (tx) => {
    // Under the workspace's lock: over QUOTA_CONTACTS after the upserts, the whole import rolls back.
    const limits = await lockForContacts(tx, input.workspaceId, input.quotas ?? DEFAULT_QUOTAS);
    for (let start = 0; start < prepared.contacts.length; start += 1000) {
      for (const row of await upsertContacts(tx, input.workspaceId, input.listId, prepared.contacts.slice(start, start + 1000))) {
        if (row.inserted) added++;
        else updated++;
      }
    }
    await assertContactQuota(tx, input.workspaceId, limits);
  });
  return {
    received: input.received,
    added,
    updated,
    duplicatesMerged: prepared.duplicatesMerged,
    rejected: prepared.rejected,
  };
}

/** Rows parsed, normalised and written at a time by `importCsvStreaming`. */
const IMPORT_CHUNK = 1000;

/**
 * A CSV import in one transaction, the text parsed as a stream and written 1,000 rows at a time (issue
 * 15, big campaigns): memory is the text plus one chunk, where parsing it whole held every row three
 * times over (records, rows, contacts: about 120 MB of JavaScript heap for 50,000 rows). The outcome is
 * `importContacts(prepareImport(parseContactsCsv(text)))`'s: the same refusals, a phone seen twice merged
 * into one contact (by the upsert, which merges as `prepareImport` does), the counts, all or nothing.
 */
export async function importCsvStreaming(
  db: Db,
  input: {
    workspaceId: string;
    listId: string;
    csv: string;
    lineOffset?: number;
    options: { defaultCountry?: string; mapping?: ColumnMapping; tag?: string };
    quotas?: QuotaDefaults;
  },
): Promise<ImportResult> {
  const { text, delimiter } = checkCsvText(input.csv);
  const lineOffset = input.lineOffset ?? 0;
  const rejected: RejectedRow[] = [];
  const seenPhones = new Set<string>();
  let received = 0;
  let added = 0;
  let updated = 0;
  let duplicatesMerged = 0;
  await db.transaction(async (tx) => {
    const limits = await lockForContacts(tx, input.workspaceId, input.quotas ?? DEFAULT_QUOTAS);
    let columns: string[] | null = null;
    let chunk: RawContactRow[] = [];
    const write = async () => {
      if (chunk.length === 0 || columns === null) return;
      const prepared = prepareImport(columns, chunk, input.options);
      chunk = [];
      rejected.push(...prepared.rejected);
      duplicatesMerged += prepared.duplicatesMerged;
      if (prepared.contacts.length === 0) return;
      const upserted = await upsertContacts(tx, input.workspaceId, input.listId, prepared.contacts);
      for (const row of upserted) {
        // A phone of an earlier chunk was merged into the contact that chunk added or updated.
        if (seenPhones.has(row.phone)) duplicatesMerged++;
        else if (row.inserted) added++;
        else updated++;
      }
      for (const contact of prepared.contacts) seenPhones.add(contact.phone);
    };
    const parser = Readable.from([text]).pipe(
      parseStream({ delimiter, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }),
    );
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (columns === null) {
          columns = record.map((column) => column.trim());
          continue;
        }
        if (++received > MAX_IMPORT_ROWS) {
          throw badRequest(`The file has more than ${MAX_IMPORT_ROWS} rows; at most ${MAX_IMPORT_ROWS} can be imported at once`);
        }
        const values: Record<string, string> = {};
        columns.forEach((column, index) => {
          if (column) values[column] = record[index] ?? "";
        });
        chunk.push({ line: info.lines + lineOffset, values });
        if (chunk.length >= IMPORT_CHUNK) {
          await write();
          // Timers and other requests run between chunks (PGlite's queries settle as microtasks).
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } catch (error) {
      if (error instanceof Error && "code" in error && typeof error.code === "string" && error.code.startsWith("CSV_")) {
        throw badRequest(`The file is not valid CSV: ${error.message}`);
      }
      throw error;
    }
    // A header alone still names its phone column (or is refused for lacking one), as before.
    if (received === 0 && columns !== null) prepareImport(columns, [], input.options);
    await write();
    await assertContactQuota(tx, input.workspaceId, limits);
  });
  return { received, added, updated, duplicatesMerged, rejected };
}

/** The checks made on the whole text before parsing: size, a binary file, an empty header; and its delimiter. */
function checkCsvText(text: string): { text: string; delimiter: string } {
  if (Buffer.byteLength(text) > MAX_IMPORT_BYTES) {
    throw badRequest(`The file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB: split it into smaller files`);
  }
  const binary = binaryFileKind(text);
  if (binary) throw badRequest(binaryFileMessage(binary), "csv");
  const withoutBom = text.replace(/^\uFEFF/, "");
  const headerLine = withoutBom.split(/\r?\n/, 1)[0] ?? "";
  if (!headerLine.trim()) throw badRequest("The file is empty: the first line must name the columns, e.g. phone_number,first_name");
  const delimiter = [",", ";", "\t"].sort((a, b) => count(headerLine, b) - count(headerLine, a))[0]!;
  return { text: withoutBom, delimiter };
}
