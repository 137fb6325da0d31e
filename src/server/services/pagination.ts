/**
 * Keyset pagination over (created_at desc, id desc): stable while rows are added, and as fast on
 * page 500 as on page 1. The cursor is opaque to callers.
 */
import { type AnyColumn, type SQL, and, desc, eq, lt, or } from "drizzle-orm";
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

function decodeCursor(cursor: string): CursorValue {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString()) as CursorValue;
    if (typeof value.createdAt !== "string" || typeof value.id !== "string") throw new Error("shape");
    return value;
  } catch {
    throw badRequest("The cursor is not one this API returned: start again without it", "cursor");
  }
}

/** The WHERE part that continues after `cursor`, for columns sorted by (createdAt desc, id desc). */
export function afterCursor(cursor: string | undefined, createdAt: AnyColumn, id: AnyColumn): SQL | undefined {
  if (!cursor) return undefined;
  const value = decodeCursor(cursor);
  const at = new Date(value.createdAt);
  return or(lt(createdAt, at), and(eq(createdAt, at), lt(id, value.id)));
}

export const newestFirst = (createdAt: AnyColumn, id: AnyColumn) => [desc(createdAt), desc(id)];

/** Callers fetch limit + 1 rows; this trims and says whether there is more. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
