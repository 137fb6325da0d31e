/**
 * "Did WAHA accept this message?" for a recipient whose send may or may not have happened (a crash,
 * a timeout, a 5xx). The answer decides between settling and resending, so it is conservative:
 *
 * - The row has a message id we fixed before the call (WAHA's `new-message-id`, passed as `id`):
 *   WAHA files the message under that id, so `getMessage` is authoritative both ways:
 *   found -> `sent`; not found -> `absent` (safe to send again).
 * - No id (a WAHA without `new-message-id`): only the chat's recent messages can tell. A message from
 *   us in that chat with the same text, not older than the attempt, -> `sent`; otherwise we cannot
 *   tell "never arrived" from "not listed": `unknown` (never resent blindly).
 * - WAHA errors: `unknown`, except a session that is not working, which the caller turns into a pause
 *   (WAHA cannot answer for it now; it will later).
 */
import { type WahaApiClient, WahaError } from "../wahaClient";

export type LookupResult =
  | { kind: "sent"; wahaMessageId: string; ack: number | null }
  | { kind: "absent" }
  /** `retryable`: WAHA failed to answer (asking again later may tell); otherwise it cannot know. */
  | { kind: "unknown"; reason: string; retryable: boolean }
  | { kind: "session_unavailable"; error: WahaError };

export interface LookupTarget {
  chatId: string;
  renderedText: string;
  /** Set only when WAHA gave it (new-message-id) and it was passed with the send. */
  wahaMessageId: string | null;
  /** When the attempt started (ms since epoch, database clock); bounds the chat-history match. */
  sendingStartedAtMs: number | null;
}

/** Slack for clock differences between WAHA's message timestamps (seconds) and the database. */
const HISTORY_SKEW_MS = 120_000;

export async function lookupMessage(client: WahaApiClient, session: string, target: LookupTarget): Promise<LookupResult> {
  try {
    if (target.wahaMessageId) {
      const message = await client.getMessage(session, target.chatId, target.wahaMessageId);
      if (!message) return { kind: "absent" };
      return { kind: "sent", wahaMessageId: message.id, ack: message.ack ?? null };
    }
    const recent = await client.listChatMessages(session, target.chatId, { limit: 20 });
    const since = target.sendingStartedAtMs === null ? null : target.sendingStartedAtMs - HISTORY_SKEW_MS;
    const match = recent.find(
      (message) =>
        message.fromMe !== false &&
        (message.body ?? "") === target.renderedText &&
        (since === null || message.timestamp === undefined || message.timestamp * 1000 >= since),
    );
    if (match) return { kind: "sent", wahaMessageId: match.id, ack: match.ack ?? null };
    return { kind: "unknown", reason: "WAHA has no message id for this send and the chat's recent messages do not show it", retryable: false };
  } catch (error) {
    if (error instanceof WahaError && (error.kind === "session_not_working" || error.kind === "session_not_found" || error.kind === "unauthorized")) {
      return { kind: "session_unavailable", error };
    }
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: "unknown", reason: `could not ask WAHA whether it was sent: ${reason}`, retryable: error instanceof WahaError && error.retryable };
  }
}
