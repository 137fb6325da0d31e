/** Message templates with {{placeholders}}; placeholders are checked when saved, not mid-campaign. */
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, queryRows } from "../db/client";
import { campaigns, contactListMembers, contacts, mediaItems, templates } from "../db/schema";
import { TEMPLATE_STILL_NEEDED_STATUSES } from "./campaignStatuses";
import { isReservedAttributeName } from "./contactImport";
import { badRequest, conflict, isUniqueViolation, notFound, unprocessable } from "./errors";
import { afterCursor, newestFirst, type PageInput, toPage } from "./pagination";
import { CompiledMessage, extractPlaceholders, findMessageTextProblem, findUnknownPlaceholders } from "./personalization";

export const MAX_MESSAGE_LENGTH = 4096;

export const templateInput = z.object({
  name: z.string().trim().min(1, "Give the template a name").max(100, "Keep the name under 100 characters"),
  body: z
    .string()
    .min(1, "Write the message text")
    .max(MAX_MESSAGE_LENGTH, `WhatsApp messages are limited to ${MAX_MESSAGE_LENGTH} characters`),
  /** The template's image (issue 16): sent with the text unless a campaign gives its own `mediaId`. */
  mediaId: z.uuid({ error: "Not a media id: upload the image with POST /api/v1/media and use its id" }).nullish(),
});
export type TemplateInput = z.infer<typeof templateInput>;

/** Attribute names present on this workspace's contacts: every one of them is a valid placeholder. */
export async function knownAttributes(db: Db, workspaceId: string): Promise<string[]> {
  const rows = await queryRows<{ key: string }>(
    db,
    sql`select distinct jsonb_object_keys(${contacts.attributes}) as key from ${contacts} where ${contacts.workspaceId} = ${workspaceId}`,
  );
  // A reserved name stored before imports refused them is no placeholder (contactImport.ts).
  return rows.map((row) => row.key).filter((key) => !isReservedAttributeName(key)).sort();
}

/**
 * The rules every message text (a template's body, a campaign's own text) meets before it is saved:
 * well-formed (not blank, placeholders and spintax closed; 400 naming the position), and only
 * placeholders a contact can fill (422).
 */
export async function assertMessageText(db: Db, workspaceId: string, body: string, field = "body") {
  const problem = findMessageTextProblem(body);
  if (problem) throw badRequest(problem.message, field);
  await assertPlaceholdersKnown(db, workspaceId, body, field);
}

export async function assertPlaceholdersKnown(db: Db, workspaceId: string, body: string, field = "body") {
  const unknown = findUnknownPlaceholders(body, await knownAttributes(db, workspaceId));
  if (unknown.length > 0) {
    throw unprocessable(
      `Unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.map((name) => `{{${name}}}`).join(", ")}: ` +
        "use first_name, phone or a column of your imported contacts, or give a fallback like {{city|your city}}",
      field,
    );
  }
}

/** A template's image must be one of the workspace's own. */
async function assertMediaExists(db: Db, workspaceId: string, mediaId: string | null | undefined) {
  if (!mediaId) return;
  const [media] = await db
    .select({ id: mediaItems.id })
    .from(mediaItems)
    .where(and(eq(mediaItems.id, mediaId), eq(mediaItems.workspaceId, workspaceId)));
  if (!media) throw unprocessable("That image does not exist: upload it first (Media, or POST /api/v1/media)", "mediaId");
}

export async function createTemplate(db: Db, workspaceId: string, input: TemplateInput) {
  await assertMessageText(db, workspaceId, input.body);
  await assertMediaExists(db, workspaceId, input.mediaId);
  try {
    const [template] = await db.insert(templates).values({ workspaceId, ...input }).returning();
    return template!;
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A template named "${input.name}" already exists`, "name");
    throw error;
  }
}

export async function updateTemplate(db: Db, workspaceId: string, templateId: string, input: Partial<TemplateInput>) {
  if (input.body !== undefined) await assertMessageText(db, workspaceId, input.body);
  await assertMediaExists(db, workspaceId, input.mediaId);
  try {
    const [template] = await db
      .update(templates)
      // updatedAt too: the change is dated, and a call with no field still has something to set.
      .set({ ...input, updatedAt: sql`now()` })
      .where(and(eq(templates.id, templateId), eq(templates.workspaceId, workspaceId)))
      .returning();
    if (!template) throw notFound("Template");
    return template;
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A template named "${input.name}" already exists`, "name");
    throw error;
  }
}

