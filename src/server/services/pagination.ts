/**
 * Keyset pagination over (created_at desc, id desc): stable while rows are added, and as fast on
 * page 500 as on page 1. The cursor is opaque to callers.
 */
import { type AnyColumn, type SQL, desc, sql } from "drizzle-orm";
import { z } from "zod";
import { badRequest } from "./errors";

export const pageInput = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type PageInput = z.infer<typeof pageInput>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface CursorValue {
  createdAt: string;
  id: string;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ createdAt: row.createdAt.toISOString(), id: row.id })).toString("base64url");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every part is checked before it reaches SQL: a cursor is client input, and a date or id the
 * database cannot read would otherwise fail there (a 500) instead of here (a 400).
 */
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const refuse = () => badRequest("The cursor is not one this API returned: start again without it", "cursor");
  let value: Partial<CursorValue> | null;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString()) as Partial<CursorValue> | null;
  } catch {
    throw refuse();
  }
  if (typeof value !== "object" || value === null) throw refuse();
  const { createdAt, id } = value;
  if (typeof createdAt !== "string" || typeof id !== "string" || !UUID.test(id)) throw refuse();
  const at = new Date(createdAt);
  // Only the ISO form encodeCursor writes; Date would accept "1" or "2020" too.
  if (Number.isNaN(at.getTime()) || at.toISOString() !== createdAt) throw refuse();
  return { createdAt: at, id };
}

/**
 * The WHERE part that continues after `cursor`, for rows sorted by `newestFirst`. PostgreSQL keeps
 * microseconds, a JS Date (and so the cursor) milliseconds: compared with the cursor's own date, the
 * rows of the page's last millisecond (a whole import shares one timestamp) would all be skipped. So
 * the comparison takes the last row's own `created_at` (by its id, the primary key; the cursor's date
 * only if that row was deleted meanwhile), and the sort stays the index's (created_at, id).
 */
export function afterCursor(cursor: string | undefined, createdAt: AnyColumn, id: AnyColumn): SQL | undefined {
  if (!cursor) return undefined;
  const { createdAt: at, id: lastId } = decodeCursor(cursor);
  const lastCreatedAt = sql`coalesce((select ${createdAt} from ${createdAt.table} where ${id} = ${lastId}), ${at.toISOString()}::timestamptz)`;
  return sql`(${createdAt}, ${id}) < (${lastCreatedAt}, ${lastId})`;
}

export const newestFirst = (createdAt: AnyColumn, id: AnyColumn) => [desc(createdAt), desc(id)];

/** Callers fetch limit + 1 rows; this trims and says whether there is more. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
