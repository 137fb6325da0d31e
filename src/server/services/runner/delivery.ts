/**
 * Sends one recipient's message (the recipient is already `sending` under our slot, with its message
 * id fixed) and decides what the row becomes. Retries transient failures with bounded backoff, but a
 * failure that may have reached WAHA (timeout, 5xx, reset) is settled by looking the message up
 * first: the same message id is only sent again once WAHA says it does not have it.
 */
import type { Db } from "~/server/db/client";
import { type WahaApiClient, WahaError } from "../wahaClient";
import { lookupMessage } from "./lookup";
import { type RecipientOutcome, type SendingRecipient, type SlotKey, refreshSending } from "./sendSlot";

export const PAUSE_REASONS = {
  sessionNotWorking: "session_not_working",
  sessionNotFound: "session_not_found",
  unauthorized: "waha_unauthorized",
  wahaUnavailable: "waha_unavailable",
} as const;
export type PauseReason = (typeof PAUSE_REASONS)[keyof typeof PAUSE_REASONS];

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
}

export interface Delivery {
  /** What the row becomes; null = leave it `sending` (WAHA cannot answer now; recovery settles it later). */
  outcome: RecipientOutcome | null;
  /** The attempt token the row carries now (retries count attempts). */
  attempts: number;
  /** Something may have reached the recipient: the number's pacing delay applies. */
  mayHaveSent: boolean;
  /** The campaign must pause (the recipient is not lost: it stays pending or sending). */
  pause?: { reason: PauseReason; error: string };
  /** Every attempt failed transiently and WAHA confirmed it has no such message. */
  exhausted?: boolean;
}

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

/** A WAHA refusal that concerns the session or the configuration, not this message. */
export function pauseReasonFor(error: WahaError): PauseReason | null {
  switch (error.kind) {
    case "session_not_working":
      return PAUSE_REASONS.sessionNotWorking;
    case "session_not_found":
      return PAUSE_REASONS.sessionNotFound;
    case "unauthorized":
      return PAUSE_REASONS.unauthorized;
    default:
      return null;
  }
}

export async function deliver(ctx: DeliveryContext, recipient: SendingRecipient, startedAtMs: number): Promise<Delivery> {
  const { db, client, key, retry } = ctx;
  const maxAttempts = Math.max(1, retry.attempts);
  const trustedId = recipient.wahaMessageId; // fixed by WAHA's new-message-id: lookups by it are authoritative
  const target = { chatId: recipient.chatId, renderedText: recipient.renderedText, wahaMessageId: trustedId, sendingStartedAtMs: startedAtMs };
  let attempts = recipient.attempts;
  let lastError: WahaError | null = null;
  /** The last attempt may have reached WAHA: look before sending again. */
  let maybeAccepted = false;

  const send = async (): Promise<string> => {
    const common = { session: ctx.session, chatId: recipient.chatId, ...(trustedId ? { messageId: trustedId } : {}) };
    const answer = ctx.media
      ? await client.sendImage({ ...common, file: ctx.media, caption: recipient.renderedText })
      : await client.sendText({ ...common, text: recipient.renderedText });
    return answer.messageId;
  };

  /** The campaign is no longer ours mid-retry: settle the row as well as we can and stop. */
  const abandon = async (): Promise<Delivery> => {
    if (!maybeAccepted) return { outcome: { status: "pending", error: lastError?.message ?? null }, attempts, mayHaveSent: false };
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
      const refreshed = await refreshSending(db, key, { id: recipient.id, attempts }, true);
      if (!refreshed) return abandon();
      attempts = refreshed.attempts;
    }

    try {
      const messageId = await send();
      return { outcome: { status: "sent", wahaMessageId: messageId }, attempts, mayHaveSent: true };
    } catch (error) {
      if (!(error instanceof WahaError)) throw error;
      const pauseReason = pauseReasonFor(error);
      if (pauseReason) {
        // WAHA refused before sending (422 / 404 / 401): the recipient waits for the resume.
        return { outcome: { status: "pending", error: error.message }, attempts, mayHaveSent: false, pause: { reason: pauseReason, error: error.message } };
      }
      if (error.kind === "invalid_request") {
        return { outcome: { status: "failed", error: error.message }, attempts, mayHaveSent: false };
      }
      lastError = error;
      maybeAccepted = error.outcomeUnknown;
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
    if (found.kind === "unknown") return { outcome: { status: "unknown", error: `${failure}; ${found.reason}` }, attempts, mayHaveSent: true };
    if (found.kind === "session_unavailable") {
      return { outcome: null, attempts, mayHaveSent: true, pause: { reason: pauseReasonFor(found.error) ?? PAUSE_REASONS.sessionNotWorking, error: found.error.message } };
    }
  }
  return {
    outcome: { status: "failed", error: `${failure} (after ${maxAttempts} attempts)` },
    attempts,
    mayHaveSent: false,
    exhausted: true,
  };
}
