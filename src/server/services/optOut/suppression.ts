/**
 * The suppression list (issue 14): a workspace's opted-out contacts, exported as CSV and imported
 * from a CSV (or a plain list) of phones. An import only ever opts out: a phone that is no contact
 * yet becomes one, opted out (counted in the contact quota), and nobody is opted back in.
 */
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "~/server/db/client";
import { contacts, webhookEndpoints, workspaces } from "~/server/db/schema";
import { badRequest } from "../errors";
import { normalisePhone, parseContactsCsv } from "../contactImport";
import { emitWebhookEvent } from "../outgoingWebhooks/emit";
import { type QuotaDefaults, DEFAULT_QUOTAS, assertContactQuota, lockForContacts } from "../quotas";
import { DEFAULT_OPT_OUT_KEYWORDS, MAX_OPT_OUT_KEYWORDS, MAX_OPT_OUT_KEYWORD_LENGTH, normaliseForOptOut } from "./keywords";

export const MAX_SUPPRESSION_ROWS = 100_000;
const SUPPRESSION_PHONE_COLUMNS = ["phone_number", "phone", "number", "mobile", "whatsapp"];

export interface SuppressedContact {
  id: string;
  phone: string;
  firstName: string | null;
  optedOutAt: Date | null;
  optedOutSource: string | null;
}

export async function listSuppressed(db: Db, workspaceId: string, limit = 200): Promise<{ total: number; contacts: SuppressedContact[] }> {
  const where = and(eq(contacts.workspaceId, workspaceId), eq(contacts.optedOut, true));
  const [count] = await db.select({ total: sql<number>`count(*)::int` }).from(contacts).where(where);
  const rows = await db
    .select({ id: contacts.id, phone: contacts.phone, firstName: contacts.firstName, optedOutAt: contacts.optedOutAt, optedOutSource: contacts.optedOutSource })
    .from(contacts)
    .where(where)
    .orderBy(desc(contacts.optedOutAt), contacts.phone)
    .limit(limit);
  return { total: Number(count?.total ?? 0), contacts: rows };
}

/** `phone,opted_out_at,source`, one line per opted-out contact; a phone starts with +, never a formula. */
export async function exportSuppressionCsv(db: Db, workspaceId: string): Promise<string> {
  const rows = await db
    .select({ phone: contacts.phone, optedOutAt: contacts.optedOutAt, optedOutSource: contacts.optedOutSource })
    .from(contacts)
    .where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.optedOut, true)))
    .orderBy(contacts.phone);
  const lines = rows.map((row) => `${row.phone},${row.optedOutAt?.toISOString() ?? ""},${row.optedOutSource ?? ""}`);
  return ["phone,opted_out_at,source", ...lines].join("\n") + "\n";
}

export interface SuppressionImportResult {
  received: number;
  /** Contacts opted out by this import (new ones included). */
  optedOut: number;
  /** Already opted out: left as they were. */
  alreadyOptedOut: number;
  /** Phones that were no contact yet: created, opted out. */
  created: number;
  rejected: { line: number; value: string; reason: string }[];
}

/** A CSV with a phone column (phone_number, phone, ...), or one phone per line. */
export function parseSuppressionPhones(csv: string, defaultCountry?: string): { phones: string[]; received: number; rejected: SuppressionImportResult["rejected"] } {
  const firstLine = csv.split(/\r?\n/, 1)[0] ?? "";
  const hasHeader = /[a-z]/i.test(firstLine);
  let values: { line: number; value: string }[];
  if (hasHeader) {
    const { columns, rows } = parseContactsCsv(csv);
    const column = columns.find((candidate) => SUPPRESSION_PHONE_COLUMNS.includes(candidate.trim().toLowerCase()));
    if (!column) throw badRequest(`No phone column found: name one column phone (found: ${columns.join(", ") || "none"}), or send one phone per line without a header`, "csv");
    values = rows.map((row) => ({ line: row.line, value: row.values[column] ?? "" }));
  } else {
    values = csv.split(/\r?\n/).map((value, index) => ({ line: index + 1, value })).filter((row) => row.value.trim() !== "");
  }
  if (values.length > MAX_SUPPRESSION_ROWS) throw badRequest(`At most ${MAX_SUPPRESSION_ROWS} phones at once; split the file`, "csv");
  const phones = new Set<string>();
  const rejected: SuppressionImportResult["rejected"] = [];
  for (const { line, value } of values) {
    const normalised = normalisePhone(value, defaultCountry);
    if ("reason" in normalised) rejected.push({ line, value, reason: normalised.reason });
    else phones.add(normalised.phone);
  }
  return { phones: [...phones], received: values.length, rejected };
}

