/**
 * WAHA's webhooks: `session.status` keeps each number's status current between page loads, and
 * `message.ack` records how far each campaign message got (server, device, read), and `message`
 * stores a contact's reply, attributes it to a campaign and applies an opt-out keyword
 * (replies/inboundMessages.ts).
 *
 * Every delivery must be signed (X-Webhook-Hmac: 128 hex characters, HMAC-SHA512 of the raw body
 * bytes with the configured key) and raised within `TIMESTAMP_WINDOW_MS` of this server's clock.
 * WAHA may deliver an event twice: each event id is handled once, and recording the id and applying
 * its effect happen in one transaction, so a failed apply leaves no id behind and WAHA's retry is
 * applied. Ids are kept `EVENT_RETENTION_MS` (far beyond the window), then pruned by the sweep.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { and, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { campaignRecipients, campaigns, webhookEvents, whatsappSessions } from "../db/schema";
import { childLogger } from "../logger";
import { AppError } from "./errors";
import { type OptedOutByReply, applyInboundMessage } from "./replies/inboundMessages";
import { pauseOnFailedAcks } from "./runner/restrictions";

const log = childLogger("waha-webhooks");

/** An event raised further than this from our clock is refused: a replay, or a clock to fix. */
export const TIMESTAMP_WINDOW_MS = 15 * 60_000;
/** Event ids are kept this long for deduplication; older ones are pruned by the sweep. */
export const EVENT_RETENTION_MS = 7 * 24 * 3_600_000;

const SIGNATURE_PATTERN = /^[0-9a-f]{128}$/i;

const eventSchema = z.object({
  id: z.string().min(1).max(200),
  /** Milliseconds since the epoch, when WAHA raised the event (required in WAHA's schema). */
  timestamp: z.number(),
  event: z.string().max(100),
  session: z.string().max(200),
  payload: z.unknown(),
});
const sessionStatusPayload = z.object({ status: z.string().max(64) });
/** Why a sent recipient became `failed`: WhatsApp's ack −1 (issue 14). */
export const ACK_ERROR_REASON = "WhatsApp reported an error for this message after it was sent (ack -1 ERROR): it was not delivered";
const ackPayload = z.object({ id: z.string().max(500), ack: z.number().int().min(-1).max(4) });

export type WebhookOutcome = "handled" | "duplicate" | "ignored";

/** True when `signature` is exactly the hex HMAC-SHA512 of the raw body bytes: no prefix, no suffix, no junk. */
export function verifyWebhookSignature(rawBody: Buffer, signature: string | undefined, key: string): boolean {
  if (!signature || !SIGNATURE_PATTERN.test(signature)) return false;
  const expected = createHmac("sha512", key).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(signature, "hex"), expected);
}

