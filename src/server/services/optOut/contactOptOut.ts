/**
 * Opting a contact out of a workspace and back in (issue 14). An opted-out contact is never messaged
 * again: new campaigns leave it out when they create their recipients (runner/recipients.ts), and a
 * campaign already running skips it at send time (`wc_send_step`, migration 0008). Opting back in is
 * only ever done by a person (REST or the contact page), and records who and when; an import or a
 * suppression import never opts anyone in.
 */
import { and, eq, sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import { contacts } from "~/server/db/schema";
import { emitWebhookEvent } from "../outgoingWebhooks/emit";
import { notFound } from "../errors";

/** How a contact came to be opted out, as `contacts.opted_out_source` keeps it. */
export type OptOutSource = "keyword" | "manual" | "api" | "suppression_import";

export interface ContactOptOutState {
  id: string;
  phone: string;
  optedOut: boolean;
  optedOutAt: Date | null;
  optedOutSource: string | null;
  optedInAt: Date | null;
  optedInByUserId: string | null;
}

const stateColumns = {
  id: contacts.id,
  phone: contacts.phone,
  optedOut: contacts.optedOut,
  optedOutAt: contacts.optedOutAt,
  optedOutSource: contacts.optedOutSource,
  optedInAt: contacts.optedInAt,
  optedInByUserId: contacts.optedInByUserId,
};

/**
 * Opts the contact out, in the caller's transaction, and emits `contact.opted_out` there. Returns
 * true only when this call opted it out (false: it already was), so a second STOP changes nothing
 * and is not confirmed twice.
 */
export async function optOutContactInTx(
  tx: Db,
  input: { workspaceId: string; contactId: string; source: OptOutSource; keyword?: string | null; now?: Date },
): Promise<boolean> {
  const now = input.now ?? new Date();
  const [changed] = await tx
    .update(contacts)
    .set({ optedOut: true, optedOutAt: now, optedOutSource: input.source, updatedAt: now })
    .where(and(eq(contacts.id, input.contactId), eq(contacts.workspaceId, input.workspaceId), eq(contacts.optedOut, false)))
    .returning({ id: contacts.id, phone: contacts.phone });
  if (!changed) return false;
  await emitWebhookEvent(tx, {
    type: "contact.opted_out",
    workspaceId: input.workspaceId,
    data: { contactId: changed.id, phone: changed.phone, source: input.source, keyword: input.keyword ?? null, optedOutAt: now.toISOString() },
  });
  return true;
}

/** By hand (page or REST): opts the contact out; already opted out is fine (idempotent). */
export async function optOutContact(db: Db, workspaceId: string, contactId: string, source: "manual" | "api"): Promise<ContactOptOutState> {
  return db.transaction(async (tx) => {
    await requireContact(tx, workspaceId, contactId);
    await optOutContactInTx(tx, { workspaceId, contactId, source });
    return readState(tx, workspaceId, contactId);
  });
}

/** By hand only: opts the contact back in, recording who did it and when; the opt-out's record is kept. */
export async function optInContact(db: Db, workspaceId: string, contactId: string, userId: string | null): Promise<ContactOptOutState> {
  return db.transaction(async (tx) => {
    await requireContact(tx, workspaceId, contactId);
    const now = new Date();
    await tx
      .update(contacts)
      .set({ optedOut: false, optedInAt: now, optedInByUserId: userId, updatedAt: now })
      .where(and(eq(contacts.id, contactId), eq(contacts.workspaceId, workspaceId), eq(contacts.optedOut, true)));
    return readState(tx, workspaceId, contactId);
  });
}

async function requireContact(tx: Db, workspaceId: string, contactId: string): Promise<void> {
  // Locks the row, so an opt-in and a keyword opt-out of the same contact are applied one after the other.
  const rows = await queryRows(tx, sql`select 1 from contacts where id = ${contactId}::uuid and workspace_id = ${workspaceId}::uuid for update`);
  if (rows.length === 0) throw notFound("Contact");
}

export async function readState(db: Db, workspaceId: string, contactId: string): Promise<ContactOptOutState> {
  const [row] = await db
    .select(stateColumns)
    .from(contacts)
    .where(and(eq(contacts.id, contactId), eq(contacts.workspaceId, workspaceId)));
  if (!row) throw notFound("Contact");
  return row;
}
