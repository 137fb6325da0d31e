import { WahaError } from "./errors";

/**
 * WhatsApp ids as WAHA spells them. Phone chats are `<country code + number>@c.us`
 * (no "+"); a message is addressed as `{fromMe}_{chatId}_{id}` (WAHA's "serialized" id).
 */

const E164 = /^\+?[1-9]\d{6,14}$/;

/** "+14155550123" -> "14155550123@c.us": the one place this conversion lives. */
export function toChatId(e164: string): string {
  const trimmed = e164.trim();
  if (trimmed.endsWith("@c.us")) {
    // Already a chat id (e.g. the one check-exists answered): accept it unchanged.
    if (E164.test(trimmed.slice(0, -"@c.us".length))) return trimmed;
  }
  const compact = trimmed.replace(/[\s().-]/g, "");
  if (!E164.test(compact)) {
    throw new WahaError({
      kind: "invalid_request",
      operation: "toChatId",
      message: `WAHA toChatId failed: "${compact.slice(0, 3)}…" is not an E.164 phone number`,
    });
  }
  return `${compact.replace(/^\+/, "")}@c.us`;
}

/** "14155550123@c.us" (or "@s.whatsapp.net") -> "+14155550123"; null for groups, lids and anything else. */
export function fromChatId(chatId: string): string | null {
  const match = /^(\d{7,15})(?::\d+)?@(?:c\.us|s\.whatsapp\.net)$/.exec(chatId);
  return match?.[1] ? `+${match[1]}` : null;
}

/** True when `messageId` is already in WAHA's `{fromMe}_{chat}_{id}` form. */
export function isSerializedMessageId(messageId: string): boolean {
  return /^(true|false)_[^_]+@[^_]+_.+$/.test(messageId);
}

/**
 * The id `GET /api/{session}/chats/{chatId}/messages/{messageId}` expects for a message we sent:
 * a raw id (from `new-message-id`, or NOWEB's `key.id`) becomes `true_<chatId>_<id>`;
 * an id that is already serialized is returned unchanged.
 */
export function toSerializedMessageId(chatId: string, messageId: string, fromMe = true): string {
  if (isSerializedMessageId(messageId)) return messageId;
  return `${fromMe ? "true" : "false"}_${chatId}_${messageId}`;
}