export async function getTemplate(db: Db, workspaceId: string, templateId: string) {
  const [template] = await db
    .select()
    .from(templates)
    .where(and(eq(templates.id, templateId), eq(templates.workspaceId, workspaceId)));
  if (!template) throw notFound("Template");
  return template;
}

export async function listTemplates(db: Db, workspaceId: string, page: PageInput) {
  const rows = await db
    .select()
    .from(templates)
    .where(and(eq(templates.workspaceId, workspaceId), afterCursor(page.cursor, templates.createdAt, templates.id)))
    .orderBy(...newestFirst(templates.createdAt, templates.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

export async function deleteTemplate(db: Db, workspaceId: string, templateId: string) {
  await getTemplate(db, workspaceId, templateId);
  const [inUse] = await db
    .select({ name: campaigns.name })
    .from(campaigns)
    .where(and(eq(campaigns.templateId, templateId), inArray(campaigns.status, TEMPLATE_STILL_NEEDED_STATUSES)))
    .limit(1);
  if (inUse) throw conflict(`Campaign "${inUse.name}" will still send this template: change or cancel it first`);
  await db.delete(templates).where(and(eq(templates.id, templateId), eq(templates.workspaceId, workspaceId)));
}

/** Sample variants a preview shows, and the members of a list it renders to count distinct texts. */
const PREVIEW_SAMPLES = 5;
const PREVIEW_LIST_LIMIT = 20_000;
const VARIANT_COUNT_CAP = 1_000_000;

/**
 * Renders a body for one of the workspace's contacts, as the campaign will: its spintax variant for
 * that contact, then its placeholders. Without a chosen contact, the sample is the contact (of the
 * list, else of the workspace) that has the most of the columns the text uses, so the preview reads
 * as a real message (issue 16); `sample.missing` names the placeholders it still leaves empty. Also
 * what the editor shows beside it: a problem that would refuse the text on save (with its position),
 * a few variants, and how many distinct texts the spintax makes, or, for a chosen list, how many its
 * members will get.
 */
export async function previewTemplate(db: Db, workspaceId: string, input: { body: string; contactId?: string; listId?: string }) {
  const attributes = await knownAttributes(db, workspaceId);
  let contact: SampleContact = { id: null, phone: "+12015550100", firstName: "Ava", attributes: {} };
  if (input.contactId) {
    const [row] = await db
      .select()
      .from(contacts)
      .where(and(eq(contacts.id, input.contactId), eq(contacts.workspaceId, workspaceId)));
    if (!row) throw notFound("Contact");
    contact = row;
  } else {
    contact = (await bestSampleContact(db, workspaceId, input.body, attributes, input.listId)) ?? contact;
  }
  const message = new CompiledMessage(input.body);
  const problem = findMessageTextProblem(input.body);
  const variantCount = message.variantCount(VARIANT_COUNT_CAP + 1);
  const list = input.listId ? await distinctTextsForList(db, workspaceId, input.listId, message) : null;
  return {
    text: message.render(contact, { recipientKey: contact.id ?? contact.phone }),
    /** Whom the text was rendered for, and the placeholders (without a fallback) it has no value for. */
    sample: { id: contact.id, phone: contact.phone, firstName: contact.firstName, missing: missingValues(input.body, contact) },
    unknownPlaceholders: findUnknownPlaceholders(input.body, attributes),
    /** Why saving would refuse this text (position 1-based), or null. */
    problem,
    spintax: message.hasSpintax(),
    /** Different texts the spintax alone can make (before placeholders), capped. */
    variantCount: Math.min(variantCount, VARIANT_COUNT_CAP),
    variantCountCapped: variantCount > VARIANT_COUNT_CAP,
    /** A few of those variants, for the previewed contact. */
    samples: message.hasSpintax() ? message.samples(contact, PREVIEW_SAMPLES) : [],
    /** For a chosen list: how many distinct texts its members will get (exact up to PREVIEW_LIST_LIMIT members). */
    list,
  };
}

type SampleContact = { id: string | null; phone: string; firstName: string | null; attributes: Record<string, string> };

const NAME_PLACEHOLDERS = new Set(["first_name", "firstname", "name"]);

/**
 * The contact that fills the most of the text's placeholders (first name and imported columns), the
 * earliest imported among equals; null when the workspace (or list) has no contact.
 */
async function bestSampleContact(db: Db, workspaceId: string, body: string, attributes: string[], listId?: string): Promise<SampleContact | null> {
  const used = new Set(extractPlaceholders(body).map((placeholder) => placeholder.name.toLowerCase()));
  // Attribute keys as stored (a placeholder matches them whatever the case).
  const keys = attributes.filter((key) => used.has(key.toLowerCase()));
  const filled = [
    ...(used.has("first_name") || used.has("firstname") || used.has("name") ? [sql`(coalesce(trim(${contacts.firstName}), '') <> '')::int`] : []),
    ...keys.map((key) => sql`(coalesce(trim(${contacts.attributes} ->> ${key}), '') <> '')::int`),
  ];
  // Without placeholders to fill, the earliest imported contact (a constant would read as a column number).
  const byScore = filled.length > 0 ? [desc(sql`(${sql.join(filled, sql` + `)})`)] : [];
  const query = db
    .select({ id: contacts.id, phone: contacts.phone, firstName: contacts.firstName, attributes: contacts.attributes })
    .from(contacts);
  const [row] = await (listId
    ? query.innerJoin(contactListMembers, and(eq(contactListMembers.contactId, contacts.id), eq(contactListMembers.listId, listId)))
    : query
  )
    .where(eq(contacts.workspaceId, workspaceId))
    .orderBy(...byScore, asc(contacts.createdAt), asc(contacts.id))
    .limit(1);
  return row ? { ...row, attributes: row.attributes ?? {} } : null;
}

/** Placeholders without a fallback that this contact has no value for (each once, as written). */
function missingValues(body: string, contact: SampleContact): string[] {
  const missing: string[] = [];
  for (const placeholder of extractPlaceholders(body)) {
    if (placeholder.fallback !== null || missing.includes(placeholder.name)) continue;
    const key = placeholder.name.toLowerCase();
    if (key === "phone") continue;
    const value = NAME_PLACEHOLDERS.has(key)
      ? contact.firstName
      : Object.entries(contact.attributes).find(([name]) => name.toLowerCase() === key)?.[1];
    if (!value?.trim()) missing.push(placeholder.name);
  }
  return missing;
}

/** Renders the text for each member (as materialisation does) and counts the distinct results. */
async function distinctTextsForList(db: Db, workspaceId: string, listId: string, message: CompiledMessage) {
  const members = await db
    .select({ contactId: contacts.id, phone: contacts.phone, firstName: contacts.firstName, attributes: contacts.attributes })
    .from(contactListMembers)
    .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
    .where(and(eq(contactListMembers.listId, listId), eq(contacts.workspaceId, workspaceId), eq(contacts.optedOut, false)))
    .limit(PREVIEW_LIST_LIMIT + 1);
  const texts = new Set<string>();
  for (const member of members.slice(0, PREVIEW_LIST_LIMIT)) {
    texts.add(message.render({ phone: member.phone, firstName: member.firstName, attributes: member.attributes ?? {} }, { recipientKey: member.contactId }));
  }
  return { recipients: Math.min(members.length, PREVIEW_LIST_LIMIT), distinctTexts: texts.size, partial: members.length > PREVIEW_LIST_LIMIT };
}
