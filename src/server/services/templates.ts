/** Message templates with {{placeholders}}; placeholders are checked when saved, not mid-campaign. */
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, queryRows } from "../db/client";
import { campaigns, contacts, templates } from "../db/schema";
import { TEMPLATE_STILL_NEEDED_STATUSES } from "./campaignStatuses";
import { conflict, isUniqueViolation, notFound, unprocessable } from "./errors";
import { afterCursor, newestFirst, type PageInput, toPage } from "./pagination";
import { findUnknownPlaceholders, renderTemplate } from "./personalization";

export const MAX_MESSAGE_LENGTH = 4096;

export const templateInput = z.object({
  name: z.string().trim().min(1, "Give the template a name").max(100, "Keep the name under 100 characters"),
  body: z
    .string()
    .min(1, "Write the message text")
    .max(MAX_MESSAGE_LENGTH, `WhatsApp messages are limited to ${MAX_MESSAGE_LENGTH} characters`),
});
export type TemplateInput = z.infer<typeof templateInput>;

/** Attribute names present on this workspace's contacts: every one of them is a valid placeholder. */
export async function knownAttributes(db: Db, workspaceId: string): Promise<string[]> {
  const rows = await queryRows<{ key: string }>(
    db,
    sql`select distinct jsonb_object_keys(${contacts.attributes}) as key from ${contacts} where ${contacts.workspaceId} = ${workspaceId}`,
  );
  return rows.map((row) => row.key).sort();
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

export async function createTemplate(db: Db, workspaceId: string, input: TemplateInput) {
  await assertPlaceholdersKnown(db, workspaceId, input.body);
  try {
    const [template] = await db.insert(templates).values({ workspaceId, ...input }).returning();
    return template!;
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`A template named "${input.name}" already exists`, "name");
    throw error;
  }
}

export async function updateTemplate(db: Db, workspaceId: string, templateId: string, input: Partial<TemplateInput>) {
  if (input.body !== undefined) await assertPlaceholdersKnown(db, workspaceId, input.body);
  try {
    const [template] = await db
      .update(templates)
      .set(input)
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

/** Renders a body for one of the workspace's contacts (or a sample contact when none is given). */
export async function previewTemplate(
  db: Db,
  workspaceId: string,
  input: { body: string; contactId?: string; defaultName?: string | null },
) {
  let contact: { phone: string; firstName: string | null; attributes: Record<string, string> } = {
    phone: "+12015550100",
    firstName: "Ava",
    attributes: {},
  };
  if (input.contactId) {
    const [row] = await db
      .select()
      .from(contacts)
      .where(and(eq(contacts.id, input.contactId), eq(contacts.workspaceId, workspaceId)));
    if (!row) throw notFound("Contact");
    contact = row;
  }
  return {
    text: renderTemplate(input.body, contact, { defaultName: input.defaultName ?? null }),
    unknownPlaceholders: findUnknownPlaceholders(input.body, await knownAttributes(db, workspaceId)),
  };
}
