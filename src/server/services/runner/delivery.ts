/**
 * Sends one recipient's message (the recipient is already `sending` under our slot, with its message
 * id fixed) and decides what the row becomes, from `classifySendFailure` (waha/errors.ts). Retries
 * transient failures with bounded backoff, but a failure that may have reached WAHA (timeout, 5xx,
 * reset) is settled by looking the message up first: the same message id is only sent again once
 * WAHA says it does not have it. Only WAHA's own 4xx about the chat or the content fails a recipient;
 * when WAHA cannot take messages now, the recipient stays pending and the campaign pauses
 * (`waha_unavailable`, which resumes by itself: runner/autoResume.ts).
 *
 * Before the first attempt, the number's policy (issue 13): with `checkExists`, whether the contact is
 * on WhatsApp (runner/checkExists.ts; not on it: `skipped`, nothing sent); with `typing`, sendSeen,
 * startTyping, the typing time, stopTyping. WhatsApp refusing the number itself (`restricted`, its
 * error 463) leaves the recipient pending and stops the number (runner/restrictions.ts).
 */
import type { Db } from "~/server/db/client";
import { describeSendFailure } from "../waha/errors";
import { type WahaApiClient, WahaError } from "../waha/client";
import { lookupMessage } from "./lookup";
import { type RecipientOutcome, type SendingRecipient, type SlotKey, refreshSending } from "./sendSlot";

import { PAUSE_REASONS, type PauseReason, pauseReasonFor } from "./pauses";
import { NOT_ON_WHATSAPP, checkRecipientChat } from "./checkExists";

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
}

export interface DeliveryContext {
  db: Db;
  client: WahaApiClient;
  session: string;
  key: SlotKey;
  retry: RetryPolicy;
  /** The campaign's image, sent with the text as its caption; null for a text message. */
  media: { data: string; mimetype: string; filename: string } | null;
  sleep: (ms: number) => Promise<void>;
  /** The number's policy (issue 13): ask WAHA whether the contact is on WhatsApp first (once per contact). */
  checkExists?: boolean;
  /** With a number's `typing` on: sendSeen, startTyping for this long, stopTyping, then the send. Null: no typing. */
  typingMs?: number | null;
}

export interface Delivery {
  /** What the row becomes; null = leave it `sending` (WAHA cannot answer now; recovery settles it later). */
  outcome: RecipientOutcome | null;
  /** The attempt token the row carries now (retries count attempts). */
  attempts: number;
  /** Something may have reached the recipient: the number's pacing delay applies. */
  mayHaveSent: boolean;
  /** The campaign must pause (the recipient is not lost: it stays pending or sending). */
  pause?: { reason: PauseReason; error: string; until?: Date | null };
}

/**
 * A message WAHA kept failing with its own errors (5xx) while confirming it does not have it, over
 * this many counted attempts (a few resumes), fails: it is this message, not an outage.
 */
export const FAIL_AFTER_COUNTED_ATTEMPTS = 9;

export function backoffMs(policy: RetryPolicy, retry: number): number {
  const base = policy.baseDelayMs * 2 ** Math.max(0, retry - 1);
  const jitter = 0.8 + Math.random() * 0.4;
  return Math.min(30_000, Math.round(base * jitter));
}

/** The longest a run may sleep between two attempts of one message (bounds how long it holds the slot). */
export function maxBackoffMs(policy: RetryPolicy): number {
  let total = 0;
  for (let retry = 1; retry <= policy.attempts; retry++) total = Math.max(total, Math.min(30_000, Math.round(policy.baseDelayMs * 2 ** (retry - 1) * 1.2)));
  return total;
}

