/**
 * A campaign's recipient rows: its audience (its list, plus the lists and tags of `audience`, minus
 * contacts with an excluded tag; issue 15) resolved as it is at that moment, leaving out who opted out,
 * one row per contact and WhatsApp chat, in a stable order, each with its personalised text (its
 * spintax variant chosen, then its placeholders filled).
 *
 * The rows are made in chunks (issue 15, big campaigns): the audience's contact ids are read once, in
 * send order; then 1,000 contacts at a time are read, rendered and inserted with ON CONFLICT DO NOTHING
 * on (campaign, contact), each row's position being its place in that order. So memory stays the ids
 * plus one chunk, other work interleaves between chunks (PGlite is one connection), and a crash
 * mid-way leaves rows that the next attempt completes without a second row for anyone.
 * `recipients_materialized_at` is set only when every chunk is in: until then nobody sends.
 *
 * Two callers: `scheduling/prepareRecipients.ts` makes them ahead, for a `Scheduled` campaign due in
 * the next minutes, and the run makes them at its start (`materializeRecipients`) when nobody did, or
 * brings rows made ahead up to date (`recipients_prepared_for` set: see there, and the rule in
 * prepareRecipients.ts).
 */
import { createHash } from "node:crypto";
import { and, asc, eq, inArray, isNull, notExists, type SQL, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { type Campaign, campaignRecipients, campaigns, contactListMembers, contacts, templates } from "~/server/db/schema";
import { toChatId } from "../waha/client";
import { CompiledMessage } from "../personalization";
import { recipientTimeZone } from "../safeSending/sendWindow";
import { audienceContacts, reachesSomeone } from "../campaignAudience";
import { countsOf } from "../campaignProgress";

/** Contacts read, rendered and inserted at a time: O(chunk) memory, one INSERT per chunk. */
export const MATERIALIZE_CHUNK = 1000;

export class CampaignConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CampaignConfigurationError";
  }
}

/** The message body the campaign sends: its template's, else its own text. */
export async function loadMessageBody(db: Db, campaign: Campaign): Promise<string> {
  if (campaign.templateId) {
    const [template] = await db
      .select({ body: templates.body })
      .from(templates)
      .where(and(eq(templates.id, campaign.templateId), eq(templates.workspaceId, campaign.workspaceId)));
    if (template) return template.body;
  }
  if (campaign.messageText !== null && campaign.messageText.trim().length > 0) return campaign.messageText;
  throw new CampaignConfigurationError("the campaign has no message: its template was deleted and it has no text of its own");
}

/**
 * What rows made now would be made from: the body, the audience and the send window's zone rule. Rows
 * made ahead carry it (`recipients_prepared_for`); a campaign edited since (or its template) gets new ones.
 */
export function recipientsFingerprint(campaign: Campaign, body: string): string {
  const window = campaign.sendWindow;
  const source = JSON.stringify([body, campaign.listId, campaign.audience, window?.recipientLocal ? window.timeZone : null]);
  return createHash("sha256").update(source).digest("base64url");
}

/** Who may write the rows: the run under its lease, or the ahead-of-time preparation while the campaign is still `Scheduled`. */
export type RecipientWriter = { kind: "run"; holder: string } | { kind: "ahead" };

function writerHolds(campaignId: string, writer: RecipientWriter): SQL {
  return writer.kind === "run"
    ? sql`exists (select 1 from campaigns c where c.id = ${campaignId} and c.status = 'Running' and c.lease_holder = ${writer.holder})`
    : sql`exists (select 1 from campaigns c where c.id = ${campaignId} and c.status = 'Scheduled')`;
}

/**
 * Up to this many rows made ahead, the run brings them up to date before its first send (milliseconds).
 * Above, it does not: the two audience queries cost O(audience), 1–2 s for 50,000 on the embedded
 * database, during which PGlite holds the event loop (measured: first message +2.65 s); each sweep
 * before the start does it instead (scheduling/prepareRecipients.ts).
 */
export const RECONCILE_BEFORE_SENDING_MAX = 5_000;

/**
 * At the run's start. Rows nobody made: made now, in chunks. Rows made ahead (`recipients_prepared_for`
 * set, nothing sent yet): if the campaign or its template changed since, made again; otherwise, for a
 * campaign of up to 5,000, brought up to date with the audience as it is now (`reconcileAudience`).
 * Returns how many rows were created, or null when there was nothing to do (or the campaign is no
 * longer ours).
 */