export async function handleWahaWebhook(
  db: Db,
  input: {
    rawBody: Buffer;
    signature: string | undefined;
    /** X-Webhook-Hmac-Algorithm: WAHA sends `sha512`; any other algorithm named is refused. */
    algorithm?: string | undefined;
    /** The default server's key (WAHA_WEBHOOK_SECRET): numbers on it, and sessions we do not know. */
    hmacKey: string;
    /**
     * Issue 15: the key of the registered WAHA server holding this session, null for the default
     * server's. An event about a number on server S verifies with S's key only, never the default.
     */
    keyForSession?: (wahaSessionName: string) => Promise<string | null>;
    now?: Date;
    /** After a `session.status` was stored: a number back to WORKING resumes its outage-paused campaigns. */
    onSessionStatus?: (wahaSessionName: string, status: string) => Promise<void>;
    /** After a reply opted its contact out (committed) and the workspace has a confirmation to send. */
    onOptedOut?: (optOut: OptedOutByReply) => Promise<unknown>;
  },
): Promise<WebhookOutcome> {
  if (input.algorithm !== undefined && input.algorithm.toLowerCase() !== "sha512") {
    throw new AppError("UNAUTHORIZED", `The webhook is signed with "${input.algorithm.slice(0, 20)}"; configure WAHA's webhook hmac so that it signs with sha512`);
  }
  // The session named in the (still unverified) body only chooses which key must have signed it.
  const named = input.keyForSession ? sessionNamed(input.rawBody) : null;
  const serverKey = named !== null && input.keyForSession ? await input.keyForSession(named) : null;
  if (!verifyWebhookSignature(input.rawBody, input.signature, serverKey ?? input.hmacKey)) {
    throw new AppError(
      "UNAUTHORIZED",
      serverKey
        ? "The webhook signature (X-Webhook-Hmac) is missing or wrong: this number's WAHA server signs with its own key; run `npm run cli -- sign-webhooks` to configure it on the server's sessions"
        : "The webhook signature (X-Webhook-Hmac) is missing or wrong: WAHA's webhook hmac.key must be this app's WAHA_WEBHOOK_SECRET (or AUTH_SECRET)",
    );
  }
  const event = parseEvent(input.rawBody);
  const now = input.now ?? new Date();
  if (!Number.isFinite(event.timestamp) || Math.abs(event.timestamp - now.getTime()) > TIMESTAMP_WINDOW_MS) {
    throw new AppError(
      "BAD_REQUEST",
      `The event's timestamp must be milliseconds since the epoch within ${TIMESTAMP_WINDOW_MS / 60_000} minutes of this server's clock: a replay, or a clock to set right (NTP)`,
      "timestamp",
    );
  }
  const raisedAt = new Date(event.timestamp);

  let optedOut: OptedOutByReply | null = null;
  const outcome = await db.transaction(async (tx) => {
    const [fresh] = await tx.insert(webhookEvents).values({ eventId: event.id }).onConflictDoNothing().returning();
    if (!fresh) return "duplicate" as const;
    if (event.event === "session.status") return applySessionStatus(tx, event.session, event.payload, raisedAt);
    if (event.event === "message.ack") return applyAck(tx, event.session, event.payload, now);
    if (event.event === "message") {
      const inbound = await applyInboundMessage(tx, event.session, event.payload, now);
      if (inbound.kind === "ignored") return "ignored" as const;
      optedOut = inbound.optedOut;
      return "handled" as const;
    }
    return "ignored" as const;
  });

  if (outcome === "handled" && event.event === "session.status" && input.onSessionStatus) {
    const { status } = sessionStatusPayload.parse(event.payload);
    // The status is stored; resuming its campaigns is best effort (the periodic checks do it anyway).
    await input.onSessionStatus(event.session, status).catch((error: unknown) => log.warn({ err: error }, "could not resume campaigns after a session.status webhook"));
  }
  // The opt-out is committed; its confirmation is best effort (an opt-out only ever changes once, so it goes at most once).
  const confirmation: OptedOutByReply | null = optedOut;
  if (confirmation && input.onOptedOut) {
    await input.onOptedOut(confirmation).catch((error: unknown) => log.warn({ err: error }, "could not send the opt-out confirmation"));
  }
  return outcome;
}

/** Old event ids go: an event that old is outside the timestamp window, so it is refused anyway. */
export async function pruneWebhookEvents(db: Db, now: Date = new Date()): Promise<number> {
  const pruned = await db
    .delete(webhookEvents)
    .where(lt(webhookEvents.receivedAt, new Date(now.getTime() - EVENT_RETENTION_MS)))
    .returning({ eventId: webhookEvents.eventId });
  return pruned.length;
}

/** The `session` of a body not yet verified; null when it has none (it is then refused as unsigned or malformed). */
function sessionNamed(rawBody: Buffer): string | null {
  try {
    const session = (JSON.parse(rawBody.toString("utf8")) as { session?: unknown } | null)?.session;
    return typeof session === "string" && session.length <= 200 ? session : null;
  } catch {
    return null;
  }
}

