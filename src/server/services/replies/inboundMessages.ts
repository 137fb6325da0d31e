/**
 * WAHA `message` events (issue 14): a contact's message to one of the workspace's numbers. Only
 * one-to-one chats with a phone (`<digits>@c.us`, or `@s.whatsapp.net` as NOWEB and GOWS may name
 * it) count: our own messages (`fromMe`), groups (`@g.us`), status broadcasts, channels and ids
 * without a phone (`@lid`) are ignored. `message.any` is not needed: it adds only our own messages.
 *
 * A message from a phone that is no contact of the number's workspace is stored too, without a
 * contact (the number's inbox is complete; it can never be attributed nor opt anyone out).
 * A message is stored once per (number, WAHA message id), in the webhook's transaction, and
 * attributed to the last campaign that messaged the contact from that number within the workspace's
 * `reply_attribution_days`; that recipient's `replied_at` is set by its first reply only.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, queryRows } from "~/server/db/client";
import { emitWebhookEvent } from "../outgoingWebhooks/emit";
import { matchOptOutKeyword } from "../optOut/keywords";
import { optOutContactInTx } from "../optOut/contactOptOut";

/** The fields of WAHA's `message` payload read here (the same on WEBJS, NOWEB and GOWS). */
const messagePayload = z.object({
  id: z.string().min(1).max(500),
  from: z.string().max(200),
  fromMe: z.boolean().optional(),
  body: z.string().max(65_536).nullish(),
  /** Seconds since the epoch. */
  timestamp: z.number().nullish(),
  participant: z.string().max(200).nullish(),
});

/** A message delivered this soon after its WAHA timestamp is dated by our clock (WAHA's has whole seconds). */
const LIVE_DELIVERY_MS = 60_000;

/** A phone's chat: `491511234567@c.us` (or `@s.whatsapp.net`) → "+491511234567"; anything else → null. */
export function phoneOfChat(chatId: string): string | null {
  const match = /^(\d{6,15})@(?:c\.us|s\.whatsapp\.net)$/.exec(chatId);
  return match ? `+${match[1]}` : null;
}

/** What the caller does after the transaction commits: send the opt-out confirmation, once. */
export interface OptedOutByReply {
  workspaceId: string;
  sessionId: string;
  wahaSessionName: string;
  contactId: string;
  chatId: string;
  inboundMessageId: number;
  confirmation: string;
}

export type InboundOutcome = { kind: "ignored" } | { kind: "stored"; optedOut: OptedOutByReply | null };

interface SessionRow {
  id: string;
  workspace_id: string;
  opt_out_keywords: string[] | null;
  opt_out_confirmation: string | null;
  reply_attribution_days: number;
}

export async function applyInboundMessage(tx: Db, wahaSessionName: string, payload: unknown, now: Date): Promise<InboundOutcome> {
  const parsed = messagePayload.safeParse(payload);
  if (!parsed.success) return { kind: "ignored" };
  const message = parsed.data;
  if (message.fromMe === true) return { kind: "ignored" };
  // Groups (`@g.us`) and broadcasts have no phone as their chat; the sender is then in `participant`.
  const phone = phoneOfChat(message.from);
  if (!phone) return { kind: "ignored" };
  const [session] = await queryRows<SessionRow>(
    tx,
    sql`select s.id, s.workspace_id, w.opt_out_keywords, w.opt_out_confirmation, w.reply_attribution_days
          from whatsapp_sessions s join workspaces w on w.id = s.workspace_id
         where s.waha_session_name = ${wahaSessionName}`,
  );
  if (!session) return { kind: "ignored" };
  const body = message.body ?? "";
  // WAHA's timestamp has whole seconds: a message delivered live (within a minute of it) takes our
  // clock's time instead, so that it sorts after the send it answers and after the message before it.
  const stampMs = message.timestamp ? message.timestamp * 1000 : now.getTime();
  const receivedAt = now.getTime() >= stampMs && now.getTime() < stampMs + LIVE_DELIVERY_MS ? now : new Date(stampMs);
  const keyword = matchOptOutKeyword(body, session.opt_out_keywords);

  // The contact, and the last send to it from this number within the window: the reply's campaign
  // (from the number's campaigns, each probed by its (campaign, contact) index). A recipient still
  // `sending` (a reply can beat the step that records the send) or `unknown` counts from when it went.
  const [target] = await queryRows<{ contact_id: string | null; recipient_id: string | null; campaign_id: string | null; replied_at: Date | null }>(
    tx,
    sql`select c.id as contact_id, r.id::text as recipient_id, r.campaign_id, r.replied_at
          from contacts c
          left join lateral (
            select r.id, r.campaign_id, r.replied_at
              from campaigns k join campaign_recipients r on r.campaign_id = k.id and r.contact_id = c.id
             where (k.session_id = ${session.id}::uuid or k.id in (select s.campaign_id from campaign_sessions s where s.session_id = ${session.id}::uuid))
               -- issue 15: the number that sent it (rows sent before issue 15: the campaign's first)
               and coalesce(r.session_id, k.session_id) = ${session.id}::uuid
               and (r.sent_at is not null or r.status in ('sending', 'unknown'))
               and coalesce(r.sent_at, r.sending_started_at) >= ${now.toISOString()}::timestamptz - make_interval(days => ${session.reply_attribution_days})
             order by coalesce(r.sent_at, r.sending_started_at) desc limit 1) r on true
         where c.workspace_id = ${session.workspace_id}::uuid and c.phone = ${phone}`,
  );
  const contactId = target?.contact_id ?? null;
  const recipientId = target?.recipient_id ?? null;
  const campaignId = target?.campaign_id ?? null;

  const [stored] = await queryRows<{ id: string }>(
    tx,
    sql`insert into inbound_messages (workspace_id, session_id, contact_id, campaign_id, recipient_id, waha_message_id, from_phone, chat_id, body, opt_out, received_at)
        values (${session.workspace_id}::uuid, ${session.id}::uuid, ${contactId}::uuid, ${campaignId}::uuid, ${recipientId}::int8,
                ${message.id}, ${phone}, ${message.from}, ${body}, ${keyword !== null}, ${receivedAt.toISOString()}::timestamptz)
        on conflict (session_id, waha_message_id) do nothing
        returning id::text`,
  );
  // WAHA delivered the same message again under another event id: already counted.
  if (!stored) return { kind: "stored", optedOut: null };

  if (recipientId && target?.replied_at == null) {
    await tx.execute(sql`update campaign_recipients set replied_at = ${receivedAt.toISOString()}::timestamptz where id = ${recipientId}::int8 and replied_at is null`);
  }
  if (campaignId && contactId) {
    await emitWebhookEvent(tx, {
      type: "recipient.replied",
      workspaceId: session.workspace_id,
      campaignId,
      data: { campaignId, recipientId, contactId, phone, text: body, receivedAt: receivedAt.toISOString(), optOut: keyword !== null },
    });
  }

  let optedOut: OptedOutByReply | null = null;
  if (keyword !== null && contactId) {
    const changed = await optOutContactInTx(tx, { workspaceId: session.workspace_id, contactId, source: "keyword", keyword, now });
    if (changed && session.opt_out_confirmation) {
      optedOut = {
        workspaceId: session.workspace_id,
        sessionId: session.id,
        wahaSessionName,
        contactId,
        chatId: message.from.replace(/@s\.whatsapp\.net$/, "@c.us"),
        inboundMessageId: Number(stored.id),
        confirmation: session.opt_out_confirmation,
      };
    }
  }
  return { kind: "stored", optedOut };
}