export async function materializeRecipients(
  db: Db,
  campaign: Campaign,
  holder: string,
): Promise<number | null> {
  const writer: RecipientWriter = { kind: "run", holder };
  if (campaign.recipientsMaterializedAt !== null && campaign.recipientsPreparedFor === null) return null;
  const body = await loadMessageBody(db, campaign);
  if (!reachesSomeone(campaign.listId, campaign.audience)) {
    throw new CampaignConfigurationError("the campaign's contact list was deleted before it started");
  }
  let created = 0;
  if (campaign.recipientsMaterializedAt === null) {
    // Rows left by a preparation or a run cut short may be from an older version of the campaign.
    await discardUnsentRecipients(db, campaign.id, writer);
    created = await writeRecipients(db, campaign, body, writer, "all");
  } else if (campaign.recipientsPreparedFor !== recipientsFingerprint(campaign, body)) {
    await discardUnsentRecipients(db, campaign.id, writer);
    created = await writeRecipients(db, campaign, body, writer, "all");
  } else if ((await countsOf(db, campaign.id)).total <= RECONCILE_BEFORE_SENDING_MAX) {
    created = await reconcileAudience(db, campaign, body, writer);
  }
  // Bigger: the sweeps before the start brought them up to date (scheduling/prepareRecipients.ts).
  const [marked] = await db
    .update(campaigns)
    .set({ recipientsMaterializedAt: sql`now()`, recipientsPreparedFor: null })
    .where(and(eq(campaigns.id, campaign.id), eq(campaigns.status, "Running"), eq(campaigns.leaseHolder, holder)))
    .returning({ id: campaigns.id });
  if (!marked) return null;
  // Best effort: a crash before it ends leaves the rows as they were made ahead, minutes ago.
  return created;
}

/**
 * Rows made ahead, brought up to date: pending rows of contacts who left the audience (or opted out,
 * or were deleted) are deleted; contacts who joined it are added after the others. Returns the rows added.
 */
export async function reconcileAudience(db: Db, campaign: Campaign, body: string, writer: RecipientWriter): Promise<number> {
  await dropLeavers(db, campaign, writer);
  return writeRecipients(db, campaign, body, writer, "missing");
}

/**
 * Rows of a campaign that has sent nothing yet, removed so they can be made again (only `pending` and
 * `skipped` ones: a campaign made ahead has no other).
 */
export async function discardUnsentRecipients(db: Db, campaignId: string, writer: RecipientWriter): Promise<void> {
  await db
    .delete(campaignRecipients)
    .where(
      and(
        eq(campaignRecipients.campaignId, campaignId),
        inArray(campaignRecipients.status, ["pending", "skipped"]),
        writer.kind === "run"
          ? sql`exists (select 1 from campaigns c where c.id = ${campaignId} and c.status = 'Running' and c.lease_holder = ${writer.holder})`
          : sql`exists (select 1 from campaigns c where c.id = ${campaignId} and c.status = 'Scheduled')`,
      ),
    );
}

/** Pending rows whose contact is gone, left the audience or opted out. */
async function dropLeavers(db: Db, campaign: Campaign, writer: RecipientWriter): Promise<void> {
  const stillIn = db
    .select({ one: sql`1` })
    .from(contacts)
    .where(and(eq(contacts.id, campaignRecipients.contactId), audienceContacts(db, campaign.workspaceId, campaign.listId, campaign.audience ?? {})));
  await db
    .delete(campaignRecipients)
    .where(and(eq(campaignRecipients.campaignId, campaign.id), eq(campaignRecipients.status, "pending"), notExists(stillIn), writerHolds(campaign.id, writer)));
}

/**
 * Inserts the rows, a chunk at a time, while `writer` still holds the campaign (checked in each
 * INSERT). `which: "missing"` adds only contacts without a row, after the existing ones. Returns the
 * rows inserted.
 */