export async function importSuppression(
  db: Db,
  workspaceId: string,
  csv: string,
  options: { defaultCountry?: string; quotas?: QuotaDefaults } = {},
): Promise<SuppressionImportResult> {
  const { phones, received, rejected } = parseSuppressionPhones(csv, options.defaultCountry);
  let optedOut = 0;
  let created = 0;
  await db.transaction(async (tx) => {
    const limits = await lockForContacts(tx, workspaceId, options.quotas ?? DEFAULT_QUOTAS);
    const now = new Date();
    // One event per contact only when an endpoint wants them: a 100,000-line list costs no statement more otherwise.
    const [wanted] = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.workspaceId, workspaceId), isNull(webhookEndpoints.disabledAt), sql`'contact.opted_out' = any(${webhookEndpoints.events})`))
      .limit(1);
    for (let start = 0; start < phones.length; start += 1000) {
      const batch = phones.slice(start, start + 1000);
      // New phones become opted-out contacts; existing ones are opted out unless they already are.
      const inserted = await tx
        .insert(contacts)
        .values(batch.map((phone) => ({ workspaceId, phone, optedOut: true, optedOutAt: now, optedOutSource: "suppression_import" })))
        .onConflictDoNothing({ target: [contacts.workspaceId, contacts.phone] })
        .returning({ id: contacts.id, phone: contacts.phone });
      const updated = await tx
        .update(contacts)
        .set({ optedOut: true, optedOutAt: now, optedOutSource: "suppression_import", updatedAt: now })
        .where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.optedOut, false), inArray(contacts.phone, batch)))
        .returning({ id: contacts.id, phone: contacts.phone });
      created += inserted.length;
      optedOut += inserted.length + updated.length;
      for (const row of wanted ? [...inserted, ...updated] : []) {
        await emitWebhookEvent(tx, {
          type: "contact.opted_out",
          workspaceId,
          data: { contactId: row.id, phone: row.phone, source: "suppression_import", keyword: null, optedOutAt: now.toISOString() },
        });
      }
    }
    await assertContactQuota(tx, workspaceId, limits);
  });
  return { received, optedOut, alreadyOptedOut: phones.length - optedOut, created, rejected };
}

// ------------------------------------------------------------------ settings

export const optOutSettingsPatch = z.object({
  /** null: the defaults (DEFAULT_OPT_OUT_KEYWORDS). */
  keywords: z
    .array(z.string().trim().min(1, "A keyword cannot be blank").max(MAX_OPT_OUT_KEYWORD_LENGTH, `A keyword has at most ${MAX_OPT_OUT_KEYWORD_LENGTH} characters`))
    .min(1, "Give at least one keyword, or null for the defaults")
    .max(MAX_OPT_OUT_KEYWORDS, `At most ${MAX_OPT_OUT_KEYWORDS} keywords`)
    .nullable()
    .optional(),
  /** Sent once after an opt-out by keyword; null: none. */
  confirmation: z.string().trim().min(1, "The confirmation cannot be blank: send null for none").max(1000).nullable().optional(),
  /** Replies are attributed to a campaign that messaged the contact within this many days. */
  replyAttributionDays: z.number().int().min(1).max(90).optional(),
});

export interface OptOutSettings {
  keywords: string[];
  usesDefaultKeywords: boolean;
  defaultKeywords: string[];
  confirmation: string | null;
  replyAttributionDays: number;
}

export async function getOptOutSettings(db: Db, workspaceId: string): Promise<OptOutSettings> {
  const [row] = await db
    .select({ keywords: workspaces.optOutKeywords, confirmation: workspaces.optOutConfirmation, days: workspaces.replyAttributionDays })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  return {
    keywords: row?.keywords ?? [...DEFAULT_OPT_OUT_KEYWORDS],
    usesDefaultKeywords: row?.keywords == null,
    defaultKeywords: [...DEFAULT_OPT_OUT_KEYWORDS],
    confirmation: row?.confirmation ?? null,
    replyAttributionDays: row?.days ?? 7,
  };
}

export async function updateOptOutSettings(db: Db, workspaceId: string, patch: z.infer<typeof optOutSettingsPatch>): Promise<OptOutSettings> {
  const set: Partial<typeof workspaces.$inferInsert> = {};
  if (patch.keywords !== undefined) {
    if (patch.keywords !== null) {
      const blank = patch.keywords.findIndex((keyword) => normaliseForOptOut(keyword) === "");
      if (blank >= 0) throw badRequest(`Keyword ${blank + 1} has no letters or digits`, `keywords.${blank}`);
    }
    set.optOutKeywords = patch.keywords === null ? null : [...new Set(patch.keywords)];
  }
  if (patch.confirmation !== undefined) set.optOutConfirmation = patch.confirmation;
  if (patch.replyAttributionDays !== undefined) set.replyAttributionDays = patch.replyAttributionDays;
  if (Object.keys(set).length > 0) await db.update(workspaces).set(set).where(eq(workspaces.id, workspaceId));
  return getOptOutSettings(db, workspaceId);
}
