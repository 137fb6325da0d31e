/**
 * A campaign's audience (issue 15): its `listId` plus `audience.listIds`, and contacts with any of
 * `audience.tags`, minus contacts with any of `audience.excludeTags`. Resolved once, when the run
 * materialises its recipients (runner/recipients.ts).
 */
import { and, arrayOverlaps, eq, exists, inArray, not, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { type CampaignAudience, contactListMembers, contacts } from "../db/schema";
import { tagListSchema } from "./contactTags";

export const campaignAudienceSchema = z
  .strictObject(
    {
      listIds: z.array(z.uuid({ error: "audience.listIds holds list ids" })).max(50, "At most 50 lists").optional(),
      tags: tagListSchema.optional().meta({ description: "Contacts with any of these tags" }),
      excludeTags: tagListSchema.optional().meta({ description: "Contacts with any of these tags are left out" }),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys" ? `Unknown audience field ${JSON.stringify(issue.keys[0])}: audience takes listIds, tags, excludeTags` : undefined,
    },
  )
  .meta({ description: "Lists and/or tags the campaign reaches besides listId, minus contacts with an excluded tag" });

/** Empty arrays dropped and duplicates merged; null when nothing is left. */
export function normaliseAudience(audience: CampaignAudience | null | undefined): CampaignAudience | null {
  if (!audience) return null;
  const distinct = (values: string[] | undefined) => (values && values.length > 0 ? [...new Set(values)] : undefined);
  const listIds = distinct(audience.listIds);
  const tags = distinct(audience.tags);
  const excludeTags = distinct(audience.excludeTags);
  if (!listIds && !tags && !excludeTags) return null;
  return { ...(listIds ? { listIds } : {}), ...(tags ? { tags } : {}), ...(excludeTags ? { excludeTags } : {}) };
}

/** Every list the campaign reaches: its `listId` first, then the audience's. */
export function audienceListIds(listId: string | null, audience: CampaignAudience | null): string[] {
  return [...new Set([...(listId ? [listId] : []), ...(audience?.listIds ?? [])])];
}

/** Whether the campaign reaches anyone: a list or a tag (excluded tags alone reach no one). */
export function reachesSomeone(listId: string | null | undefined, audience: CampaignAudience | null | undefined): boolean {
  return Boolean(listId) || Boolean(audience?.listIds?.length) || Boolean(audience?.tags?.length);
}

/**
 * The condition on `contacts` that picks the audience: the workspace's contacts who have not opted
 * out, in one of the lists or with one of the tags, and with none of the excluded tags. A contact in
 * two lists, or in a list and with a tag, is still one row.
 */
export function audienceContacts(db: Db, workspaceId: string, listId: string | null, audience: CampaignAudience): SQL {
  const listIds = audienceListIds(listId, audience);
  const reached: SQL[] = [];
  if (listIds.length > 0) {
    reached.push(
      exists(
        db
          .select({ one: sql`1` })
          .from(contactListMembers)
          .where(and(eq(contactListMembers.contactId, contacts.id), inArray(contactListMembers.listId, listIds))),
      ),
    );
  }
  if (audience.tags?.length) reached.push(arrayOverlaps(contacts.tags, audience.tags));
  return and(
    eq(contacts.workspaceId, workspaceId),
    eq(contacts.optedOut, false),
    reached.length > 0 ? or(...reached) : sql`false`,
    audience.excludeTags?.length ? not(arrayOverlaps(contacts.tags, audience.excludeTags)) : undefined,
  )!;
}