export async function deliver(ctx: DeliveryContext, recipient: SendingRecipient, startedAtMs: number): Promise<Delivery> {
  const { db, client, key, retry } = ctx;
  const maxAttempts = Math.max(1, retry.attempts);
  const trustedId = recipient.wahaMessageId; // fixed by WAHA's new-message-id: lookups by it are authoritative
  let chatId = recipient.chatId;
  if (ctx.checkExists) {
    try {
      const check = await checkRecipientChat(db, client, ctx.session, recipient);
      if (!check.onWhatsapp) {
        return { outcome: { status: "skipped", reason: NOT_ON_WHATSAPP, error: "This number is not on WhatsApp (WAHA's check-exists)" }, attempts: recipient.attempts, mayHaveSent: false };
      }
      chatId = check.chatId;
    } catch (error) {
      if (!(error instanceof WahaError)) throw error;
      // Nothing was sent: the recipient waits, and the campaign pauses like for a failed send.
      const reason = pauseReasonFor(error) ?? PAUSE_REASONS.wahaUnavailable;
      return { outcome: { status: "pending", error: error.message, uncounted: true }, attempts: recipient.attempts, mayHaveSent: false, pause: { reason, error: error.message } };
    }
  }
  if (ctx.typingMs !== undefined && ctx.typingMs !== null) await showTyping(ctx, chatId, ctx.typingMs);
  const target = { chatId, renderedText: recipient.renderedText, wahaMessageId: trustedId, sendingStartedAtMs: startedAtMs };
  let attempts = recipient.attempts;
  let lastError: WahaError | null = null;
  /** The last attempt may have reached WAHA: look before sending again. */
  let maybeAccepted = false;
  /** Whether the last attempt, and any attempt, may have reached WAHA (one that provably did not is not counted). */
  let lastReachedWaha = false;
  let anyReachedWaha = false;

  const send = async (): Promise<string> => {
    const common = { session: ctx.session, chatId, ...(trustedId ? { messageId: trustedId } : {}) };
    const answer = ctx.media
      ? await client.sendImage({ ...common, file: ctx.media, caption: recipient.renderedText })
      : await client.sendText({ ...common, text: recipient.renderedText });
    return answer.messageId;
  };

  /** The campaign is no longer ours mid-retry: settle the row as well as we can and stop. */
  const abandon = async (): Promise<Delivery> => {
    if (!maybeAccepted) return { outcome: { status: "pending", error: lastError?.message ?? null, uncounted: !anyReachedWaha }, attempts, mayHaveSent: false };
    const found = await lookupMessage(client, ctx.session, target);
    if (found.kind === "sent") return { outcome: { status: "sent", wahaMessageId: found.wahaMessageId, ack: found.ack }, attempts, mayHaveSent: true };
    if (found.kind === "absent") return { outcome: { status: "pending", error: lastError?.message ?? null }, attempts, mayHaveSent: false };
    if (found.kind === "unknown") return { outcome: { status: "unknown", error: found.reason }, attempts, mayHaveSent: true };
    return { outcome: null, attempts, mayHaveSent: true };
  };

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) {
      await ctx.sleep(backoffMs(retry, attempt - 1));
      if (maybeAccepted) {
        // Still ours? (the look-up itself is harmless, but the answer is only ours to act on if so)
        if (!(await refreshSending(db, key, { id: recipient.id, attempts }, false))) return abandon();
        const found = await lookupMessage(client, ctx.session, target);
        if (found.kind === "sent") return { outcome: { status: "sent", wahaMessageId: found.wahaMessageId, ack: found.ack }, attempts, mayHaveSent: true };
        if (found.kind === "session_unavailable") {
          return { outcome: null, attempts, mayHaveSent: true, pause: { reason: pauseReasonFor(found.error) ?? PAUSE_REASONS.sessionNotWorking, error: found.error.message } };
        }
        if (found.kind === "unknown") {
          if (!found.retryable) return { outcome: { status: "unknown", error: found.reason }, attempts, mayHaveSent: true };
          continue; // WAHA could not answer: ask again after the next backoff; never send while unsure
        }
        maybeAccepted = false; // WAHA does not have it: sending the same id again is safe
      }
      // An attempt that provably never reached WAHA is not counted (the token stays as it is).
      const refreshed = await refreshSending(db, key, { id: recipient.id, attempts }, lastReachedWaha);
      if (!refreshed) return abandon();
      attempts = refreshed.attempts;
    }

    try {
      const messageId = await send();
      return { outcome: { status: "sent", wahaMessageId: messageId }, attempts, mayHaveSent: true };
    } catch (error) {
      if (!(error instanceof WahaError)) throw error;
      const failure = describeSendFailure(error);
      const failureClass = failure.kind;
      if (failure.kind === "restricted") {
        // WhatsApp refused the number itself: nothing was sent; stop the number before it gets worse.
        const detail = `WhatsApp restricts this number: ${failure.reason}${failure.until ? ` (until ${failure.until.toISOString()})` : ""}`;
        return {
          outcome: { status: "pending", error: error.message, uncounted: !anyReachedWaha },
          attempts,
          mayHaveSent: false,
          pause: { reason: PAUSE_REASONS.numberRestricted, error: detail, until: failure.until },
        };
      }
      if (failureClass === "session") {
        // WAHA refused before sending (422 / 404 / 401): the recipient waits for the resume.
        const reason = pauseReasonFor(error) ?? PAUSE_REASONS.sessionNotWorking;
        return { outcome: { status: "pending", error: error.message }, attempts, mayHaveSent: false, pause: { reason, error: error.message } };
      }
      if (failureClass === "rejected") {
        return { outcome: { status: "failed", error: error.message }, attempts, mayHaveSent: false };
      }
      lastError = error;
      maybeAccepted = failureClass === "outcome_unknown";
      lastReachedWaha = maybeAccepted;
      anyReachedWaha ||= maybeAccepted;
      if (maybeAccepted && !trustedId) {
        // Without a message id WAHA honours, a resend could be a duplicate: settle now or call it unknown.
        await ctx.sleep(backoffMs(retry, 1));
        const found = await lookupMessage(client, ctx.session, target);
        if (found.kind === "sent") return { outcome: { status: "sent", wahaMessageId: found.wahaMessageId, ack: found.ack }, attempts, mayHaveSent: true };
        const reason = found.kind === "unknown" ? found.reason : error.message;
        return { outcome: { status: "unknown", error: `${error.message}; ${reason}` }, attempts, mayHaveSent: true };
      }
    }
  }

  const failure = lastError?.message ?? "WAHA did not accept the message";
  if (maybeAccepted) {
    await ctx.sleep(backoffMs(retry, maxAttempts));
    const found = await lookupMessage(client, ctx.session, target);
    if (found.kind === "sent") return { outcome: { status: "sent", wahaMessageId: found.wahaMessageId, ack: found.ack }, attempts, mayHaveSent: true };
    if (found.kind === "unknown" && found.retryable) {
      // WAHA went away before it could say: the row stays `sending` and recovery asks again on resume.
      return { outcome: null, attempts, mayHaveSent: true, pause: { reason: PAUSE_REASONS.wahaUnavailable, error: `${failure}; ${found.reason}` } };
    }
    if (found.kind === "unknown") return { outcome: { status: "unknown", error: `${failure}; ${found.reason}` }, attempts, mayHaveSent: true };
    if (found.kind === "session_unavailable") {
      return { outcome: null, attempts, mayHaveSent: true, pause: { reason: pauseReasonFor(found.error) ?? PAUSE_REASONS.sessionNotWorking, error: found.error.message } };
    }
  }
  if (anyReachedWaha && attempts >= FAIL_AFTER_COUNTED_ATTEMPTS) {
    return { outcome: { status: "failed", error: `${failure} (after ${attempts} attempts)` }, attempts, mayHaveSent: false };
  }
  // WAHA cannot take messages now (unreachable, or failing with its own errors): not this
  // recipient's fault. It waits, pending, and the campaign pauses until WAHA answers again.
  return {
    outcome: { status: "pending", error: failure, uncounted: !anyReachedWaha },
    attempts,
    mayHaveSent: false,
    pause: { reason: PAUSE_REASONS.wahaUnavailable, error: failure },
  };
}

/**
 * Looks like a person (WAHA's "how to avoid blocking"): read the chat, type for a while, stop, then
 * the send. Best effort: a failing indicator call does not stop the message (the send says whether
 * WAHA can take it).
 */
async function showTyping(ctx: DeliveryContext, chatId: string, typingMs: number): Promise<void> {
  const chat = { session: ctx.session, chatId };
  try {
    await ctx.client.sendSeen(chat);
    await ctx.client.startTyping(chat);
    await ctx.sleep(typingMs);
    await ctx.client.stopTyping(chat);
  } catch (error) {
    if (!(error instanceof WahaError)) throw error;
  }
}
