/**
 * Contact tags (issue 15): short labels kept lower-cased and distinct on `contacts.tags`, added at
 * import, by hand and over REST, and used by a campaign's audience (runner/recipients.ts).
 */
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { contacts } from "../db/schema";
import { notFound } from "./errors";

export const MAX_TAG_LENGTH = 50;
export const MAX_TAGS_PER_CONTACT = 100;

/** "  VIP " → "vip": tags compare case-insensitively, so they are stored lower-cased and trimmed. */
export function normaliseTag(tag: string): string {
  return tag.trim().toLowerCase();
}

export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "A tag cannot be empty")
  .max(MAX_TAG_LENGTH, `A tag has at most ${MAX_TAG_LENGTH} characters`)
  .refine((tag) => !/[,;|]/.test(tag), { message: "A tag cannot hold , ; or | (they separate tags in a CSV's tags column)" })
  .meta({ description: "A tag, e.g. vip; stored lower-cased" });

export const tagListSchema = z.array(tagSchema).max(MAX_TAGS_PER_CONTACT, `At most ${MAX_TAGS_PER_CONTACT} tags`);

/** A CSV cell "vip; Jakarta | new" → ["vip", "jakarta", "new"]: `,`, `;` or `|` separate tags. */
export function parseTagCell(cell: string): string[] {
  return cell
    .split(/[,;|]/)
    .map(normaliseTag)
    .filter((tag) => tag.length > 0 && tag.length <= MAX_TAG_LENGTH);
}

export interface ContactTags {
  id: string;
  tags: string[];
}

/** Adds then removes tags on one contact of the workspace, in one statement; a contact of another workspace is 404. */
export async function editContactTags(
  db: Db,
  workspaceId: string,
  contactId: string,
  change: { add?: string[]; remove?: string[] },
): Promise<ContactTags> {
  const add = [...new Set((change.add ?? []).map(normaliseTag))];
  const remove = [...new Set((change.remove ?? []).map(normaliseTag))];
  const [row] = await db
    .update(contacts)
    .set({
      tags: sql`array(select distinct t from unnest(${contacts.tags} || ${sql.param(add)}::text[]) as t where not (t = any(${sql.param(remove)}::text[])) order by t)`,
      updatedAt: new Date(),
    })
    .where(and(eq(contacts.id, contactId), eq(contacts.workspaceId, workspaceId)))
    .returning({ id: contacts.id, tags: contacts.tags });
  if (!row) throw notFound("Contact");
  return row;
}