function parseEvent(rawBody: Buffer): z.infer<typeof eventSchema> {
  try {
    return eventSchema.parse(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(rawBody)));
  } catch {
    throw new AppError("BAD_REQUEST", "Not a WAHA webhook event: expected UTF-8 JSON with id, timestamp (ms), event, session and payload");
  }
}

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

async function applySessionStatus(tx: Tx, wahaSessionName: string, payload: unknown, raisedAt: Date): Promise<WebhookOutcome> {
  const parsed = sessionStatusPayload.safeParse(payload);
  if (!parsed.success) return "ignored";
  // Deliveries may overtake each other: an event older than what we stored changes nothing.
  await tx
    .update(whatsappSessions)
    .set({ status: parsed.data.status, statusCheckedAt: raisedAt })
    .where(
      and(
        eq(whatsappSessions.wahaSessionName, wahaSessionName),
        or(isNull(whatsappSessions.statusCheckedAt), lte(whatsappSessions.statusCheckedAt, raisedAt)),
      ),
    );
  return "handled";
}

/**
 * The ids a recipient row may hold for the message an ack names. The take stores the raw id WAHA's
 * new-message-id gave (`3EB0…`) and the settle, once the send answered, the serialized one
 * (`true_<chat>_<raw>`, as acks name it): an ack that arrives in between (WAHA's SERVER ack comes within
 * milliseconds) must still find the row, or it is lost. Raw ids are random, and the number is checked.
 */
export function ackedMessageIds(id: string): string[] {
  const raw = /^true_[^_]+@[^_]+_([^_]+)$/.exec(id)?.[1];
  return raw && raw !== id ? [id, raw] : [id];
}

async function applyAck(tx: Tx, wahaSessionName: string, payload: unknown, now: Date): Promise<WebhookOutcome> {
  const parsed = ackPayload.safeParse(payload);
  if (!parsed.success) return "ignored";
  const { id, ack } = parsed.data;
  // Only the event's own number's messages: a message id alone could name another number's message.
  // A correlated scalar subquery (never flattened into a join) keeps the message id index as the only
  // way in, whatever the statistics say: a join could scan a whole 1,000,000-recipient campaign per ack.
  // Issue 15: the number that sent it (the recipient's), else the campaign's first (rows sent before).
  const sessionOfRecipient = sql`(select ${whatsappSessions.wahaSessionName} from ${whatsappSessions} where ${whatsappSessions.id} = coalesce(${campaignRecipients.sessionId}, (select ${campaigns.sessionId} from ${campaigns} where ${campaigns.id} = ${campaignRecipients.campaignId})))`;
  // Acks can arrive out of order: keep the furthest one (ERROR always wins).
  // Issue 14, outcomes: an ERROR after sending makes the recipient `failed`, with the reason (so a
  // retry-failed campaign resends it); any other ack proves an `unknown` send went out (`sent`).
  const status = campaignRecipients.status;
  const acked = await tx
    .update(campaignRecipients)
    .set({
      ack,
      ackAt: now,
      ...(ack < 0
        ? {
            status: sql`case when ${status} in ('sent', 'unknown') then 'failed' else ${status} end::recipient_status`,
            lastError: sql`case when ${status} in ('sent', 'unknown') then ${ACK_ERROR_REASON} else ${campaignRecipients.lastError} end`,
          }
        : ack >= 1
          ? { status: sql`case when ${status} = 'unknown' then 'sent' else ${status} end::recipient_status` }
          : {}),
    })
    .where(
      and(
        inArray(campaignRecipients.wahaMessageId, ackedMessageIds(id)),
        eq(sessionOfRecipient, wahaSessionName),
        ack < 0 ? undefined : or(isNull(campaignRecipients.ack), lt(campaignRecipients.ack, ack)),
      ),
    )
    .returning({ campaignId: campaignRecipients.campaignId, sessionId: campaignRecipients.sessionId });
  // Issue 13: messages coming back with an error, one after another, stop the number before a ban.
  if (ack < 0 && acked[0]) await pauseOnFailedAcks(tx, acked[0].campaignId, acked[0].sessionId);
  return "handled";
}
