/**
 * "Did WAHA accept this message?" for a recipient whose send may or may not have happened (a crash,
 * a timeout, a 5xx). The answer decides between settling and resending, so it is conservative:
 *
 * - The row has a message id we fixed before the call (WAHA's `new-message-id`, passed as `id`):
 *   WAHA files the message under that id, so `getMessage` finding it -> `sent`. Not finding it proves
 *   it never arrived only if WAHA keeps this session's messages, which depends on the engine and the
 *   session's config (NOWEB keeps none without `config.noweb.store.enabled`; a session made outside
 *   the app may lack it). So a not-found, and only then, costs one more call (`getSession`): kept ->
 *   `absent` (safe to send again); not kept, or not known -> `unknown` (never resent blindly).
 * - No id (a WAHA without `new-message-id`): only the chat's recent messages can tell. A message from
 *   us in that chat with the same text, not older than the attempt, -> `sent`; otherwise we cannot
 *   tell "never arrived" from "not listed": `unknown` (never resent blindly).
 * - WAHA errors: `unknown`, except a session that is not working, which the caller turns into a pause
 *   (WAHA cannot answer for it now; it will later). NOWEB without its store refuses message reads
 *   (400 "Enable NOWEB store …"): `unknown`, saying so.
 */
import { type WahaApiClient, WahaError, type WahaSessionInfo } from "../waha/client";

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

const NOWEB_WITHOUT_STORE =
  "this number's WAHA session runs on the NOWEB engine without its message store (config.noweb.store.enabled), " +
  "so WAHA keeps no messages and cannot say whether this one was sent";

export async function lookupMessage(client: WahaApiClient, session: string, target: LookupTarget): Promise<LookupResult> {
  try {
    if (target.wahaMessageId) {
      const message = await client.getMessage(session, target.chatId, target.wahaMessageId);
      if (message) return { kind: "sent", wahaMessageId: message.id, ack: message.ack ?? null };
      return await notFoundMeans(client, session);
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
    return failed(error, "could not ask WAHA whether it was sent");
  }
}

/** WAHA said it does not have the message: `absent` only if it keeps this session's messages. */
async function notFoundMeans(client: WahaApiClient, session: string): Promise<LookupResult> {
  let info: WahaSessionInfo;
  try {
    info = await client.getSession(session);
  } catch (error) {
    return failed(error, "WAHA does not have the message, but could not say whether it keeps this number's messages");
  }
  const gap = whyNotFoundProvesNothing(info);
  return gap === null ? { kind: "absent" } : { kind: "unknown", reason: `WAHA does not have the message, but ${gap}`, retryable: false };
}

/** Null when WAHA keeps the session's messages (a not-found is proof); otherwise why it is not. */
function whyNotFoundProvesNothing(info: WahaSessionInfo): string | null {
  switch (info.engine) {
    case "WEBJS":
      return null; // WhatsApp Web's own history
    case "GOWS":
      return info.gowsMessageStorage === false
        ? "this number's WAHA session runs on GOWS with its message storage off (config.gows.storage.messages: false), so it cannot say whether this one was sent"
        : null;
    case "NOWEB":
      return info.nowebStoreEnabled === true ? null : NOWEB_WITHOUT_STORE;
    default:
      return `WAHA did not say which engine runs this number (${info.engine ?? "none reported"}), so not finding it proves nothing`;
  }
}

function failed(error: unknown, context: string): LookupResult {
  if (error instanceof WahaError && (error.kind === "session_not_working" || error.kind === "session_not_found" || error.kind === "unauthorized")) {
    return { kind: "session_unavailable", error };
  }
  if (error instanceof WahaError && error.kind === "invalid_request" && /enable noweb store/i.test(error.message)) {
    return { kind: "unknown", reason: `WAHA cannot look messages up: ${NOWEB_WITHOUT_STORE}`, retryable: false };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return { kind: "unknown", reason: `${context}: ${reason}`, retryable: error instanceof WahaError && error.retryable };
}
