/**
 * Check-exists before a contact's first message (issue 13): WAHA's `GET /api/contacts/check-exists`
 * says whether the number is on WhatsApp and which chat id reaches it (Brazil's 9th digit). The
 * answer is kept on the contact (`on_whatsapp`, `whatsapp_chat_id`, `whatsapp_checked_at`), so a
 * contact is asked about once, whatever the campaign; the recipient's row gets the chat id WAHA
 * gave, so a later look-up of the message searches the right chat.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import type { WahaApiClient } from "../waha/client";
import type { SendingRecipient } from "./sendSlot";

export const NOT_ON_WHATSAPP = "not_on_whatsapp";

export type ChatCheck = { onWhatsapp: true; chatId: string } | { onWhatsapp: false };

/** Whether the recipient is on WhatsApp, and the chat to send to; asks WAHA only for a contact never checked. Throws WAHA's errors. */
export async function checkRecipientChat(db: Db, client: WahaApiClient, session: string, recipient: SendingRecipient): Promise<ChatCheck> {
  const [cached] = await queryRows<{ contact_id: string | null; on_whatsapp: boolean | null; whatsapp_chat_id: string | null }>(
    db,
    sql`select c.id::text as contact_id, c.on_whatsapp, c.whatsapp_chat_id
          from campaign_recipients r left join contacts c on c.id = r.contact_id
         where r.id = ${recipient.id}::int8`,
  );
  if (cached && cached.on_whatsapp === false) return { onWhatsapp: false };
  if (cached && cached.on_whatsapp === true) {
    const chatId = cached.whatsapp_chat_id ?? recipient.chatId;
    if (chatId !== recipient.chatId) await useChat(db, recipient.id, chatId);
    return { onWhatsapp: true, chatId };
  }
  const answer = await client.checkNumberExists(session, recipient.phone);
  const chatId = answer.numberExists ? (answer.chatId ?? recipient.chatId) : null;
  // The contact's cache and the recipient's chat in one statement.
  await db.execute(sql`
    with contact as (
      update contacts set on_whatsapp = ${answer.numberExists}, whatsapp_chat_id = ${chatId}, whatsapp_checked_at = now()
       where id = ${cached?.contact_id ?? null}::uuid
      returning id
    )
    update campaign_recipients set chat_id = coalesce(${chatId}::text, chat_id)
     where id = ${recipient.id}::int8 and ${chatId !== null && chatId !== recipient.chatId}::boolean`);
  return chatId === null ? { onWhatsapp: false } : { onWhatsapp: true, chatId };
}

async function useChat(db: Db, recipientId: string, chatId: string): Promise<void> {
  await db.execute(sql`update campaign_recipients set chat_id = ${chatId} where id = ${recipientId}::int8`);
}
