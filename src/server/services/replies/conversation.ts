/**
 * What the pages show of replies (issue 14): a contact's conversation (our campaign sends and their
 * messages, in time order) and a campaign's replies (count, rate, and the list).
 */
import { and, asc, desc, eq, isNotNull, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { campaignRecipients, campaigns, contacts, inboundMessages } from "~/server/db/schema";
import { notFound } from "../errors";

export type ConversationItem =
  | { kind: "sent"; at: Date; campaignId: string; campaignName: string; sessionId: string | null; status: string; skipReason: string | null; ack: number | null; text: string }
  | { kind: "received"; at: Date; campaignId: string | null; text: string; optOut: boolean; confirmation: string | null };

/** At most this many items of each kind: a conversation page, not an archive. */
const CONVERSATION_LIMIT = 200;

export async function contactConversation(db: Db, workspaceId: string, contactId: string) {
  const [contact] = await db
    .select({
      id: contacts.id,
      phone: contacts.phone,
      firstName: contacts.firstName,
      attributes: contacts.attributes,
      optedOut: contacts.optedOut,
      optedOutAt: contacts.optedOutAt,
      optedOutSource: contacts.optedOutSource,
      optedInAt: contacts.optedInAt,
      optedInByUserId: contacts.optedInByUserId,
      tags: contacts.tags,
      createdAt: contacts.createdAt,
    })
    .from(contacts)
    .where(and(eq(contacts.id, contactId), eq(contacts.workspaceId, workspaceId)));
  if (!contact) throw notFound("Contact");
  const sends = await db
    .select({
      // When the send began: a reply cannot come before it, while `sent_at` is recorded after WAHA
      // answered, which a quick reply can beat.
      at: sql<Date>`coalesce(${campaignRecipients.sendingStartedAt}, ${campaignRecipients.sentAt}, ${campaigns.scheduledAt}, ${campaigns.createdAt})`.mapWith(campaignRecipients.sentAt),
      campaignId: campaigns.id,
      campaignName: campaigns.name,
      // The number that sent it (issue 15), else the campaign's first.
      sessionId: sql<string | null>`coalesce(${campaignRecipients.sessionId}, ${campaigns.sessionId})`,
      status: campaignRecipients.status,
      skipReason: campaignRecipients.skipReason,
      ack: campaignRecipients.ack,
      text: campaignRecipients.renderedText,
    })
    .from(campaignRecipients)
    .innerJoin(campaigns, eq(campaigns.id, campaignRecipients.campaignId))
    .where(and(eq(campaignRecipients.contactId, contactId), eq(campaigns.workspaceId, workspaceId)))
    .orderBy(desc(campaignRecipients.id))
    .limit(CONVERSATION_LIMIT);
  const received = await db
    .select({
      at: inboundMessages.receivedAt,
      campaignId: inboundMessages.campaignId,
      text: inboundMessages.body,
      optOut: inboundMessages.optOut,
      confirmation: inboundMessages.confirmation,
    })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.contactId, contactId), eq(inboundMessages.workspaceId, workspaceId)))
    .orderBy(desc(inboundMessages.receivedAt), desc(inboundMessages.id))
    .limit(CONVERSATION_LIMIT);
  const items: ConversationItem[] = [
    // Both were read newest first (the most recent ones); oldest first, so equal times keep their order.
    ...sends.reverse().map((send) => ({ kind: "sent" as const, ...send, at: new Date(send.at) })),
    ...received.reverse().map((message) => ({ kind: "received" as const, ...message })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  return { contact, items };
}

export interface CampaignReplies {
  /** Recipients who replied (each once, however many messages they sent). */
  replied: number;
  sent: number;
  /** replied / sent, 0 when nothing was sent. */
  rate: number;
  replies: { contactId: string | null; phone: string; firstName: string | null; at: Date; text: string; optOut: boolean }[];
}

export async function campaignReplies(db: Db, workspaceId: string, campaignId: string, limit = 200): Promise<CampaignReplies> {
  const [campaign] = await db.select({ id: campaigns.id }).from(campaigns).where(and(eq(campaigns.id, campaignId), eq(campaigns.workspaceId, workspaceId)));
  if (!campaign) throw notFound("Campaign");
  const [counts] = await db
    .select({
      replied: sql<number>`count(${campaignRecipients.repliedAt})::int`,
      sent: sql<number>`count(${campaignRecipients.sentAt})::int`,
    })
    .from(campaignRecipients)
    .where(eq(campaignRecipients.campaignId, campaignId));
  const replies = await db
    .select({
      contactId: inboundMessages.contactId,
      phone: inboundMessages.fromPhone,
      firstName: contacts.firstName,
      at: inboundMessages.receivedAt,
      text: inboundMessages.body,
      optOut: inboundMessages.optOut,
    })
    .from(inboundMessages)
    .leftJoin(contacts, eq(contacts.id, inboundMessages.contactId))
    .where(and(eq(inboundMessages.campaignId, campaignId), isNotNull(inboundMessages.campaignId)))
    .orderBy(asc(inboundMessages.receivedAt), asc(inboundMessages.id))
    .limit(limit);
  const replied = Number(counts?.replied ?? 0);
  const sent = Number(counts?.sent ?? 0);
  return { replied, sent, rate: sent === 0 ? 0 : replied / sent, replies };
}