export async function writeRecipients(
  db: Db,
  campaign: Campaign,
  body: string,
  writer: RecipientWriter,
  which: "all" | "missing",
  options: { chunk?: number; afterChunk?: (inserted: number) => Promise<void> } = {},
): Promise<number> {
  const chunk = options.chunk ?? MATERIALIZE_CHUNK;
  const ids = await audienceIds(db, campaign, which);
  if (ids.length === 0) return 0;
  const firstPosition =
    which === "all"
      ? 0
      : ((
          await db
            .select({ last: sql<number | null>`max(${campaignRecipients.position})` })
            .from(campaignRecipients)
            .where(eq(campaignRecipients.campaignId, campaign.id))
        )[0]?.last ?? -1) + 1;

  // Spintax is chosen here, once per recipient, and kept in rendered_text: a resend or a recovery sends the same text.
  const message = new CompiledMessage(body);
  const window = campaign.sendWindow;
  // Two contacts that reach the same chat get one message (contacts are unique by E.164 phone, so this is rare).
  const seenChats = new Set<string>();
  let inserted = 0;
  for (let start = 0; start < ids.length; start += chunk) {
    const slice = ids.slice(start, start + chunk);
    const found = await db
      .select({ contactId: contacts.id, phone: contacts.phone, firstName: contacts.firstName, attributes: contacts.attributes })
      .from(contacts)
      .where(inArray(contacts.id, slice));
    const byId = new Map(found.map((member) => [member.contactId, member]));
    const rows: RecipientRow[] = [];
    slice.forEach((contactId, index) => {
      const member = byId.get(contactId);
      if (!member) return; // deleted since the ids were read
      let chatId: string | null;
      try {
        chatId = toChatId(member.phone);
      } catch {
        chatId = null;
      }
      if (chatId !== null) {
        if (seenChats.has(chatId)) return;
        seenChats.add(chatId);
      }
      rows.push({
        contact_id: member.contactId,
        position: firstPosition + start + index,
        phone: member.phone,
        chat_id: chatId ?? "",
        rendered_text: message.render(
          { phone: member.phone, firstName: member.firstName, attributes: member.attributes ?? {} },
          { recipientKey: member.contactId },
        ),
        // A recipient-local send window is read in the recipient's own zone, fixed here (issue 13).
        time_zone: window?.recipientLocal ? recipientTimeZone(member.phone, window.timeZone) : null,
        status: chatId === null ? "skipped" : "pending",
        last_error: chatId === null ? "not a valid phone number" : null,
      });
    });
    if (rows.length > 0) inserted += await insertRows(db, campaign.id, rows, writer);
    await options.afterChunk?.(inserted);
    // PGlite's queries settle as microtasks: without this, timers (other campaigns' starts) and
    // requests waited for the whole loop (seen: node-cron's starts missed for 5 min on 1,000,000).
    await new Promise((resolve) => setImmediate(resolve));
  }
  return inserted;
}

type RecipientRow = {
  contact_id: string;
  position: number;
  phone: string;
  chat_id: string;
  rendered_text: string;
  time_zone: string | null;
  status: "pending" | "skipped";
  last_error: string | null;
};

/** One statement per chunk, one parameter: the rows as JSON. Nothing is inserted once the writer no longer holds the campaign. */
async function insertRows(db: Db, campaignId: string, rows: RecipientRow[], writer: RecipientWriter): Promise<number> {
  const result = await db.execute(sql`
    insert into campaign_recipients (campaign_id, contact_id, position, phone, chat_id, rendered_text, time_zone, status, last_error)
    select ${campaignId}::uuid, r.contact_id, r.position, r.phone, r.chat_id, r.rendered_text, r.time_zone, r.status::recipient_status, r.last_error
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as r(contact_id uuid, position int, phone text, chat_id text, rendered_text text, time_zone text, status text, last_error text)
     where ${writerHolds(campaignId, writer)}
    on conflict do nothing`);
  const counted = result as unknown as { rowCount?: number | null; affectedRows?: number };
  return counted.rowCount ?? counted.affectedRows ?? 0;
}

/**
 * The audience's contact ids in send order, read once (a consistent cut; 50,000 ids are a few MB).
 * A campaign with only a list: its members in the order they were added (as before issue 15); with an
 * audience: lists and/or tags minus excluded tags, each contact once, oldest first.
 */
async function audienceIds(db: Db, campaign: Campaign, which: "all" | "missing"): Promise<string[]> {
  const hasNoRow =
    which === "missing"
      ? notExists(
          db
            .select({ one: sql`1` })
            .from(campaignRecipients)
            .where(and(eq(campaignRecipients.campaignId, campaign.id), eq(campaignRecipients.contactId, contacts.id))),
        )
      : undefined;
  const rows =
    campaign.audience === null
      ? await db
          .select({ id: contacts.id })
          .from(contactListMembers)
          .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
          .where(
            and(
              eq(contactListMembers.listId, campaign.listId!),
              eq(contacts.workspaceId, campaign.workspaceId),
              eq(contacts.optedOut, false),
              hasNoRow,
            ),
          )
          .orderBy(asc(contactListMembers.addedAt), asc(contacts.phone))
      : await db
          .select({ id: contacts.id })
          .from(contacts)
          .where(and(audienceContacts(db, campaign.workspaceId, campaign.listId, campaign.audience), hasNoRow))
          .orderBy(asc(contacts.createdAt), asc(contacts.phone));
  return rows.map((row) => row.id);
}

/** Marks rows made ahead as complete, unless the campaign started (or changed) meanwhile. */
export async function markPreparedAhead(db: Db, campaignId: string, fingerprint: string): Promise<boolean> {
  const rows = await db
    .update(campaigns)
    .set({ recipientsMaterializedAt: sql`now()`, recipientsPreparedFor: fingerprint })
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, "Scheduled"), isNull(campaigns.recipientsMaterializedAt)))
    .returning({ id: campaigns.id });
  return rows.length > 0;
}
