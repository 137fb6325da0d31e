/** Named lists of contacts, their members, and adding contacts to them. */
import { and, asc, eq, gt, ilike, inArray, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { campaigns, contactListMembers, contactLists, contacts } from "../db/schema";
import { ACTIVE_STATUSES } from "./campaignStatuses";
import { badRequest, conflict, isUniqueViolation, notFound } from "./errors";
import {
  type ColumnMapping,
  countrySchema,
  type ImportResult,
  importContacts,
  importCsvStreaming,
  prepareImport,
  isReservedAttributeName,
  type RawContactRow,
} from "./contactImport";
import { tagSchema } from "./contactTags";
import { afterCursor, newestFirst, type PageInput, toPage } from "./pagination";
import type { QuotaDefaults } from "./quotas";

export const listNameSchema = z.string().trim().min(1, "Give the list a name").max(100, "Keep the name under 100 characters");

export async function createList(db: Db, workspaceId: string, name: string) {
  try {
    const [list] = await db.insert(contactLists).values({ workspaceId, name }).returning();
    return { ...list!, memberCount: 0 };
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A list named "${name}" already exists`, "name");
    throw error;
  }
}

/** A list as callers see it, with its member count. */
const listColumns = {
  id: contactLists.id,
  name: contactLists.name,
  createdAt: contactLists.createdAt,
  memberCount: sql<number>`(select count(*)::int from ${contactListMembers} where ${contactListMembers.listId} = ${contactLists.id})`,
};

export async function getList(db: Db, workspaceId: string, listId: string) {
  const [list] = await db
    .select(listColumns)
    .from(contactLists)
    .where(and(eq(contactLists.id, listId), eq(contactLists.workspaceId, workspaceId)));
  if (!list) throw notFound("List");
  return list;
}

export async function listLists(db: Db, workspaceId: string, page: PageInput) {
  const rows = await db
    .select(listColumns)
    .from(contactLists)
    .where(and(eq(contactLists.workspaceId, workspaceId), afterCursor(page.cursor, contactLists.createdAt, contactLists.id)))
    .orderBy(...newestFirst(contactLists.createdAt, contactLists.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

export async function renameList(db: Db, workspaceId: string, listId: string, name: string) {
  try {
    const [list] = await db
      .update(contactLists)
      .set({ name })
      .where(and(eq(contactLists.id, listId), eq(contactLists.workspaceId, workspaceId)))
      .returning();
    if (!list) throw notFound("List");
    return getList(db, workspaceId, listId);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A list named "${name}" already exists`, "name");
    throw error;
  }
}

export async function deleteList(db: Db, workspaceId: string, listId: string): Promise<void> {
  await getList(db, workspaceId, listId);
  const [inUse] = await db
    .select({ name: campaigns.name, status: campaigns.status })
    .from(campaigns)
    .where(and(eq(campaigns.listId, listId), inArray(campaigns.status, ACTIVE_STATUSES)))
    .limit(1);
  if (inUse) {
    throw conflict(
      `Campaign "${inUse.name}" (${inUse.status}) still uses this list: cancel or finish it before deleting the list`,
    );
  }
  await db.delete(contactLists).where(and(eq(contactLists.id, listId), eq(contactLists.workspaceId, workspaceId)));
}

/** The members cursor: the last row's position (contact_list_members.position), opaque to callers. */
function encodeMemberCursor(position: number): string {
  return Buffer.from(JSON.stringify({ position })).toString("base64url");
}

function decodeMemberCursor(cursor: string): number {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString());
  } catch {
    value = null;
  }
  const position = (value as { position?: unknown } | null)?.position;
  if (typeof position !== "number" || !Number.isSafeInteger(position) || position < 0) {
    throw badRequest("The cursor is not one this API returned: start again without it", "cursor");
  }
  return position;
}

/** A list's members in import order (first added first), with how many match in all. */
export async function listMembers(db: Db, workspaceId: string, listId: string, input: PageInput & { search?: string }) {
  await getList(db, workspaceId, listId);
  const search = input.search?.trim();
  const matching = and(
    eq(contactListMembers.listId, listId),
    eq(contacts.workspaceId, workspaceId),
    search ? or(ilike(contacts.phone, `%${escapeLike(search)}%`), ilike(contacts.firstName, `%${escapeLike(search)}%`)) : undefined,
  );
  const after = input.cursor ? gt(contactListMembers.position, decodeMemberCursor(input.cursor)) : undefined;
  const [counted] = await db
    .select({ total: sql<number>`count(*)::int` })
    .from(contactListMembers)
    .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
    .where(matching);
  const rows = await db
    .select({
      id: contacts.id,
      phone: contacts.phone,
      firstName: contacts.firstName,
      attributes: sql<Record<string, string>>`${contacts.attributes}`.mapWith((value: unknown) => readableAttributes(value)),
      optedOut: contacts.optedOut,
      tags: contacts.tags,
      createdAt: contacts.createdAt,
      position: contactListMembers.position,
    })
    .from(contactListMembers)
    .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
    .where(and(matching, after))
    .orderBy(asc(contactListMembers.position))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(({ position: _position, ...contact }) => contact);
  const last = rows.length > input.limit ? rows[input.limit - 1] : undefined;
  return { items, nextCursor: last ? encodeMemberCursor(last.position) : null, total: counted?.total ?? 0 };
}

