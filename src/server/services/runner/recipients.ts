/**
 * Recipient rows are created once, when a campaign first runs: its audience (its list, plus the lists
 * and tags of `audience`, minus contacts with an excluded tag; issue 15) resolved now, as it is at
 * this moment, leaving out who opted out, one row per WhatsApp chat, in a stable order, each with its personalised text (its spintax
 * variant chosen, then its placeholders filled). The rows and `recipients_materialized_at` are written
 * in one transaction, so a crash leaves either all or none.
 */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { type Campaign, campaignRecipients, campaigns, contactListMembers, contacts, templates } from "~/server/db/schema";
import { toChatId } from "../waha/client";
import { CompiledMessage } from "../personalization";
import { recipientTimeZone } from "../safeSending/sendWindow";
import { audienceContacts, reachesSomeone } from "../campaignAudience";

/** Rows per INSERT: 8 parameters each stays far below PostgreSQL's 65,535. */
const INSERT_BATCH = 1000;

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
 * Creates the rows unless they exist. Returns how many were created, or null when they already
 * existed (or the campaign is no longer ours).
 */
export async function materializeRecipients(db: Db, campaign: Campaign, holder: string): Promise<number | null> {
  if (campaign.recipientsMaterializedAt !== null) return null;
  const body = await loadMessageBody(db, campaign);
  if (!reachesSomeone(campaign.listId, campaign.audience)) {
    throw new CampaignConfigurationError("the campaign's contact list was deleted before it started");
  }
  const members = campaign.audience === null ? await listMembers(db, campaign) : await audienceMembers(db, campaign);

  // Spintax is chosen here, once per recipient, and kept in renderedText: a resend or a recovery sends the same text.
  const message = new CompiledMessage(body);
  const window = campaign.sendWindow;
  const rows: Array<typeof campaignRecipients.$inferInsert> = [];
  const seenChats = new Set<string>();
  for (const member of members) {
    let chatId: string | null;
    try {
      chatId = toChatId(member.phone);
    } catch {
      chatId = null;
    }
    if (chatId !== null) {
      // Two contacts that reach the same chat get one message.
      if (seenChats.has(chatId)) continue;
      seenChats.add(chatId);
    }
    const renderedText = message.render(
      { phone: member.phone, firstName: member.firstName, attributes: member.attributes ?? {} },
      { recipientKey: member.contactId },
    );
    rows.push({
      campaignId: campaign.id,
      contactId: member.contactId,
      position: rows.length,
      phone: member.phone,
      chatId: chatId ?? "",
      renderedText,
      // A recipient-local send window is read in the recipient's own zone, fixed here (issue 13).
      timeZone: window?.recipientLocal ? recipientTimeZone(member.phone, window.timeZone) : null,
      ...(chatId === null ? { status: "skipped" as const, lastError: "not a valid phone number" } : {}),
    });
  }

  return db.transaction(async (tx) => {
    const marked = await tx
      .update(campaigns)
      .set({ recipientsMaterializedAt: sql`now()` })
      .where(
        and(
          eq(campaigns.id, campaign.id),
          isNull(campaigns.recipientsMaterializedAt),
          eq(campaigns.status, "Running"),
          eq(campaigns.leaseHolder, holder),
        ),
      )
      .returning({ id: campaigns.id });
    if (marked.length === 0) return null;
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      await tx.insert(campaignRecipients).values(rows.slice(start, start + INSERT_BATCH));
    }
    return rows.length;
  });
}

type Member = { contactId: string; phone: string; firstName: string | null; attributes: Record<string, string> | null };

/** A campaign with only a list: its members in the order they were added (as before issue 15). */
function listMembers(db: Db, campaign: Campaign): Promise<Member[]> {
  return db
    .select({ contactId: contacts.id, phone: contacts.phone, firstName: contacts.firstName, attributes: contacts.attributes })
    .from(contactListMembers)
    .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
    .where(
      and(
        eq(contactListMembers.listId, campaign.listId!),
        eq(contacts.workspaceId, campaign.workspaceId),
        eq(contacts.optedOut, false),
      ),
    )
    .orderBy(asc(contactListMembers.addedAt), asc(contacts.phone));
}

/** Lists and/or tags minus excluded tags, each contact once (contacts are unique by phone per workspace), oldest first. */
function audienceMembers(db: Db, campaign: Campaign): Promise<Member[]> {
  return db
    .select({ contactId: contacts.id, phone: contacts.phone, firstName: contacts.firstName, attributes: contacts.attributes })
    .from(contacts)
    .where(audienceContacts(db, campaign.workspaceId, campaign.listId, campaign.audience!))
    .orderBy(asc(contacts.createdAt), asc(contacts.phone));
}
