/**
 * WAHA's webhooks: `session.status` keeps each number's status current between page loads, and
 * `message.ack` records how far each campaign message got (server, device, read). WAHA may deliver
 * an event twice: each event id is handled once. With a key configured, unsigned or wrongly signed
 * deliveries are refused (X-Webhook-Hmac: hex HMAC-SHA512 of the raw body).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { and, eq, isNull, lt, lte, or } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { campaignRecipients, webhookEvents, whatsappSessions } from "../db/schema";
import { childLogger } from "../logger";
import { AppError } from "./errors";

const log = childLogger("waha-webhooks");

const eventSchema = z.object({
  id: z.string().min(1).max(200),
  /** Milliseconds since the epoch, when WAHA raised the event. */
  timestamp: z.number().optional(),
  event: z.string(),
  session: z.string(),
  payload: z.unknown(),
});
const sessionStatusPayload = z.object({ status: z.string() });
const ackPayload = z.object({ id: z.string(), ack: z.number().int().min(-1).max(4) });

export type WebhookOutcome = "handled" | "duplicate" | "ignored";

export function verifyWebhookSignature(rawBody: string, signature: string | undefined, key: string): boolean {
  if (!signature) return false;
  const expected = createHmac("sha512", key).update(rawBody).digest();
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function handleWahaWebhook(
  db: Db,
  input: {
    rawBody: string;
    signature: string | undefined;
    hmacKey: string | null;
    /** After a `session.status` was stored: a number back to WORKING resumes its outage-paused campaigns. */
    onSessionStatus?: (wahaSessionName: string, status: string) => Promise<void>;
  },
): Promise<WebhookOutcome> {
  if (input.hmacKey && !verifyWebhookSignature(input.rawBody, input.signature, input.hmacKey)) {
    throw new AppError("UNAUTHORIZED", "The webhook signature (X-Webhook-Hmac) is missing or wrong");
  }
  let parsed: z.infer<typeof eventSchema>;
  try {
    parsed = eventSchema.parse(JSON.parse(input.rawBody));
  } catch {
    throw new AppError("BAD_REQUEST", "Not a WAHA webhook event: expected JSON with id, event, session and payload");
  }
  const [fresh] = await db.insert(webhookEvents).values({ eventId: parsed.id }).onConflictDoNothing().returning();
  if (!fresh) return "duplicate";

  if (parsed.event === "session.status") {
    const payload = sessionStatusPayload.safeParse(parsed.payload);
    if (!payload.success) return "ignored";
    // Deliveries may overtake each other: an event older than what we stored changes nothing.
    const raisedAt = parsed.timestamp ? new Date(parsed.timestamp) : new Date();
    await db
      .update(whatsappSessions)
      .set({ status: payload.data.status, statusCheckedAt: raisedAt })
      .where(
        and(
          eq(whatsappSessions.wahaSessionName, parsed.session),
          or(isNull(whatsappSessions.statusCheckedAt), lte(whatsappSessions.statusCheckedAt, raisedAt)),
        ),
      );
    // The status is stored; resuming its campaigns is best effort (the periodic checks do it anyway).
    await input.onSessionStatus?.(parsed.session, payload.data.status).catch((error: unknown) =>
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not resume campaigns after a session.status webhook"),
    );
    return "handled";
  }
  if (parsed.event === "message.ack") {
    const payload = ackPayload.safeParse(parsed.payload);
    if (!payload.success) return "ignored";
    const { id, ack } = payload.data;
    // Acks can arrive out of order: keep the furthest one (ERROR always wins).
    await db
      .update(campaignRecipients)
      .set({ ack, ackAt: new Date() })
      .where(
        and(
          eq(campaignRecipients.wahaMessageId, id),
          ack < 0 ? undefined : or(isNull(campaignRecipients.ack), lt(campaignRecipients.ack, ack)),
        ),
      );
    return "handled";
  }
  return "ignored";
}