/**
 * Attributes as callers read them. Rows imported before reserved names were refused may hold a key
 * like `constructor`, which the dashboard's transport (superjson) refuses to carry: such keys are
 * left out on read, so the list stays readable.
 */
function readableAttributes(value: unknown): Record<string, string> {
  const stored = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return {};
  return Object.fromEntries(
    Object.entries(stored as Record<string, unknown>).filter(([key, item]) => !isReservedAttributeName(key) && typeof item === "string"),
  ) as Record<string, string>;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

export async function removeMembers(db: Db, workspaceId: string, listId: string, contactIds: string[]) {
  await getList(db, workspaceId, listId);
  if (contactIds.length === 0) return { removed: 0 };
  const removed = await db
    .delete(contactListMembers)
    .where(and(eq(contactListMembers.listId, listId), inArray(contactListMembers.contactId, contactIds)))
    .returning({ contactId: contactListMembers.contactId });
  return { removed: removed.length };
}

export const importOptionsSchema = z.object({
  defaultCountry: countrySchema.optional(),
  tag: tagSchema.optional().meta({ description: "A tag every imported contact gets (issue 15), besides those in a `tags` column" }),
  // Strict: a misspelt "ignores" would otherwise import the columns it meant to leave out.
  mapping: z
    .strictObject(
      { phone: z.string().max(200).optional(), firstName: z.string().max(200).optional(), ignore: z.array(z.string().max(200)).max(1000).optional() },
      { error: (issue) => (issue.code === "unrecognized_keys" ? `Unknown mapping field ${JSON.stringify(issue.keys[0])}: mapping takes phone, firstName, ignore` : undefined) },
    )
    .optional(),
});
/** `quotas`: QUOTA_* from the env (AppServices.quotas); DEFAULT_QUOTAS when not given. */
export type ImportOptions = { defaultCountry?: string; mapping?: ColumnMapping; quotas?: QuotaDefaults; tag?: string };

/** `lineOffset`: the part's place in a larger file sent in parts (the import page), added to every line reported. */
export async function importCsvIntoList(
  db: Db,
  workspaceId: string,
  listId: string,
  csvText: string,
  options: ImportOptions & { lineOffset?: number },
): Promise<ImportResult> {
  await getList(db, workspaceId, listId);
  // Parsed as a stream and written 1,000 rows at a time (issue 15): a 50,000-row file no longer sits in memory three times over.
  const { quotas, lineOffset, ...parsing } = options;
  return importCsvStreaming(db, { workspaceId, listId, csv: csvText, lineOffset, options: parsing, quotas });
}

/** JSON rows `{phone, first_name?, ...}`; line numbers are the array positions, from 1. */
export async function addContactsToList(
  db: Db,
  workspaceId: string,
  listId: string,
  items: Array<Record<string, unknown>>,
  options: ImportOptions,
): Promise<ImportResult> {
  await getList(db, workspaceId, listId);
  // A list or an object cannot be an attribute: refused, naming it, rather than left out unsaid.
  items.forEach((item, index) => {
    for (const [key, value] of Object.entries(item)) {
      if (typeof value !== "object" || value === null) continue;
      throw badRequest(
        `Contact ${index + 1}: ${JSON.stringify(key)} holds ${Array.isArray(value) ? "a list" : "an object"}; a contact's values are text, numbers or true/false`,
        `contacts.${index}.${key}`,
      );
    }
  });
  const columns = [...new Set(items.flatMap((item) => Object.keys(item)))];
  const rows: RawContactRow[] = items.map((item, index) => ({
    line: index + 1,
    values: Object.fromEntries(
      Object.entries(item)
        .filter(([, value]) => value !== null && value !== undefined)
        .map(([key, value]) => [key, String(value)]),
    ),
  }));
  const prepared = prepareImport(columns, rows, { ...options, source: "json" });
  return importContacts(db, { workspaceId, listId, prepared, received: rows.length, quotas: options.quotas });
}
